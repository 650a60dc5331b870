/**
 * How `train({ threads })` starts its threads, without the runtime's core importing Node: the pool
 * (pool.ts, worker_threads) registers itself here when it is imported — by the Node entry
 * (runtime/index.ts) and the CLI. Imported from the core alone (a browser's worker), no pool is
 * registered and `threads` > 1 is a usage error.
 */
import type { ShardPool } from "./pool.js";
import { NncUsageError } from "../usage.js";

export interface ThreadsProvider {
  /** the pool of `threads` threads (the arguments of ShardPool's constructor) */
  start(...args: ConstructorParameters<typeof ShardPool>): ShardPool;
  /** a file path as the URL the threads import the module from */
  fileUrl(path: string): string;
}

let provider: ThreadsProvider | null = null;

export function provideThreads(p: ThreadsProvider): void {
  provider = p;
}

export function threadsProvider(): ThreadsProvider {
  if (provider === null) throw new NncUsageError("options.threads", "threads need Node's worker_threads: import train from \"nnc\", not from the runtime's core");
  return provider;
}
