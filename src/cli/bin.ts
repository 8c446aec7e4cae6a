// The `prott5` executable (dist/cli.js, run by bin/prott5.js): runs main() on the arguments and exits with its code.
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// Dawn keeps the event loop alive; leave explicitly once stdout is drained.
process.stdout.write('', () => process.exit(code));
