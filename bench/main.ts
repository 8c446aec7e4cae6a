// `npm run bench` entry: runs bench/bench.ts with the command line's options.
import { parseArgs } from 'node:util';
import { BENCH_OPTIONS, runBench } from './bench.js';

await runBench(parseArgs({ args: process.argv.slice(2), options: BENCH_OPTIONS }).values);
// Dawn keeps the event loop alive.
process.exit(process.exitCode ?? 0);
