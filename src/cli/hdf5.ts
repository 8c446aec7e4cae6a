/**
 * Embeddings to HDF5 in the ProtTrans / bio_embeddings layout, via h5wasm (Node only).
 *
 * Layout: one float32 dataset per protein, named by its id with `/` and `.` replaced by `_`
 * (as ProtTrans' prott5_embedder.py does), shape `[1024]` per protein or `[L, 1024]` per residue,
 * with the original FASTA header as a variable-length UTF-8 string attribute `original_id`.
 * When both kinds go into one file they sit in groups (e.g. `per_residue/`, `per_protein/`).
 * These rules live in src/hdf5-layout.ts, shared with the demo page's HDF5 download.
 * Readers: h5py (`f[name][()]`, `f[name].attrs['original_id']`), h5dump, bio_embeddings tools.
 *
 * h5wasm facts this module relies on (h5wasm 0.10.3, checked by test/hdf5.test.ts):
 * - `h5wasm/node` is built with NODERAWFS: paths are real paths on disk, relative ones resolve
 *   against process.cwd(). The plain `h5wasm` entry writes to an in-memory filesystem instead
 *   and "succeeds" without a byte reaching the disk.
 * - By default HDF5 errors do not throw: they print an HDF5-DIAG trace to stderr and the call
 *   returns as if it worked (opening a missing file gives a File object; a dataset under a missing
 *   group is silently not created). We switch on h5wasm's throwing error handler once, when the
 *   library loads, and turn its traces into IOErrors. This is process-wide for h5wasm.
 * - Loading the wasm module costs ~100 ms and 4 MB of JS, so it is imported lazily.
 * - The wasm heap is limited to 2 GiB, so one dataset must stay well under that.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm/node';
import { IOError, SequenceError, UsageError } from '../errors.js';
import { COMPLETE_ATTRIBUTE, ORIGINAL_ID_ATTRIBUTE, idFromOriginalId, safeDatasetName, summarizeHdf5Error } from '../embed/hdf5-layout.js';
import { rename, rm } from 'node:fs/promises';
import { halfContainer, halfToFloat32, patchToHalf } from './hdf5-half.js';

type H5Lib = (typeof import('h5wasm/node'))['default'];
type H5Module = Awaited<H5Lib['ready']>;

let h5module: H5Module | null = null;

let loading: Promise<H5Lib> | null = null;

/** Loads h5wasm/node once and makes HDF5 errors throw instead of printing and carrying on. */
export function loadH5(): Promise<H5Lib> {
  loading ??= (async () => {
    let lib: H5Lib;
    try {
      lib = (await import('h5wasm/node')).default;
    } catch (err) {
      throw new IOError(`cannot load h5wasm (needed for HDF5 output): ${(err as Error).message}`, {}, { cause: err });
    }
    const Module = await lib.ready;
    h5module = Module;
    if (Module.activate_throwing_error_handler() !== 0) {
      throw new IOError('h5wasm: could not install the throwing HDF5 error handler');
    }
    return lib;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

/** Runs an h5wasm call, turning its errors into IOError naming the file and what was being done. */
export function h5call<T>(file: string, what: string, fn: () => T, details: Record<string, unknown> = {}): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IOError || err instanceof UsageError || err instanceof SequenceError) throw err;
    throw new IOError(`${file}: ${what} failed: ${summarizeHdf5Error(err)}`, { file, ...details }, { cause: err });
  }
}

/** Whether a dataset holds float16 (a patched --half dataset; h5wasm cannot read its values). */
function isHalf(ds: H5Dataset): boolean {
  const m = ds.metadata;
  return m.type === 1 && m.size === 2;
}

/**
 * A dataset's values as float32: float16 ones (--half) read as raw bytes and widened, as
 * h5wasm's own reader cannot.
 */
function datasetValues(file: string, ds: H5Dataset, key: string): Float32Array | null {
  if (isHalf(ds)) {
    const Module = h5module!;
    const n = Number((ds.shape ?? []).reduce((a, b) => a * b, 1));
    const ptr = Module._malloc(Math.max(1, 2 * n));
    try {
      h5call(file, `reading ${key}`, () => Module.get_dataset_data(ds.file_id, ds.path, null as never, null as never, null as never, BigInt(ptr)));
      return halfToFloat32(Module.HEAPU8.slice(ptr, ptr + 2 * n));
    } finally {
      Module._free(ptr);
    }
  }
  const value = h5call(file, `reading ${key}`, () => ds.value);
  return value instanceof Float32Array ? value
    : ArrayBuffer.isView(value) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array) && !(value instanceof DataView)
      ? Float32Array.from(value as unknown as ArrayLike<number>)
      : null;
}

/**
 * Makes the named datasets of a closed file float16 (they were written with `half`): see
 * src/cli/hdf5-half.ts. Idempotent; returns how many it changed.
 */
export async function makeHalf(path: string, datasets: Iterable<string>): Promise<number> {
  const lib = await loadH5();
  const file = h5call(path, 'opening the file as HDF5', () => new lib.File(resolve(path), 'r'));
  const headers: Array<{ dataset: string; address: number }> = [];
  try {
    for (const name of datasets) {
      const ds = h5call(path, `reading ${name}`, () => file.get(name));
      if (!(ds instanceof lib.Dataset)) throw new IOError(`${path}: ${name} is not a dataset`, { file: path, dataset: name });
      if (isHalf(ds)) continue;
      const ref = h5call(path, `locating ${name}`, () => ds.create_reference());
      const bytes = new Uint8Array(ref.ref_data);
      if (bytes.byteLength !== 8) throw new IOError(`${path}: ${name}: object references of ${bytes.byteLength} bytes (expected a file address)`, { file: path, dataset: name });
      headers.push({ dataset: name, address: Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)) });
    }
  } finally {
    file.close();
  }
  return patchToHalf(resolve(path), headers);
}

export interface Hdf5OpenOptions {
  /**
   * Flush to disk after this many writes (default 256; 0: only on flush()/close()). A process that
   * dies without close() leaves an unreadable file unless a flush happened: with periodic flushes
   * it keeps everything up to the last flush, so a resume can go on from there.
   */
  flushEvery?: number;
}

export interface Hdf5WriterOptions extends Hdf5OpenOptions {
  /** Replace an existing file (default true, like h5py's 'w'); false: IOError if the path exists. */
  overwrite?: boolean;
  /** Attributes for the root group (model name, pooling, ...). */
  attributes?: Record<string, string | number>;
}

/** 'r': read only; 'r+': read/write, must exist; 'a': read/write, created if missing (as h5py). */
export type Hdf5OpenMode = 'r' | 'r+' | 'a';

interface Entry { id: string; header: string }

export interface WriteOptions {
  /** More attributes for the dataset (strings, or integers stored as int32). */
  attributes?: Readonly<Record<string, number | string>>;
  /** Store as float16 (written as a float32 container; makeHalf() on the closed file finishes it). */
  half?: boolean;
}

const MAX_RANK = 32;

function checkGroupName(group: string): void {
  if (group.length === 0 || group.includes('/') || group.includes('\0') || group === '.' || group === '..') {
    throw new UsageError(`invalid HDF5 group name ${JSON.stringify(group)}: use a single non-empty name such as 'per_residue'`, { group });
  }
}

/**
 * Writes one dataset per protein. Synchronous writes after an async open (h5wasm itself is sync).
 * Always close(): HDF5 keeps metadata in memory, and a process that exits without close() or a
 * flush leaves a file h5py cannot open. Writes flush every `flushEvery` datasets (default 256) so
 * a killed run keeps what was flushed and can be resumed with open(path, 'a') + has().
 */
export class Hdf5EmbeddingWriter {
  /**
   * full dataset path ('name' or 'group/name') → the id and header it was written for; null for a
   * dataset found in the file on open, whose original_id is read only when needed (opening a file
   * with many datasets then costs a listing, not one attribute read per dataset).
   */
  private readonly index = new Map<string, Entry | null>();
  private readonly groups = new Set<string>();
  private file: H5File | null;
  private readonly flushEvery: number;
  private unflushed = 0;

  private constructor(private readonly lib: H5Lib, file: H5File, readonly path: string, readonly readOnly: boolean, options: Hdf5OpenOptions) {
    this.file = file;
    this.flushEvery = options.flushEvery ?? 256;
  }

  private static checkOptions(options: Hdf5OpenOptions): void {
    const every = options.flushEvery;
    if (every !== undefined && !(Number.isSafeInteger(every) && every >= 0)) {
      throw new UsageError(`flushEvery must be a non-negative integer, got ${every}`, { flushEvery: every });
    }
  }

  /** Creates (or by default replaces) an HDF5 file. */
  static async create(path: string, options: Hdf5WriterOptions = {}): Promise<Hdf5EmbeddingWriter> {
    Hdf5EmbeddingWriter.checkOptions(options);
    const abs = resolve(path);
    const dir = dirname(abs);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new IOError(`cannot create ${path}: directory ${dir} does not exist`, { file: path });
    }
    if (existsSync(abs)) {
      if (statSync(abs).isDirectory()) throw new IOError(`cannot create ${path}: it is a directory`, { file: path });
      if (options.overwrite === false) throw new IOError(`${path} already exists (overwrite is off)`, { file: path });
    }
    const lib = await loadH5();
    const file = h5call(path, 'creating the HDF5 file', () => new lib.File(abs, 'w'));
    const writer = new Hdf5EmbeddingWriter(lib, file, path, false, options);
    try {
      for (const [k, v] of Object.entries(options.attributes ?? {})) {
        // integers that fit go in as int32 (h5wasm's guess), other numbers as float64, strings as vlen UTF-8
        const dtype = typeof v === 'number' && !(Number.isInteger(v) && Math.abs(v) < 2 ** 31) ? '<d' : null;
        h5call(path, `writing root attribute ${k}`, () => file.create_attribute(k, v, null, dtype));
      }
    } catch (err) {
      try { writer.close(); } catch { /* already failing */ }
      throw err;
    }
    return writer;
  }

  /** Opens an existing file: to read ('r'), to append ('r+'), or to append-or-create ('a'). */
  static async open(path: string, mode: Hdf5OpenMode = 'a', options: Hdf5OpenOptions = {}): Promise<Hdf5EmbeddingWriter> {
    if (mode !== 'r' && mode !== 'r+' && mode !== 'a') throw new UsageError(`invalid HDF5 open mode ${JSON.stringify(mode)} (use 'r', 'r+' or 'a')`, { mode });
    Hdf5EmbeddingWriter.checkOptions(options);
    const abs = resolve(path);
    if (!existsSync(abs)) {
      if (mode === 'a') return Hdf5EmbeddingWriter.create(path, options);
      throw new IOError(`cannot open ${path}: no such file`, { file: path });
    }
    if (statSync(abs).isDirectory()) throw new IOError(`cannot open ${path}: it is a directory`, { file: path });
    const lib = await loadH5();
    const file = h5call(path, 'opening the file as HDF5', () => new lib.File(abs, mode === 'r' ? 'r' : 'a'));
    const writer = new Hdf5EmbeddingWriter(lib, file, path, mode === 'r', options);
    try {
      writer.load();
    } catch (err) {
      try { file.close(); } catch { /* already failing */ }
      throw err;
    }
    return writer;
  }

  /** Indexes the datasets already in the file: root level and one level of groups. */
  private load(): void {
    const file = this.open_();
    const keys = h5call(this.path, 'listing the root group', () => file.keys());
    for (const key of keys) {
      const obj = h5call(this.path, `reading ${key}`, () => file.get(key));
      if (obj instanceof this.lib.Dataset) this.index.set(key, null);
      else if (obj instanceof this.lib.Group) {
        this.groups.add(key);
        const group = obj;
        // No per-child type check (it costs ~50 µs an object): every link in a group counts as a
        // taken name, which is what the collision check needs; files we write hold only datasets there.
        for (const sub of h5call(this.path, `listing group ${key}`, () => group.keys())) this.index.set(`${key}/${sub}`, null);
      }
    }
  }

  /** The entry for a dataset path, reading original_id from the file for datasets found on open. */
  private entry(full: string): Entry | undefined {
    const e = this.index.get(full);
    if (e !== null) return e;
    const file = this.open_();
    const ds = h5call(this.path, `reading ${full}`, () => file.get(full));
    const entry = ds instanceof this.lib.Dataset ? this.entryOf(ds, full.slice(full.lastIndexOf('/') + 1)) : { id: full, header: full };
    this.index.set(full, entry);
    return entry;
  }

  private entryOf(ds: H5Dataset, name: string): Entry {
    let header = name;
    if (Object.prototype.hasOwnProperty.call(ds.attrs, ORIGINAL_ID_ATTRIBUTE)) {
      const v = h5call(this.path, `reading ${ds.path} attribute ${ORIGINAL_ID_ATTRIBUTE}`, () => ds.get_attribute(ORIGINAL_ID_ATTRIBUTE, false));
      if (typeof v === 'string') header = v;
    }
    return { id: idFromOriginalId(header, name), header };
  }

  private open_(): H5File {
    if (this.file === null) throw new UsageError(`${this.path}: the HDF5 file is closed`, { file: this.path });
    return this.file;
  }

  private fullName(idOrName: string, group?: string): string {
    const name = safeDatasetName(idOrName);
    if (group === undefined) return name;
    checkGroupName(group);
    return `${group}/${name}`;
  }

  /**
   * Writes one embedding. `id` is sanitised into the dataset name; `originalHeader` is stored as the
   * `original_id` attribute; `shape` must match data.length (e.g. [1024] or [L, 1024]). `group`
   * (e.g. 'per_residue') puts the dataset in that group, created on first use; default: root.
   * Returns the dataset's path in the file. Two ids with the same sanitised name are a
   * SequenceError naming both. `options.attributes`: more attributes for the dataset
   * (prott5_index); `options.half`: stored as float16 once makeHalf() runs on the closed file.
   */
  write(id: string, originalHeader: string, data: Float32Array, shape: readonly number[], group?: string, options: WriteOptions = {}): string {
    const file = this.open_();
    if (this.readOnly) throw new UsageError(`${this.path} was opened read-only`, { file: this.path });
    if (!(data instanceof Float32Array)) throw new UsageError(`write(${JSON.stringify(id)}): data must be a Float32Array`, { file: this.path, record: id });
    if (!Array.isArray(shape) || shape.length === 0 || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new UsageError(`write(${JSON.stringify(id)}): bad shape ${JSON.stringify(shape)} (1 to ${MAX_RANK} non-negative integers)`, { file: this.path, record: id, shape });
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new UsageError(`write(${JSON.stringify(id)}): shape [${shape.join(', ')}] has ${count} elements but data has ${data.length}`, { file: this.path, record: id, shape });
    }
    const full = this.fullName(id, group);
    const prev = this.entry(full);
    if (prev !== undefined) {
      const same = prev.id === id;
      throw new SequenceError(
        same
          ? `${this.path}: dataset ${JSON.stringify(full)} for id ${JSON.stringify(id)} is already in the file (check has() before writing when resuming)`
          : `${this.path}: ids ${JSON.stringify(prev.id)} and ${JSON.stringify(id)} both map to dataset name ${JSON.stringify(full)} (ProtTrans replaces '/' and '.' with '_'); rename one`,
        { file: this.path, record: id, dataset: full, ids: [prev.id, id], headers: [prev.header, originalHeader] },
      );
    }
    if (group === undefined) {
      if (this.groups.has(full)) throw new SequenceError(`${this.path}: id ${JSON.stringify(id)} maps to ${JSON.stringify(full)}, which is a group in this file`, { file: this.path, record: id, dataset: full });
    } else if (!this.groups.has(group)) {
      if (this.index.has(group)) throw new UsageError(`${this.path}: cannot create group ${JSON.stringify(group)}: a dataset of that name exists`, { file: this.path, group });
      h5call(this.path, `creating group ${group}`, () => file.create_group(group), { group });
      this.groups.add(group);
    }
    const parent: H5Group = group === undefined ? file : (h5call(this.path, `opening group ${group}`, () => file.get(group)) as H5Group);
    const name = safeDatasetName(id);
    const stored = options.half ? halfContainer(data, shape) : { data, shape: [...shape] };
    const ds = h5call(this.path, `writing dataset ${full}`, () => parent.create_dataset({ name, data: stored.data, shape: stored.shape }), { record: id, dataset: full });
    this.index.set(full, { id, header: originalHeader }); // the name is taken from here on, even if the attribute fails
    h5call(this.path, `writing attribute ${ORIGINAL_ID_ATTRIBUTE} of ${full}`, () => ds.create_attribute(ORIGINAL_ID_ATTRIBUTE, originalHeader), { record: id, dataset: full });
    for (const [k, v] of Object.entries(options.attributes ?? {})) h5call(this.path, `writing attribute ${k} of ${full}`, () => ds.create_attribute(k, v), { record: id, dataset: full });
    if (this.flushEvery > 0 && ++this.unflushed >= this.flushEvery) this.flush();
    return full;
  }

  /** Whether a dataset for this id (or already-sanitised name) exists, at root or in `group`. */
  has(idOrName: string, group?: string): boolean {
    return this.index.has(this.fullName(idOrName, group));
  }

  /** Marks datasets (paths as write() returns them) as parts of a finished record; flush() after. */
  markComplete(paths: readonly string[]): void {
    const file = this.open_();
    for (const full of paths) {
      const ds = h5call(this.path, `reading ${full}`, () => file.get(full));
      if (!(ds instanceof this.lib.Dataset)) throw new IOError(`${this.path}: ${full} is not a dataset`, { file: this.path, dataset: full });
      h5call(this.path, `marking ${full} complete`, () => ds.create_attribute(COMPLETE_ATTRIBUTE, 1));
    }
  }

  /**
   * Whether a dataset exists, was marked complete, and has `shape` (when given; with `half`, as
   * float16 or as its float32 container, the last dimension halved).
   */
  isComplete(idOrName: string, group?: string, shape?: readonly number[], half = false): boolean {
    const full = this.fullName(idOrName, group);
    if (!this.index.has(full)) return false;
    const ds = h5call(this.path, `reading ${full}`, () => this.open_().get(full));
    if (!(ds instanceof this.lib.Dataset) || !Object.prototype.hasOwnProperty.call(ds.attrs, COMPLETE_ATTRIBUTE)) return false;
    if (shape === undefined) return true;
    const got = (ds.shape ?? []).join();
    if (!half) return got === shape.join() && !isHalf(ds);
    return isHalf(ds) ? got === shape.join() : got === [...shape.slice(0, -1), shape[shape.length - 1] / 2].join();
  }

  /** The names of a dataset's attributes. */
  attributeNames(full: string): string[] {
    const ds = h5call(this.path, `reading ${full}`, () => this.open_().get(full));
    return ds instanceof this.lib.Dataset ? Object.keys(ds.attrs) : [];
  }

  /** A dataset attribute's value (e.g. prott5_index), or undefined. */
  attribute(full: string, name: string): unknown {
    if (!this.index.has(full)) return undefined;
    const ds = h5call(this.path, `reading ${full}`, () => this.open_().get(full));
    if (!(ds instanceof this.lib.Dataset) || !Object.prototype.hasOwnProperty.call(ds.attrs, name)) return undefined;
    return h5call(this.path, `reading ${full} attribute ${name}`, () => ds.get_attribute(name, true));
  }

  /** A dataset's values as float32 (float16 ones widened), its shape as stored, and whether it is float16. */
  read(full: string): { data: Float32Array; shape: number[]; half: boolean } {
    const ds = h5call(this.path, `reading ${full}`, () => this.open_().get(full));
    if (!(ds instanceof this.lib.Dataset)) throw new IOError(`${this.path}: ${full} is not a dataset`, { file: this.path, dataset: full });
    const data = datasetValues(this.path, ds, full);
    if (data === null) throw new IOError(`${this.path}: dataset ${full} is not numeric`, { file: this.path, dataset: full });
    return { data, shape: ds.shape ?? [data.length], half: isHalf(ds) };
  }

  /** The stored `original_id` (header) of a dataset, if it exists. */
  originalHeader(idOrName: string, group?: string): string | undefined {
    return this.entry(this.fullName(idOrName, group))?.header;
  }

  /**
   * All dataset paths: 'name' at root, 'group/name' in groups; those found on open first (HDF5 name
   * order), then in write order.
   */
  names(): string[] {
    return [...this.index.keys()];
  }

  /** Pushes buffered data and metadata to disk (a crash after this leaves a readable file). */
  flush(): void {
    const file = this.open_();
    if (!this.readOnly) h5call(this.path, 'flushing', () => file.flush());
    this.unflushed = 0;
  }

  get closed(): boolean {
    return this.file === null;
  }

  /** Closes the file. Idempotent. */
  close(): void {
    const file = this.file;
    if (file === null) return;
    this.file = null;
    h5call(this.path, 'closing', () => file.close());
  }
}

/**
 * Rewrites `path` keeping only the datasets `keep` names (with their attributes) and the root
 * attributes: how a partial output drops records whose writes were cut (HDF5 cannot unlink a
 * dataset and reclaim it here). Written to `path.rebuild` and renamed over `path`.
 */
export async function compactHdf5(path: string, keep: ReadonlySet<string>): Promise<void> {
  const lib = await loadH5();
  const tmp = `${path}.rebuild`;
  const src = h5call(path, 'opening the file as HDF5', () => new lib.File(resolve(path), 'r'));
  let dst: H5File | null = null;
  try {
    dst = h5call(tmp, 'creating the HDF5 file', () => new lib.File(resolve(tmp), 'w'));
    const out = dst;
    for (const name of Object.keys(src.attrs)) h5call(tmp, `writing root attribute ${name}`, () => out.create_attribute(name, src.get_attribute(name, true) as string));
    const groups = new Set<string>();
    for (const full of keep) {
      const ds = h5call(path, `reading ${full}`, () => src.get(full));
      if (!(ds instanceof lib.Dataset)) continue;
      const slash = full.lastIndexOf('/');
      const group = slash < 0 ? undefined : full.slice(0, slash);
      if (group !== undefined && !groups.has(group)) {
        h5call(tmp, `creating group ${group}`, () => out.create_group(group));
        groups.add(group);
      }
      const parent = group === undefined ? out : (h5call(tmp, `opening group ${group}`, () => out.get(group)) as H5Group);
      // A float16 dataset goes back to its float32 container: makeHalf() patches it again.
      const values = datasetValues(path, ds, full);
      if (values === null) continue;
      const stored = isHalf(ds) ? halfContainer(values, ds.shape ?? [values.length]) : { data: values, shape: ds.shape ?? [values.length] };
      const copy = h5call(tmp, `writing dataset ${full}`, () => parent.create_dataset({ name: full.slice(slash + 1), data: stored.data, shape: stored.shape }));
      for (const a of Object.keys(ds.attrs)) h5call(tmp, `writing ${full} attribute ${a}`, () => copy.create_attribute(a, ds.get_attribute(a, true) as string));
    }
    h5call(tmp, 'closing', () => out.close());
    dst = null;
  } catch (e) {
    try { dst?.close(); } catch { /* already failing */ }
    await rm(tmp, { force: true });
    throw e;
  } finally {
    src.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    throw new IOError(`cannot replace ${path} with its rebuilt copy: ${(e as Error).message}`, { file: path }, { cause: e });
  }
}

export interface Hdf5Embedding {
  data: Float32Array;
  shape: number[];
  attrs: Record<string, unknown>;
  /** Stored as float16 (the values are widened to float32). */
  half: boolean;
}

/** Reads every dataset (root and one level of groups) of an embeddings file: path → data, shape, attributes. */
export async function readHdf5Embeddings(path: string): Promise<Map<string, Hdf5Embedding>> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new IOError(`cannot open ${path}: no such file`, { file: path });
  const lib = await loadH5();
  const file = h5call(path, 'opening the file as HDF5', () => new lib.File(abs, 'r'));
  const out = new Map<string, Hdf5Embedding>();
  try {
    const readDs = (ds: H5Dataset, key: string): void => {
      const data = datasetValues(path, ds, key);
      if (data === null) throw new IOError(`${path}: dataset ${key} is not numeric`, { file: path, dataset: key });
      const attrs: Record<string, unknown> = {};
      for (const name of Object.keys(ds.attrs)) attrs[name] = h5call(path, `reading ${key} attribute ${name}`, () => ds.get_attribute(name, true));
      out.set(key, { data, shape: ds.shape ?? [], attrs, half: isHalf(ds) });
    };
    for (const key of h5call(path, 'listing the root group', () => file.keys())) {
      const obj = h5call(path, `reading ${key}`, () => file.get(key));
      if (obj instanceof lib.Dataset) readDs(obj, key);
      else if (obj instanceof lib.Group) {
        const group = obj;
        for (const sub of h5call(path, `listing ${key}`, () => group.keys())) {
          const child = h5call(path, `reading ${key}/${sub}`, () => group.get(sub));
          if (child instanceof lib.Dataset) readDs(child, `${key}/${sub}`);
        }
      }
    }
  } finally {
    file.close();
  }
  return out;
}

/** Root attributes of a file (for tests and `inspect`). */
export async function readHdf5RootAttributes(path: string): Promise<Record<string, unknown>> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new IOError(`cannot open ${path}: no such file`, { file: path });
  const lib = await loadH5();
  const file = h5call(path, 'opening the file as HDF5', () => new lib.File(abs, 'r'));
  try {
    const attrs: Record<string, unknown> = {};
    for (const name of Object.keys(file.attrs)) attrs[name] = h5call(path, `reading root attribute ${name}`, () => file.get_attribute(name, true));
    return attrs;
  } finally {
    file.close();
  }
}
