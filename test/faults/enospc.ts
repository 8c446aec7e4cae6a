// Preloaded into a `prott5` process by a test (node --import): the disk is full after
// FAULT_ENOSPC_AFTER_BYTES bytes written to files whose name ends in FAULT_ENOSPC_SUFFIX
// (default ".partial"): that write and every later one fails with ENOSPC, as on a full
// filesystem; with FAULT_ENOSPC_ONCE=1 only that one write fails (space freed at once after),
// which leaves a dataset created but its data never written in a file that still closes. h5wasm (emscripten's NODERAWFS) writes through node:fs's writeSync, patched here.
import { hookWrites } from './fd-hooks.js';

const limit = Number(process.env.FAULT_ENOSPC_AFTER_BYTES);
const suffix = process.env.FAULT_ENOSPC_SUFFIX ?? '.partial';
if (!(limit >= 0)) throw new Error('enospc preload: set FAULT_ENOSPC_AFTER_BYTES');

let written = 0;
let failed = false;
const once = process.env.FAULT_ENOSPC_ONCE === '1';

hookWrites(
  (path) => (path.endsWith(suffix) ? true : undefined),
  (fd, _tag, buffer, rest, write) => {
    const length = typeof buffer === 'string' ? Buffer.byteLength(buffer) : typeof rest[1] === 'number' ? rest[1] : buffer.byteLength;
    if (written + length > limit && !(once && failed)) {
      failed = true;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    written += length;
    return write(fd, buffer, ...rest);
  },
);
