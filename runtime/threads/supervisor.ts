/**
 * The supervisor of `train({ threads })`'s workers (pool.ts, docs/scale-out.md): one more worker
 * thread, started by the pool, that starts the shard workers (worker.ts) as its own children and
 * watches them. The main thread waits for the workers synchronously (Atomics.wait), so it never
 * sees a Worker's 'exit' event while `train` runs; a worker that ends without running JavaScript
 * — `process.exit` in a module's code, an out-of-memory kill, `terminate()` — would leave it, and
 * the other workers at the step's barrier, waiting for ever. This thread's event loop stays free:
 * when a child ends before the pool asked it to (OP_EXIT), it records the failure as a shard's
 * failure (FAILED and the message, as a worker that throws does) and releases every waiter, so
 * that the main thread throws "training thread k failed: …" and closes the pool.
 *
 * It sleeps in its event loop between events: no per-step cost. Like worker.ts it imports nothing
 * of nnc's own at run time (pool.ts may start it from a data: URL); it takes the control cells and
 * `fail` from the shard worker's script itself, whose URL it is given.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type * as Shards from "./worker.js";

export interface SupervisorSetup {
  readonly role: "nnc-supervisor";
  /** the shard workers' script (worker.ts or its build), a file: or data: URL */
  readonly script: string;
  /** shard 0's setup: child k gets it with index k */
  readonly setup: Shards.ShardSetup;
  /** the first shard a child runs (1 when the main thread runs shard 0) */
  readonly first: number;
}

/** what the pool may post: end child thread k from outside (ShardPool.terminateThread, for tests) */
export interface SupervisorMessage {
  readonly terminate: number;
}

/** how often a failure's release is repeated until the pool closes (see `release`) */
const RELEASE_EVERY_MS = 20;

async function supervise({ script, setup, first }: SupervisorSetup): Promise<void> {
  const shards = (await import(script)) as typeof Shards;
  const control = new Int32Array(setup.control);
  const step = new Float64Array(setup.step);
  const closing = () => step[shards.STEP_OP] === shards.OP_EXIT;
  let repeat: ReturnType<typeof setInterval> | undefined;
  // More than every count a wait can be for, added to the workers' DONE (the main thread's wait)
  // and ARRIVED (the barrier). Repeated until the pool closes: the main thread zeroes both cells
  // when it starts a step, and a thread that ends between two steps may be seen before that.
  const release = () => {
    if (closing()) return clearInterval(repeat);
    Atomics.add(control, shards.DONE, setup.threads);
    Atomics.add(control, shards.ARRIVED, setup.threads);
    Atomics.notify(control, shards.DONE);
    Atomics.notify(control, shards.ARRIVED);
  };
  /** `byTheSystem`: the thread was ended (exit, Node's own error such as out of memory), not by an exception of its code */
  const ended = (k: number, why: unknown, byTheSystem: boolean) => {
    if (closing()) return;
    // the first failure's message is kept (a child that threw has already written its own)
    const first = Atomics.load(control, shards.FAILED) === 0;
    shards.fail({ ...setup, index: k }, control, why);
    // the kind of the failure reported: this one's, if it is the first
    if (byTheSystem && first && Atomics.load(control, shards.FAILED) === k + 1) Atomics.store(control, shards.ENDED, 1);
    release();
    repeat ??= setInterval(release, RELEASE_EVERY_MS);
  };
  // by shard index
  const children: Worker[] = [];
  for (let k = first; k < setup.threads; k++) {
    try {
      const child = new Worker(new URL(script), { workerData: { ...setup, index: k } satisfies Shards.ShardSetup });
      // Node's own errors (ERR_WORKER_OUT_OF_MEMORY) by their message: their stack is Node's
      child.on("error", (e: Error & { code?: unknown }) => (typeof e.code === "string" ? ended(k, String(e), true) : ended(k, e, false)));
      child.on("exit", (code) => ended(k, `the thread ended unexpectedly (exit code ${code})`, true));
      children[k] = child;
    } catch (e) {
      ended(k, e, true);
    }
  }
  parentPort!.on("message", (m: SupervisorMessage) => void children[m.terminate]?.terminate());
  // the children keep this thread alive, not the pool's port
  parentPort!.unref();
}

const given = workerData as SupervisorSetup | undefined;
if (!isMainThread && given?.role === "nnc-supervisor") void supervise(given);
