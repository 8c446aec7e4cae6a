// `npm run bench` entry: runs bench/bench.ts with the command line's options.
import { runBench } from './bench.js';

await runBench(process.argv.slice(2));
// Dawn keeps the event loop alive.
process.exit(0);
