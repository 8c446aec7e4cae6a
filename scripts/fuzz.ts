// The longer fuzz run of the parsers (the test suite runs a bounded one: test/fuzz.test.ts).
//
//   node build/scripts/fuzz.js [--iterations N] [--seed S] [--target NAME[,NAME]] [--only I]
//                              [--per-input-ms MS] [--hang-ms MS] [--heap-mb MB]
//
// Targets: safetensors, checkpoint (shard index), pytorch, config, fasta. Every input is rebuilt
// from (seed, target, index), so a crash is reproduced with the command printed next to it.
// Exits 1 if any input crashed (an untyped error, a failed consistency check, too slow, a hang
// or out of memory), 2 on bad arguments.
import { describeCrash, fuzzTarget, fuzzWorkerMain, isFuzzWorker, summary, TARGETS, type Crash } from '../test/fuzz-targets.js';

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\nusage: node build/scripts/fuzz.js [--iterations N] [--seed S] [--target ${Object.keys(TARGETS).join(',')}] [--only I] [--per-input-ms MS] [--hang-ms MS] [--heap-mb MB]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let iterations = 20000, seed = Date.now() % 2 ** 31, only: number | undefined;
  let targets = Object.keys(TARGETS);
  let perInputMs = 5000, hangMs = 60000, heapMb = 2048;
  const num = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) usage(`${what} needs a non-negative integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--iterations' || a === '-n') iterations = num(args[++i], a);
    else if (a === '--seed' || a === '-s') seed = num(args[++i], a);
    else if (a === '--only') only = num(args[++i], a);
    else if (a === '--per-input-ms') perInputMs = num(args[++i], a);
    else if (a === '--hang-ms') hangMs = num(args[++i], a);
    else if (a === '--heap-mb') heapMb = num(args[++i], a);
    else if (a === '--target' || a === '-t') {
      targets = (args[++i] ?? '').split(',').filter(Boolean);
      for (const t of targets) if (!TARGETS[t]) usage(`unknown target ${t}`);
    } else if (a === '--help' || a === '-h') usage('help');
    else usage(`unknown argument ${a}`);
  }
  if (only !== undefined && only >= iterations) usage(`--only ${only} must be below --iterations ${iterations} (inputs depend on both)`);
  console.log(`fuzz: seed ${seed}, ${only !== undefined ? `input ${only} only` : `${iterations} inputs per target`}, targets ${targets.join(', ')}`);
  const crashes: Crash[] = [];
  for (const t of targets) {
    const r = await fuzzTarget(t, {
      seed, iterations, only, perInputMs, hangMs, heapMb,
      workerUrl: new URL(import.meta.url),
      onCrash: (c) => console.log(`  CRASH ${describeCrash(c, seed, iterations)}`),
    });
    console.log(summary(r));
    crashes.push(...r.crashes);
  }
  console.log(crashes.length ? `\n${crashes.length} crashes (seed ${seed})` : `\nno crashes (seed ${seed})`);
  process.exit(crashes.length ? 1 : 0);
}

if (isFuzzWorker()) await fuzzWorkerMain();
else await main();
