// What the fault preloads share (not a preload itself): node:fs's openSync/closeSync patched to
// remember which open descriptors name a watched file, and writeSync on those routed through a
// hook. h5wasm (emscripten's NODERAWFS) writes through these synchronous calls.
import fs from 'node:fs';

export type RawWrite = (fd: number, buffer: ArrayBufferView | string, ...rest: unknown[]) => number;

/** `tagOf(path)` tags a file to watch (undefined: not watched); `hook` runs each write to a tagged one, given the real writeSync. */
export function hookWrites<T>(tagOf: (path: string) => T | undefined, hook: (fd: number, tag: T, buffer: ArrayBufferView | string, rest: unknown[], write: RawWrite) => number): void {
  const tags = new Map<number, T>();
  const openSync = fs.openSync as (...a: unknown[]) => number;
  fs.openSync = function (path: fs.PathLike, ...rest: unknown[]) {
    const fd = openSync(path, ...rest);
    const tag = tagOf(String(path));
    if (tag !== undefined) tags.set(fd, tag);
    return fd;
  } as typeof fs.openSync;
  const closeSync = fs.closeSync;
  fs.closeSync = function (fd: number) {
    tags.delete(fd);
    return closeSync(fd);
  } as typeof fs.closeSync;
  const writeSync = fs.writeSync as RawWrite;
  fs.writeSync = function (fd: number, buffer: ArrayBufferView | string, ...rest: unknown[]) {
    const tag = tags.get(fd);
    return tag === undefined ? writeSync(fd, buffer, ...rest) : hook(fd, tag, buffer, rest, writeSync);
  } as typeof fs.writeSync;
}
