/**
 * The ensemble results of docs/training.md ("Ensembles and MC dropout"), by the commands a user
 * would type: examples/digits.nn trained with seeds 1 … N, each model's test accuracy alone, the
 * ensemble of the N (`nnc predict --weights … --weights …`), and, where `nnc train` has
 * `--snapshots`, a snapshot ensemble per seed (one run with a cosine_restarts schedule, the
 * weights at the end of each of its last cycles). Every command is printed before it runs; the
 * accuracies are read off the confusion matrices `nnc predict` prints (exact counts, not the
 * rounded percentages). Usage:
 *
 *   npm run build && npm run ensemble-digits [-- --seeds 5 --dir /tmp/nnc-ensemble-digits]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "compiler", "cli.js");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const seeds = Array.from({ length: Number(arg("seeds", "5")) }, (_, i) => i + 1);
const dir = arg("dir", join(tmpdir(), "nnc-ensemble-digits"));
/**
 * The snapshot runs: Adam restarted every `period` epochs from `lr` (cosine_restarts, SGDR) for
 * `epochs`, the weights at the end of the last `snapshots` cycles saved; no early stopping (a
 * restart raises the validation loss by design). A larger lr than the example's 0.003, so that the
 * restarts leave the previous minimum (Huang et al. 2017); docs/training.md says what was tried.
 */
const SNAPSHOT = { epochs: 100, period: 20, snapshots: 5, lr: 0.01 };
mkdirSync(dir, { recursive: true });

const model = "examples/digits.nn";
const test = "examples/data/digits-test.csv";
/** a path as the printed commands show it: relative to the project root when inside it */
const rel = (p: string) => (relative(root, p).startsWith("..") ? p : relative(root, p));

/** Runs `nnc args…` from the project root, printing the command; exits on failure. */
function nnc(args: string[]): string {
  const shown = args.map((a) => (/[\s()"]/.test(a) ? `'${a}'` : a)).join(" ");
  console.log(`$ nnc ${shown}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stdout + r.stderr);
    process.exit(1);
  }
  return r.stdout + r.stderr;
}

/** Correct predictions / samples, from the last confusion matrix in a predict report. */
function accuracy(report: string): { correct: number; total: number } {
  const lines = report.split("\n");
  const start = lines.map((l) => l.startsWith("confusion matrix")).lastIndexOf(true);
  let correct = 0;
  let total = 0;
  lines.slice(start + 2).forEach((l, i) => {
    const m = /^\s+(\d+)((?:\s+\d+)+)$/.exec(l);
    if (m === null || Number(m[1]) !== i) return;
    const row = m[2]!.trim().split(/\s+/).map(Number);
    correct += row[i]!;
    total += row.reduce((a, b) => a + b, 0);
  });
  if (total === 0) throw new Error(`no confusion matrix in:\n${report}`);
  return { correct, total };
}

const pct = (a: { correct: number; total: number }) => `${((100 * a.correct) / a.total).toFixed(2)}% (${a.correct}/${a.total})`;
const mean = (xs: { correct: number; total: number }[]) => (100 * xs.reduce((s, a) => s + a.correct / a.total, 0)) / xs.length;

/** The test accuracy, and for an ensemble the nll of each member and of the ensemble (its report's lines). */
function predict(weights: string[], out: string) {
  const report = nnc(["predict", model, ...weights.flatMap((w) => ["--weights", rel(w)]), "--data", test, "-o", rel(join(dir, out))]);
  const nll = [...report.matchAll(/^ {2}(member \d+|ensemble).*nll (\S+)/gm)].map((m) => Number(m[2]));
  return { ...accuracy(report), members: nll.slice(0, -1), nll: nll.at(-1) ?? null };
}

// 1. one model per seed, each alone on the test set
const single = seeds.map((s) => {
  const w = join(dir, `digits.seed${s}.json`);
  nnc(["train", model, "--seed", String(s), "-o", rel(w)]);
  return { seed: s, weights: w, test: predict([w], `predictions.seed${s}.csv`) };
});
// 2. the ensemble of those models
const ensemble = predict(single.map((m) => m.weights), "predictions.ensemble.csv");

// 3. snapshot ensembles, where nnc train has --snapshots
const help = nnc(["train", "--help"]);
const snapshots = /--snapshots/.test(help)
  ? seeds.map((s) => {
      const w = join(dir, `digits.cosine-restarts.seed${s}.json`);
      const { epochs, period, snapshots: k, lr } = SNAPSHOT;
      nnc(["train", model, "--seed", String(s), "--epochs", String(epochs), "--lr", String(lr), "--schedule", `cosine_restarts(period = ${period})`, "--patience", "100000", "--snapshots", String(k), "-o", rel(w)]);
      const snaps = Array.from({ length: k }, (_, i) => w.replace(/\.json$/, `.snap${i + 1}.json`));
      return { seed: s, last: predict([snaps[k - 1]!], `predictions.snap-last.seed${s}.csv`), ensemble: predict(snaps, `predictions.snapshots.seed${s}.csv`), final: predict([w], `predictions.cosine-restarts.seed${s}.csv`) };
    })
  : null;

console.log(`\ndigits (${model}), test set ${test}; weights and predictions in ${dir}`);
for (const m of single) console.log(`  seed ${m.seed}: single model ${pct(m.test)}`);
console.log(`  single model, mean of ${seeds.length} seeds: ${mean(single.map((m) => m.test)).toFixed(2)}%`);
console.log(`  ensemble of the ${seeds.length} seeds: ${pct(ensemble)}`);
console.log(`  test nll (−mean log p of the true class): single models ${ensemble.members.map((v) => v.toFixed(4)).join(", ")} (mean ${(ensemble.members.reduce((a, b) => a + b, 0) / ensemble.members.length).toFixed(4)}); ensemble ${ensemble.nll?.toFixed(4)}`);
if (snapshots === null) console.log(`  snapshot ensemble: not run (this nnc train has no --snapshots)`);
else {
  for (const s of snapshots)
    console.log(`  seed ${s.seed}: lr ${SNAPSHOT.lr}, cosine_restarts(period = ${SNAPSHOT.period}), ${SNAPSHOT.epochs} epochs: the run's weights ${pct(s.final)}, last snapshot alone ${pct(s.last)}, snapshot ensemble of ${SNAPSHOT.snapshots} ${pct(s.ensemble)} (nll ${s.ensemble.nll?.toFixed(4)}; the snapshots alone ${s.ensemble.members.map((v) => v.toFixed(4)).join(", ")})`);
  console.log(`  snapshot ensemble, mean of ${seeds.length} seeds: ${mean(snapshots.map((s) => s.ensemble)).toFixed(2)}% (the runs' weights alone: ${mean(snapshots.map((s) => s.final)).toFixed(2)}%, last snapshot alone: ${mean(snapshots.map((s) => s.last)).toFixed(2)}%)`);
}
