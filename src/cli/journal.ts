/**
 * Crash-consistent writes to one file (an HDF5 partial) under h5wasm. HDF5 rewrites its metadata
 * in place and in many writes, so a process killed inside a flush leaves a file HDF5 cannot
 * open ("incorrect metadata checksum"), losing every record in it. Here, while a journal is
 * open on a path, every write h5wasm makes to that file (h5wasm/node goes through node:fs's
 * writeSync, readSync, fstatSync, ftruncateSync, patched here for that file's descriptors only)
 * is kept in memory as 4 KiB pages and served back to its reads; the file on disk is not touched.
 * commit() makes the pages durable in two steps: all of them into PATH.journal (written as
 * .tmp, fsynced, renamed: it exists whole or not at all), then into the file, then the journal is
 * removed. A kill before the rename leaves the file as of the last commit; a kill after it
 * leaves a journal that recoverJournal() (run before the file is opened again) applies. So the
 * file on disk always is the state of some commit: what `--resume` reads is never torn.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { IOError } from '../errors.js';

const PAGE = 4096;
const MAGIC = 'prott5-journal-1\n';

type Fs = typeof fs;
const real = { openSync: fs.openSync, closeSync: fs.closeSync, readSync: fs.readSync, writeSync: fs.writeSync, fstatSync: fs.fstatSync, ftruncateSync: fs.ftruncateSync };

/** The journal open on each path (one per path), and the descriptors h5wasm holds on it. */
const journals = new Map<string, Journal>();
const byFd = new Map<number, Journal>();
let patched = false;

function patch(): void {
  if (patched) return;
  patched = true;
  const f = fs as { -readonly [K in keyof Fs]: Fs[K] };
  f.openSync = function (path: fs.PathLike, ...rest: unknown[]) {
    const fd = (real.openSync as (...a: unknown[]) => number)(path, ...rest);
    const j = journals.get(resolve(String(path)));
    if (j) j.attach(fd);
    return fd;
  } as Fs['openSync'];
  f.closeSync = function (fd: number) {
    byFd.get(fd)?.detach(fd);
    return real.closeSync(fd);
  } as Fs['closeSync'];
  f.writeSync = function (fd: number, buffer: NodeJS.ArrayBufferView | string, ...rest: unknown[]) {
    const j = byFd.get(fd);
    if (!j || typeof buffer === 'string') return (real.writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    const [offset = 0, length = buffer.byteLength - offset, position] = rest as [number?, number?, number?];
    return j.write(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length), position);
  } as Fs['writeSync'];
  f.readSync = function (fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) {
    const j = byFd.get(fd);
    if (!j) return (real.readSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    const [offset = 0, length = buffer.byteLength - offset, position] = rest as [number?, number?, number?];
    return j.read(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length), position);
  } as Fs['readSync'];
  f.fstatSync = function (fd: number, ...rest: unknown[]) {
    const st = (real.fstatSync as (...a: unknown[]) => fs.Stats)(fd, ...rest);
    const j = byFd.get(fd);
    return j ? Object.assign(Object.create(Object.getPrototypeOf(st)), st, { size: j.size }) : st;
  } as Fs['fstatSync'];
  f.ftruncateSync = function (fd: number, len?: number) {
    const j = byFd.get(fd);
    if (!j) return real.ftruncateSync(fd, len);
    j.truncate(len ?? 0);
  } as Fs['ftruncateSync'];
}

/** A commit that failed; `durable`: its journal was whole on disk (recoverJournal finishes it). */
export class CommitError extends IOError {
  constructor(message: string, readonly durable: boolean, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, context, options);
  }
}

class Journal {
  /** Pages written since the last commit (page index → 4 KiB). */
  private pages = new Map<number, Uint8Array>();
  /** The file's size as h5wasm sees it. */
  size = 0;
  /** Our own descriptor for the committed bytes (opened when needed; a new open of the path may be a new file). */
  private rfd: number | null = null;
  closed = false;

  constructor(readonly path: string) {}

  /** h5wasm opened the file: from now on its size is the one on disk plus what is written. */
  attach(fd: number): void {
    byFd.set(fd, this);
    this.dropReader();
    if (this.pages.size === 0) this.size = real.fstatSync(fd).size;
  }

  detach(fd: number): void {
    byFd.delete(fd);
  }

  dropReader(): void {
    if (this.rfd !== null) real.closeSync(this.rfd);
    this.rfd = null;
  }

  private readCommitted(into: Uint8Array, offset: number, length: number, position: number): void {
    into.fill(0, offset, offset + length);
    if (this.rfd === null) {
      try {
        this.rfd = real.openSync(this.path, 'r');
      } catch {
        return; // no file yet: nothing committed
      }
    }
    real.readSync(this.rfd, into, offset, length, position);
  }

  private page(i: number, make: boolean): Uint8Array | undefined {
    let p = this.pages.get(i);
    if (p || !make) return p;
    p = new Uint8Array(PAGE);
    this.readCommitted(p, 0, PAGE, i * PAGE);
    this.pages.set(i, p);
    return p;
  }

  write(bytes: Uint8Array, position: number | null | undefined): number {
    const at = position ?? 0;
    for (let done = 0; done < bytes.length; ) {
      const i = Math.floor((at + done) / PAGE), off = (at + done) % PAGE;
      const n = Math.min(PAGE - off, bytes.length - done);
      this.page(i, true)!.set(bytes.subarray(done, done + n), off);
      done += n;
    }
    this.size = Math.max(this.size, at + bytes.length);
    return bytes.length;
  }

  read(into: Uint8Array, position: number | null | undefined): number {
    const at = position ?? 0;
    const n = Math.max(0, Math.min(into.length, this.size - at));
    for (let done = 0; done < n; ) {
      const i = Math.floor((at + done) / PAGE), off = (at + done) % PAGE;
      const k = Math.min(PAGE - off, n - done);
      const p = this.page(i, false);
      if (p) into.set(p.subarray(off, off + k), done);
      else this.readCommitted(into, done, k, at + done);
      done += k;
    }
    return n;
  }

  truncate(len: number): void {
    for (const i of [...this.pages.keys()]) if (i * PAGE >= len) this.pages.delete(i);
    const last = this.pages.get(Math.floor(len / PAGE));
    if (last && len % PAGE) last.fill(0, len % PAGE);
    this.size = len;
  }

  /** Makes every write since the last commit durable (see the module comment). */
  commit(): void {
    if (this.pages.size === 0 && this.size === safeSize(this.path)) return;
    const indices = [...this.pages.keys()].sort((a, b) => a - b);
    const head = Buffer.from(`${MAGIC}${JSON.stringify({ size: this.size, pages: indices })}\n`);
    const hash = createHash('sha256').update(head);
    for (const i of indices) hash.update(this.pages.get(i)!);
    const body = [head, ...indices.map((i) => this.pages.get(i)!), Buffer.from(hash.digest('hex'))];
    const journal = `${this.path}.journal`;
    try {
      writeWhole(`${journal}.tmp`, body);
      fs.renameSync(`${journal}.tmp`, journal);
    } catch (e) {
      fs.rmSync(`${journal}.tmp`, { force: true });
      throw new CommitError(`cannot write ${journal}: ${(e as Error).message}`, false, { file: journal }, { cause: e });
    }
    syncDir(journal);
    try {
      applyPages(this.path, this.size, indices.map((i) => [i, this.pages.get(i)!] as const));
    } catch (e) {
      throw new CommitError(`cannot write ${this.path}: ${(e as Error).message} (its journal ${journal} is whole: --resume finishes it)`, true, { file: this.path }, { cause: e });
    }
    fs.rmSync(journal, { force: true });
    this.pages.clear();
    this.dropReader();
  }

  /** Drops what was not committed (a failed run): the file stays as of the last commit. */
  discard(): void {
    this.pages.clear();
  }
}

function safeSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return -1;
  }
}

function writeWhole(path: string, parts: Uint8Array[]): void {
  const fd = real.openSync(path, 'w');
  try {
    for (const p of parts) for (let o = 0; o < p.length; ) o += real.writeSync(fd, p, o, p.length - o);
    fs.fsyncSync(fd);
  } finally {
    real.closeSync(fd);
  }
}

function syncDir(path: string): void {
  try {
    const d = real.openSync(dirname(path), 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      real.closeSync(d);
    }
  } catch {
    // not every filesystem lets a folder be fsynced; the rename is still atomic
  }
}

function applyPages(path: string, size: number, pages: ReadonlyArray<readonly [number, Uint8Array]>): void {
  const fd = real.openSync(path, 'r+');
  try {
    for (const [i, p] of pages) {
      const n = Math.max(0, Math.min(PAGE, size - i * PAGE));
      for (let o = 0; o < n; ) o += real.writeSync(fd, p, o, n - o, i * PAGE + o);
    }
    real.ftruncateSync(fd, size);
    fs.fsyncSync(fd);
  } finally {
    real.closeSync(fd);
  }
}

/**
 * Applies PATH.journal to PATH if a whole one is there (a kill between its rename and its
 * removal), removes a torn one; true when it applied one. Call before opening PATH.
 */
export function recoverJournal(path: string): boolean {
  const journal = `${path}.journal`;
  fs.rmSync(`${journal}.tmp`, { force: true });
  if (!fs.existsSync(journal)) return false;
  // The journal holds changed pages only: without the file it belongs to, it means nothing.
  if (!fs.existsSync(path)) {
    fs.rmSync(journal, { force: true });
    return false;
  }
  const bytes = fs.readFileSync(journal);
  const nl = bytes.indexOf(0x0a, MAGIC.length);
  let ok = bytes.subarray(0, MAGIC.length).toString() === MAGIC && nl > 0;
  let meta: { size: number; pages: number[] } = { size: 0, pages: [] };
  if (ok) {
    try {
      meta = JSON.parse(bytes.subarray(MAGIC.length, nl).toString());
    } catch {
      ok = false;
    }
  }
  const start = nl + 1, end = start + meta.pages.length * PAGE;
  ok &&= bytes.length === end + 64 && createHash('sha256').update(bytes.subarray(0, end)).digest('hex') === bytes.subarray(end).toString();
  if (!ok) {
    // Renamed only once whole and fsynced, so this cannot happen short of a disk fault: say so.
    throw new IOError(`${journal} is damaged (it was renamed into place only when whole): delete it and ${path} to start over`, { file: journal });
  }
  try {
    applyPages(path, meta.size, meta.pages.map((i, k) => [i, bytes.subarray(start + k * PAGE, start + (k + 1) * PAGE)] as const));
  } catch (e) {
    throw new IOError(`cannot finish ${path} from its journal ${journal}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  fs.rmSync(journal, { force: true });
  return true;
}

/**
 * Starts journaling PATH (see the module comment): open it with h5wasm after this call; call
 * commit() at each consistent point (after a flush) and close() when done with it (after the
 * HDF5 file is closed: commits what is left, unless `discard`).
 */
export interface FileJournal {
  commit(): void;
  /** Idempotent. With `discard`, what was written since the last commit is dropped. */
  close(discard?: boolean): void;
}

export function openJournal(file: string): FileJournal {
  const path = resolve(file);
  if (journals.has(path)) throw new IOError(`${path} is journaled twice`, { file: path });
  recoverJournal(path);
  patch();
  const j = new Journal(path);
  journals.set(path, j);
  return {
    commit: () => j.commit(),
    close: (discard = false) => {
      if (j.closed) return;
      j.closed = true;
      try {
        if (discard) j.discard();
        else j.commit();
      } finally {
        j.dropReader();
        journals.delete(path);
        for (const [fd, owner] of byFd) if (owner === j) byFd.delete(fd);
      }
    },
  };
}
