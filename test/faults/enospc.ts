// Preloaded into a `prott5` process by a test (node --import): the disk is full after
// FAULT_ENOSPC_AFTER_BYTES bytes written to files whose name ends in FAULT_ENOSPC_SUFFIX
// (default ".partial"): that write and every later one fails with ENOSPC, as on a full
// filesystem; with FAULT_ENOSPC_ONCE=1 only that one write fails (space freed at once after),
// which leaves a dataset created but its data never written in a file that still closes. h5wasm (emscripten's NODERAWFS) writes through node:fs's writeSync, patched here.
import fs from 'node:fs';

const limit = Number(process.env.FAULT_ENOSPC_AFTER_BYTES);
const suffix = process.env.FAULT_ENOSPC_SUFFIX ?? '.partial';
if (!(limit >= 0)) throw new Error('enospc preload: set FAULT_ENOSPC_AFTER_BYTES');

const watched = new Set<number>();
let written = 0;
let failed = false;
const once = process.env.FAULT_ENOSPC_ONCE === '1';

const openSync = fs.openSync;
fs.openSync = function (path: fs.PathLike, ...rest: unknown[]) {
  const fd = (openSync as (...a: unknown[]) => number)(path, ...rest);
  if (String(path).endsWith(suffix)) watched.add(fd);
  return fd;
} as typeof fs.openSync;

const closeSync = fs.closeSync;
fs.closeSync = function (fd: number) {
  watched.delete(fd);
  return closeSync(fd);
} as typeof fs.closeSync;

const writeSync = fs.writeSync;
fs.writeSync = function (fd: number, buffer: ArrayBufferView | string, ...rest: unknown[]) {
  if (watched.has(fd)) {
    const length = typeof buffer === 'string' ? Buffer.byteLength(buffer) : typeof rest[1] === 'number' ? rest[1] : buffer.byteLength;
    if (written + length > limit && !(once && failed)) {
      failed = true;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    written += length;
  }
  return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
} as typeof fs.writeSync;
