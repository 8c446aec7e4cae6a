// Preloaded into a `prott5` process by a test (node --import): SIGKILLs the process inside its
// FAULT_KILL_AT_WRITE-th write to the output's files on disk (OUT.partial, and the journal
// OUT.partial.journal.tmp that each commit writes first: src/cli/journal.ts): half of that
// write's bytes reach the file, then the process dies, as a kill landing inside a write would
// leave it. Before dying it appends which file it was ("partial" or "journal") to
// FAULT_KILL_REPORT. With FAULT_COUNT_WRITES=FILE it kills nothing and writes the count at exit.
import fs from 'node:fs';
import { hookWrites } from './fd-hooks.js';

const at = Number(process.env.FAULT_KILL_AT_WRITE ?? 0);
const countTo = process.env.FAULT_COUNT_WRITES;
if (!(at > 0) && !countTo) throw new Error('kill-at-write preload: set FAULT_KILL_AT_WRITE (a positive count) or FAULT_COUNT_WRITES');

let writes = 0;

hookWrites<'partial' | 'journal'>(
  (path) => (/\.partial(\.journal\.tmp)?$/.test(path) ? (path.endsWith('.tmp') ? 'journal' : 'partial') : undefined),
  (fd, tag, buffer, rest, write) => {
    if (++writes === at && typeof buffer !== 'string') {
      // offset, length, position as h5wasm passes them: write the first half, then die.
      const [offset = 0, length = buffer.byteLength, position] = rest as [number?, number?, number?];
      const half = Math.floor(length / 2);
      if (half > 0) write(fd, buffer, offset, half, position);
      if (process.env.FAULT_KILL_REPORT) fs.appendFileSync(process.env.FAULT_KILL_REPORT, `${tag}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    return write(fd, buffer, ...rest);
  },
);

if (countTo) process.on('exit', () => fs.writeFileSync(countTo, String(writes)));
