// The `prott5` executable (dist/cli.js, run by bin/prott5.js): runs main() on the arguments and exits with its code.
import { main } from './main.js';

// A closed pipe on stdout or stderr (`prott5 ... 2>&1 | head`) stops the messages, not the run.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

const code = await main(process.argv.slice(2));
// Dawn keeps the event loop alive; leave explicitly once stdout is drained.
process.stdout.write('', () => process.exit(code));
