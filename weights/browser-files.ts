// Browser-side ByteSources and ModelFiles: a model folder at a URL (HTTP Range requests, one
// tensor in JS memory at a time, optional Cache API copy), and files the user picked (File,
// Blob, <input webkitdirectory>, showDirectoryPicker()). No Node module may be imported here.
import { IOError } from '../src/errors.js';
import { refuseUnlessPlain } from './model-folder.js';
import type { ByteSource, ModelFiles } from './source.js';

// ---- URL ------------------------------------------------------------------------------------

export interface DownloadProgress {
  /** The file (URL) of the read that just progressed. */
  file: string;
  /** Bytes received from the network so far through this UrlFiles (all files). */
  received: number;
  /** Bytes served from the Cache API so far through this UrlFiles. */
  cached: number;
}

export interface UrlFilesOptions {
  /**
   * Keep a copy of every byte range read in the Cache API (cache named `prott5-webgpu-v1`, or
   * the string given), so that a later visit reads the weights from the cache instead of the
   * network. Each file is still probed with a 1-byte request that checks its size and
   * ETag/Last-Modified (a changed file is downloaded again); if that probe fails (offline),
   * the cached copy is used. Default false. `clearModelCache()` deletes the cache.
   */
  cache?: boolean | string;
  /** Called as bytes arrive (network or cache). */
  onDownload?: (p: DownloadProgress) => void;
  /** Extra request headers, e.g. `Authorization: Bearer hf_...` for a gated model. */
  headers?: Record<string, string>;
  /** Attempts after a network error (not after an HTTP error status). Default 2. */
  retries?: number;
  /** The fetch to use (tests, service workers). Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Stops every request: reads reject with the signal's reason (nothing partial is cached). */
  signal?: AbortSignal;
}

export const DEFAULT_CACHE_NAME = 'prott5-webgpu-v1';

/** A file that a server returns whole (ignoring Range) is accepted up to this size. */
const WHOLE_FILE_LIMIT = 64 * 2 ** 20;
/** Reads smaller than this fetch a window of READ_WINDOW bytes and keep it (zip parsing makes many tiny reads). */
const SMALL_READ = 4 * 1024;
const READ_WINDOW = 64 * 1024;

interface FileMeta {
  missing?: boolean;
  /** The status that said it is missing (404, 410). */
  status?: number;
  size: number;
  /** ETag, Last-Modified or the size: part of every cache key, so a changed file is not mixed with the old one. */
  version: string;
}

/** State shared by the sources of one UrlFiles: counters, options, the cache. */
class UrlContext {
  received = 0;
  cached = 0;
  cacheWarned = false;
  /** A server that ignores Range is said once per UrlFiles, not once per file. */
  rangeWarned = false;
  readonly fetch: typeof fetch;
  readonly retries: number;
  private cachePromise: Promise<Cache | null> | null = null;

  constructor(readonly options: UrlFilesOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retries = options.retries ?? 2;
  }

  get cacheName(): string | null {
    const c = this.options.cache;
    if (!c) return null;
    return typeof c === 'string' ? c : DEFAULT_CACHE_NAME;
  }

  /** The Cache, or null when caching is off or the Cache API is unavailable (insecure context). */
  cache(): Promise<Cache | null> {
    const name = this.cacheName;
    if (!name || typeof caches === 'undefined') return Promise.resolve(null);
    this.cachePromise ??= caches.open(name).catch(() => null);
    return this.cachePromise;
  }

  report(file: string): void {
    this.options.onDownload?.({ file, received: this.received, cached: this.cached });
  }

  /** A cache write that fails (quota) disables nothing else: the model still loads. */
  async put(key: string, body: Uint8Array | string): Promise<void> {
    const cache = await this.cache();
    if (!cache) return;
    try {
      await cache.put(key, new Response(body as BodyInit));
    } catch (e) {
      if (!this.cacheWarned) console.warn(`prott5-webgpu: could not write to the Cache API (${(e as Error).message}); continuing without caching`);
      this.cacheWarned = true;
    }
  }

  async match(key: string): Promise<Response | null> {
    const cache = await this.cache();
    if (!cache) return null;
    try {
      return (await cache.match(key)) ?? null;
    } catch {
      return null;
    }
  }

  /** fetch with retries after network errors (TypeError), not after HTTP statuses. */
  async request(url: string, headers: Record<string, string>, method = 'GET'): Promise<Response> {
    let lastError: unknown;
    const signal = this.options.signal;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      signal?.throwIfAborted();
      try {
        return await this.fetch(url, { method, headers: { ...this.options.headers, ...headers }, signal });
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        lastError = e;
      }
    }
    throw new IOError(
      `cannot fetch ${url}: ${(lastError as Error)?.message ?? lastError} (offline, a wrong host, or a server that does not allow this page's origin via CORS)`,
      { file: url },
      { cause: lastError },
    );
  }
}

function cacheKey(url: string, tag: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}__prott5=${encodeURIComponent(tag)}`;
}

/** One file at a URL; every read is an HTTP Range request (or a Cache API hit). */
export class UrlSource implements ByteSource {
  private windows: Array<{ start: number; bytes: Uint8Array }> = [];

  constructor(
    readonly name: string,
    readonly size: number,
    private readonly version: string,
    private readonly ctx: UrlContext,
    /** The whole file, when the server answered the probe with all of it (no Range support, small file). */
    private readonly whole: Uint8Array | null = null,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new IOError(`${this.name}: read of ${length} bytes at offset ${offset} is outside the file (${this.size} bytes)`, { file: this.name });
    }
    if (length === 0) return new Uint8Array(0);
    if (this.whole) return this.whole.subarray(offset, offset + length);
    if (length >= SMALL_READ) return this.range(offset, length);
    // Small read: serve it from a window kept in memory, fetching one if needed.
    let w = this.windows.find((x) => x.start <= offset && offset + length <= x.start + x.bytes.byteLength);
    if (!w) {
      const start = Math.floor(offset / READ_WINDOW) * READ_WINDOW;
      const end = Math.min(this.size, Math.max(start + READ_WINDOW, offset + length));
      w = { start, bytes: await this.range(start, end - start) };
      this.windows.unshift(w);
      this.windows.length = Math.min(this.windows.length, 4);
    }
    return w.bytes.subarray(offset - w.start, offset - w.start + length);
  }

  private async range(offset: number, length: number): Promise<Uint8Array> {
    const key = this.ctx.cacheName ? cacheKey(this.name, `${this.version}:${offset}+${length}`) : null;
    if (key) {
      const hit = await this.ctx.match(key);
      if (hit) {
        const bytes = new Uint8Array(await hit.arrayBuffer());
        if (bytes.byteLength === length) {
          this.ctx.cached += length;
          this.ctx.report(this.name);
          return bytes;
        }
      }
    }
    const end = offset + length - 1;
    const res = await this.ctx.request(this.name, { Range: `bytes=${offset}-${end}` });
    if (res.status === 200 && offset === 0 && length === this.size) {
      // A server may answer a range covering the whole file with 200.
    } else if (res.status !== 206) {
      await res.body?.cancel();
      throw new IOError(
        res.status === 200
          ? `${this.name}: the server ignored an HTTP Range request (answered 200 with the whole file); weights need a server that honours Range`
          : `${this.name}: HTTP ${res.status} ${res.statusText} for bytes ${offset}-${end}`,
        { file: this.name, status: res.status },
      );
    } else {
      const cr = res.headers.get('content-range');
      const m = cr?.match(/bytes\s+(\d+)-(\d+)/i);
      if (m && (Number(m[1]) !== offset || Number(m[2]) !== end)) {
        await res.body?.cancel();
        throw new IOError(`${this.name}: asked for bytes ${offset}-${end}, the server sent ${cr}`, { file: this.name });
      }
    }
    const bytes = await readBody(res, length, this.name, (n) => {
      this.ctx.received += n;
      this.ctx.report(this.name);
    });
    if (key) await this.ctx.put(key, bytes);
    return bytes;
  }
}

/** Reads a response body of exactly `length` bytes into one buffer, reporting each chunk. */
async function readBody(res: Response, length: number, name: string, onChunk: (n: number) => void): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  if (!res.body) {
    const all = new Uint8Array(await res.arrayBuffer());
    if (all.byteLength !== length) throw new IOError(`${name}: expected ${length} bytes, received ${all.byteLength}`, { file: name });
    onChunk(length);
    return all;
  }
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      if (done + value.byteLength > length) throw new IOError(`${name}: the server sent more than the ${length} bytes asked for`, { file: name });
      out.set(value, done);
      done += value.byteLength;
      onChunk(value.byteLength);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    if (e instanceof IOError) throw e;
    throw new IOError(`${name}: the download broke off after ${done} of ${length} bytes: ${(e as Error).message}`, { file: name }, { cause: e });
  }
  if (done !== length) throw new IOError(`${name}: expected ${length} bytes, received ${done}`, { file: name });
  return out;
}

/**
 * A model folder at a URL: `config.json`, `model.safetensors` (or shards, or
 * `pytorch_model.bin`) are fetched relative to `base`. Works with any static server that
 * honours Range requests (and CORS, cross-origin), e.g. a Hugging Face `.../resolve/main/`.
 */
export class UrlFiles implements ModelFiles {
  readonly name: string;
  private readonly ctx: UrlContext;
  /** HTTP status of each file the server said is missing (for the error message). */
  private readonly missing = new Map<string, number>();

  constructor(base: string | URL, options: UrlFilesOptions = {}) {
    let href = new URL(String(base), (globalThis as { location?: { href: string } }).location?.href).href;
    if (!href.endsWith('/')) href += '/';
    this.name = href;
    this.ctx = new UrlContext(options);
  }

  /** Bytes received from the network and served from the cache so far. */
  get stats(): { received: number; cached: number } {
    return { received: this.ctx.received, cached: this.ctx.cached };
  }

  async open(file: string): Promise<ByteSource | null> {
    refuseUnlessPlain(this.name, file);
    const url = new URL(encodeURIComponent(file), this.name).href;
    const metaKey = this.ctx.cacheName ? cacheKey(url, 'meta') : null;
    let meta: FileMeta;
    let whole: Uint8Array | null = null;
    try {
      ({ meta, whole } = await this.probe(url));
    } catch (e) {
      // Offline (or the server is down): a cached description of the file lets the cache serve it.
      const cached = metaKey ? await this.ctx.match(metaKey) : null;
      if (!cached) throw e;
      meta = (await cached.json()) as FileMeta;
    }
    if (metaKey && !whole) await this.ctx.put(metaKey, JSON.stringify(meta));
    if (meta.missing) {
      this.missing.set(file, meta.status ?? 404);
      return null;
    }
    return new UrlSource(url, meta.size, meta.version, this.ctx, whole);
  }

  whyMissing(file: string): string | undefined {
    const status = this.missing.get(file);
    return status === undefined ? undefined : `HTTP ${status} for ${new URL(encodeURIComponent(file), this.name).href}`;
  }

  /** A 1-byte Range request: does the file exist, how big is it, which version is it. */
  private async probe(url: string): Promise<{ meta: FileMeta; whole: Uint8Array | null }> {
    const res = await this.ctx.request(url, { Range: 'bytes=0-0' });
    const version = (size: number) => res.headers.get('etag') ?? res.headers.get('last-modified') ?? `size:${size}`;
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return { meta: { missing: true, status: res.status, size: 0, version: '' }, whole: null };
    }
    if (res.status === 416) {
      // Range not satisfiable: an empty file ("bytes */0").
      await res.body?.cancel();
      const size = Number(res.headers.get('content-range')?.match(/\/(\d+)/)?.[1] ?? 0);
      return { meta: { size, version: version(size) }, whole: null };
    }
    if (res.status === 206) {
      await res.arrayBuffer();
      let total = res.headers.get('content-range')?.match(/\/(\d+)\s*$/)?.[1];
      if (total === undefined) {
        // Content-Range is not readable cross-origin unless exposed; Content-Length of a HEAD is.
        const head = await this.ctx.request(url, {}, 'HEAD');
        total = head.headers.get('content-length') ?? undefined;
        if (!head.ok || total === undefined) {
          throw new IOError(`${url}: cannot tell the file's size (no readable Content-Range or Content-Length)`, { file: url });
        }
      }
      const size = Number(total);
      return { meta: { size, version: version(size) }, whole: null };
    }
    if (res.status === 200) {
      // The server ignores Range: accept a small file whole, refuse a large one.
      const len = res.headers.get('content-length');
      if (len !== null && Number(len) > WHOLE_FILE_LIMIT) {
        await res.body?.cancel();
        throw new IOError(
          `${url}: the server ignores HTTP Range requests, and this file (${len} bytes) is too large to download whole; serve it from a server that honours Range`,
          { file: url },
        );
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > WHOLE_FILE_LIMIT) throw new IOError(`${url}: the server ignores Range requests and the file is too large`, { file: url });
      if (!this.ctx.rangeWarned) {
        this.ctx.rangeWarned = true;
        console.warn(
          `prott5-webgpu: ${new URL(url).origin} ignores HTTP Range requests, so each file is downloaded whole (${url}: ${bytes.byteLength} bytes); ` +
            `files over ${WHOLE_FILE_LIMIT / 2 ** 20} MiB are refused. Serve the model from a server that honours Range.`,
        );
      }
      this.ctx.received += bytes.byteLength;
      this.ctx.report(url);
      return { meta: { size: bytes.byteLength, version: version(bytes.byteLength) }, whole: bytes };
    }
    await res.body?.cancel();
    throw new IOError(`${url}: HTTP ${res.status} ${res.statusText}`, { file: url, status: res.status });
  }
}

/** Deletes the Cache API copy of downloaded weights. Returns whether there was one. */
export async function clearModelCache(name: string = DEFAULT_CACHE_NAME): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  return caches.delete(name);
}

// ---- Blob / File ---------------------------------------------------------------------------

/** A Blob or File; each read slices it (the browser reads from disk, not from JS memory). */
export class BlobSource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private readonly blob: Blob) {
    this.size = blob.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new IOError(`${this.name}: read of ${length} bytes at offset ${offset} is outside the file (${this.size} bytes)`, { file: this.name });
    }
    try {
      return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    } catch (e) {
      throw new IOError(`${this.name}: reading the file failed (was it moved or changed since it was picked?): ${(e as Error).message}`, { file: this.name }, { cause: e });
    }
  }
}

/**
 * Files the user picked (an <input type=file multiple> or a folder from <input webkitdirectory>),
 * or Blobs by name. Files are matched by base name; from a picked folder, the file nearest its
 * top wins (a model folder's own config.json over one in a subfolder).
 */
export class BlobFiles implements ModelFiles {
  readonly name: string;
  private readonly byName = new Map<string, { blob: Blob; depth: number }>();
  private readonly prefix: string;

  constructor(files: Iterable<File> | ArrayLike<File> | Record<string, Blob>, name?: string) {
    const list: Array<[string, Blob, string]> = [];
    if (typeof (files as Iterable<File>)[Symbol.iterator] === 'function' || typeof (files as ArrayLike<File>).length === 'number') {
      for (const f of Array.from(files as ArrayLike<File>)) list.push([f.name, f, (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name]);
    } else {
      for (const [n, b] of Object.entries(files as Record<string, Blob>)) list.push([n, b, n]);
    }
    for (const [base, blob, path] of list) {
      const depth = path.split('/').length;
      const had = this.byName.get(base);
      if (!had || depth < had.depth) this.byName.set(base, { blob, depth });
    }
    const top = list.find(([, , p]) => p.includes('/'))?.[2].split('/')[0];
    this.prefix = top ? `${top}/` : '';
    this.name = name ?? (top ? `${top}/` : 'picked files');
  }

  /** The file names available (for messages: "no config.json among ..."). */
  get fileNames(): string[] {
    return [...this.byName.keys()].sort();
  }

  async open(file: string): Promise<ByteSource | null> {
    const hit = this.byName.get(file);
    return hit ? new BlobSource(`${this.prefix}${file}`, hit.blob) : null;
  }
}

/** A folder from `showDirectoryPicker()` (File System Access API; Chrome, Edge). */
export class DirectoryHandleFiles implements ModelFiles {
  readonly name: string;
  constructor(private readonly dir: FileSystemDirectoryHandle) {
    this.name = `${dir.name}/`;
  }
  async open(file: string): Promise<ByteSource | null> {
    refuseUnlessPlain(this.name, file);
    let handle: FileSystemFileHandle;
    try {
      handle = await this.dir.getFileHandle(file);
    } catch (e) {
      const n = (e as DOMException).name;
      if (n === 'NotFoundError' || n === 'TypeMismatchError') return null;
      throw new IOError(`${this.name}${file}: ${(e as Error).message}`, { file }, { cause: e });
    }
    return new BlobSource(`${this.name}${file}`, await handle.getFile());
  }
}
