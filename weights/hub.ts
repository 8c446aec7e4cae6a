// Node only (node:http/https, node:fs): downloads a model from the Hugging Face hub once into a
// local cache and returns that folder, for `--model owner/name`. Imported by the CLI, never by
// the browser build.
//
// Cache layout: <cache>/<owner>--<name>/<revision>/<file>, where <cache> is $PROTT5_CACHE, else
// $XDG_CACHE_HOME/prott5-webgpu, else ~/.cache/prott5-webgpu. A folder that already holds
// config.json and a complete set of weights is used as is, with no network access.
//
// Files: config.json, then the first of model.safetensors, model.safetensors.index.json (+ its
// shards), pytorch_model.bin that the hub has (a 404 moves on to the next). Each file is
// downloaded into <file>.incomplete and renamed into place once its size and, for LFS files,
// its sha256 (the hub's X-Linked-ETag / ETag) are verified. A cut connection leaves the
// .incomplete file; the next attempt continues it with a Range request.
import { describeValue } from './describe.js';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, IOError, UsageError, WeightsError } from '../src/errors.js';
import { cacheRoot, downloadWaitMs } from '../src/gpu/env.js';
import { makeDirs } from '../src/gpu/node-dirs.js';
import { isCompleteModelFolder, parseShardIndex, TOKENIZER_FILES, WEIGHT_FILES, WEIGHTS_TEXT } from './model-folder.js';
import { acquireLock, describeOwner } from './lock.js';
import { DirectoryFiles } from './node-files.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';


export interface DownloadProgress {
  /** Repository id, e.g. `Rostlab/prot_t5_xl_half_uniref50-enc`. */
  repo: string;
  /** File name inside the repository. */
  file: string;
  /** Bytes of this file on disk so far (including a resumed .incomplete part). */
  done: number;
  /** The file's size, or null when the server does not say. */
  total: number | null;
  /** True once, when the file is verified and in place. */
  finished: boolean;
}

export interface HubOptions {
  /** Branch, tag or commit; default "main" (or the `@revision` part of the id). */
  revision?: string;
  /** Default: $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** The cache root; default from $PROTT5_CACHE / $XDG_CACHE_HOME / ~/.cache (see `cacheRoot`). */
  cacheDir?: string;
  /** Sent as `Authorization: Bearer ...`; default $HF_TOKEN. */
  token?: string;
  /** Called as bytes arrive (often: throttle before drawing). */
  onProgress?: (p: DownloadProgress) => void;
  /** Redirects followed per request (default 10). */
  maxRedirects?: number;
  /**
   * How many times a transfer cut mid-file is continued (Range request) within this call before
   * giving up with the .incomplete file left for the next run. Default 3.
   */
  retries?: number;
  /** A connection idle this long is abandoned (ms, default 60,000). */
  timeoutMs?: number;
  /** Environment to read the defaults from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Stops the download: it rejects with the signal's reason. The file being fetched stays as
   * `<file>.incomplete` (never in place), and the next call continues it.
   */
  signal?: AbortSignal;
  /**
   * How long to wait for another process downloading into the same cache folder (ms; default
   * $PROTT5_DOWNLOAD_WAIT seconds, else an hour). Once it is done, its files are used as they are.
   */
  lockWaitMs?: number;
  /** Called once when this call starts waiting for another process's download (a sentence to show). */
  onWait?: (message: string) => void;
}

const ID_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

/** Splits `owner/name[@revision]`; null if `s` does not have that form. */
export function parseHubId(s: string): { owner: string; name: string; revision?: string } | null {
  const at = s.indexOf('@');
  const id = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? undefined : s.slice(at + 1);
  const parts = id.split('/');
  if (parts.length !== 2) return null;
  const [owner, name] = parts;
  if (!ID_PART.test(owner) || !ID_PART.test(name) || owner.includes('..') || name.includes('..') || owner.includes('--') || name.includes('--')) return null;
  if (revision !== undefined && !validRevision(revision)) return null;
  return { owner, name, revision };
}

function validRevision(r: string): boolean {
  return /^[A-Za-z0-9._\/-]+$/.test(r) && !r.split('/').some((p) => p === '' || p === '.' || p === '..');
}

/** A `--model` value names a hub repository when it is `owner/name[@rev]` and not an existing directory. */
export function isHubId(s: string): boolean {
  return parseHubId(s) !== null && !isDirectory(s);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The folder a repository's files are cached in: <cache>/<owner>--<name>/<revision>. */
export function hubCacheDir(repo: string, options: HubOptions = {}): string {
  const id = parseHubId(repo);
  if (!id) throw new UsageError(`"${repo}" is not a hub id of the form owner/name`, { repo });
  const revision = options.revision ?? id.revision ?? DEFAULT_REVISION;
  if (!validRevision(revision)) throw new UsageError(`"${revision}" is not a valid revision`, { repo, revision });
  return join(options.cacheDir ?? cacheRoot(options.env ?? process.env, homedir()), `${id.owner}--${id.name}`, encodeURIComponent(revision));
}

/**
 * The folder to load for a `--model` value: an existing directory (or anything that is not a
 * hub id) is returned unchanged; a hub id is downloaded into the cache (once) and its cache
 * folder returned.
 */
export async function resolveModel(model: string, options: HubOptions = {}): Promise<string> {
  return isHubId(model) ? downloadModel(model, options) : model;
}

/** The shards named in a local model.safetensors.index.json, checked to be plain file names. */
function shardsOf(indexText: string, where: string): string[] {
  let index: unknown;
  try {
    index = JSON.parse(indexText);
  } catch (e) {
    throw new WeightsError(`${where}: not valid JSON (${(e as Error).message})`, { file: where });
  }
  return parseShardIndex(index, where).shards;
}

/** True when `dir` holds config.json and one complete set of weights (nothing to download). */
export function isCompleteModelDir(dir: string): Promise<boolean> {
  return isCompleteModelFolder(new DirectoryFiles(dir));
}

/** What a download still needs, for the message when the hub cannot be reached. */
interface Needed {
  text: string;
  files: string[];
}
const NEEDED: Needed = {
  text: `config.json and the weights (${WEIGHTS_TEXT})`,
  files: ['config.json', ...WEIGHT_FILES],
};
const NEEDED_WEIGHTS: Needed = {
  text: `the weights (${WEIGHTS_TEXT})`,
  files: [...WEIGHT_FILES],
};

/**
 * Downloads `repo` (`owner/name[@revision]`) from the hub into the cache unless it is already
 * there, and returns the local folder (usable by `loadProtT5`).
 */
export async function downloadModel(repo: string, options: HubOptions = {}): Promise<string> {
  const id = parseHubId(repo);
  if (!id) throw new UsageError(`"${repo}" is not a hub id of the form owner/name[@revision]`, { repo });
  const env = options.env ?? process.env;
  const revision = options.revision ?? id.revision ?? DEFAULT_REVISION;
  const repoId = `${id.owner}/${id.name}`;
  const dir = hubCacheDir(repoId, { ...options, revision, env });
  if (await isCompleteModelDir(dir)) return dir;

  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const ctx: FetchContext = {
    repo: repoId,
    revision,
    endpoint,
    dir,
    token: options.token ?? env.HF_TOKEN ?? undefined,
    onProgress: options.onProgress,
    maxRedirects: options.maxRedirects ?? 10,
    retries: options.retries ?? 3,
    timeoutMs: options.timeoutMs ?? 60_000,
    signal: options.signal,
  };
  options.signal?.throwIfAborted();
  try {
    await makeDirs(dir);
  } catch (e) {
    throw new IOError(`cannot create the model cache folder ${dir}: ${(e as Error).message} (set PROTT5_CACHE to a writable folder, or use --model DIR)`, { dir }, { cause: e });
  }

  const waitMs = options.lockWaitMs ?? downloadWaitMs(env);
  const unlock = await lockFolder(dir, waitMs, options.onWait);
  try {
    // Another process may have downloaded it while this one waited for the lock.
    if (!(await isCompleteModelDir(dir))) await fetchModelFiles(ctx);
  } finally {
    await unlock();
  }
  return dir;
}

async function fetchModelFiles(ctx: FetchContext): Promise<void> {
  const { dir, endpoint, repo: repoId, revision } = ctx;
  if (!existsSync(join(dir, 'config.json'))) {
    const got = await fetchFile(ctx, 'config.json', NEEDED);
    if (got === 'missing') {
      throw new ConfigError(`${endpoint}/${repoId} (revision ${revision}) has no config.json (HTTP 404 for ${fileUrl(ctx, 'config.json')}): is "${repoId}" a model repository on the hub?`, {
        repo: repoId,
        revision,
        file: 'config.json',
      });
    }
  }

  // The tokenizer's files, before the weights (a folder with its weights counts as complete):
  // those the repository has (a 404 is no error: a ProtT5 folder may have none).
  for (const file of TOKENIZER_FILES) {
    if (!existsSync(join(dir, file))) await fetchFile(ctx, file, { text: `the tokenizer file ${file}`, files: [file] });
  }

  for (const file of WEIGHT_FILES) {
    if (file === 'model.safetensors.index.json') {
      if (!existsSync(join(dir, file)) && (await fetchFile(ctx, file, NEEDED_WEIGHTS)) === 'missing') continue;
      const shards = shardsOf(await readFile(join(dir, file), 'utf8'), join(dir, file));
      for (const shard of shards) {
        if (existsSync(join(dir, shard))) continue;
        if ((await fetchFile(ctx, shard, { text: `the shards named in model.safetensors.index.json (${shards.join(', ')})`, files: shards })) === 'missing') {
          throw new WeightsError(`${endpoint}/${repoId}: shard "${shard}" named in model.safetensors.index.json is missing on the hub`, { repo: repoId, file: shard });
        }
      }
      return;
    }
    if (existsSync(join(dir, file)) || (await fetchFile(ctx, file, NEEDED_WEIGHTS)) === 'done') return;
  }
  throw new WeightsError(`${endpoint}/${repoId} (revision ${revision}) has none of ${WEIGHT_FILES.join(', ')}`, { repo: repoId, revision });
}

/**
 * Only one process downloads into a cache folder at a time (two appending to the same
 * .incomplete file would corrupt it): the others wait for it (up to `waitMs`), then use its
 * files. A lock left by a dead process on this host is taken over.
 */
function lockFolder(dir: string, waitMs: number, onWait?: (message: string) => void): Promise<() => Promise<void>> {
  const lock = join(dir, '.download.lock');
  return acquireLock(lock, (owner) => `another process (${describeOwner(owner)}) is downloading into ${dir}; wait for it to finish, or delete ${lock} if it is gone`, {
    waitMs,
    onWait: (owner) => onWait?.(`waiting for another process (${describeOwner(owner)}) downloading into ${dir} (up to ${Math.round(waitMs / 1000)} s; PROTT5_DOWNLOAD_WAIT sets it)`),
  });
}

interface FetchContext {
  repo: string;
  revision: string;
  endpoint: string;
  dir: string;
  token?: string;
  onProgress?: (p: DownloadProgress) => void;
  maxRedirects: number;
  retries: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A failure to reach the server at all: say what to put where to work offline. */
function unreachable(ctx: FetchContext, url: string, needed: Needed, e: unknown): IOError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
  return new IOError(
    `cannot reach ${new URL(url).origin} to download ${ctx.repo} (${why}). ` +
      `Without network access, put ${needed.text} from ${ctx.endpoint}/${ctx.repo} (revision ${ctx.revision}) in ${ctx.dir}, ` +
      `or pass --model DIR with a folder that holds them.`,
    { repo: ctx.repo, revision: ctx.revision, endpoint: ctx.endpoint, url, cacheDir: ctx.dir, files: needed.files, code: err.code },
    { cause: e },
  );
}

/** Sentinel for a transfer cut after its headers arrived: worth continuing with a Range request. */
class CutTransfer extends IOError {}

interface Hop {
  status: number;
  headers: IncomingMessage['headers'];
}

/** Downloads one file into the cache folder: 'done', or 'missing' on a 404. */
async function fetchFile(ctx: FetchContext, file: string, needed: Needed): Promise<'done' | 'missing'> {
  for (let attempt = 0; ; attempt++) {
    ctx.signal?.throwIfAborted();
    try {
      return await fetchOnce(ctx, file, needed);
    } catch (e) {
      if (e instanceof CutTransfer && attempt < ctx.retries) continue;
      throw e;
    }
  }
}

function fileUrl(ctx: FetchContext, file: string): string {
  return `${ctx.endpoint}/${ctx.repo}/resolve/${encodeURIComponent(ctx.revision)}/${encodeURIComponent(file)}`;
}

async function fetchOnce(ctx: FetchContext, file: string, needed: Needed): Promise<'done' | 'missing'> {
  const dest = join(ctx.dir, file);
  const partial = `${dest}.incomplete`;
  const url = fileUrl(ctx, file);
  let start = 0;
  try {
    start = (await stat(partial)).size;
  } catch {
    start = 0;
  }

  const { res, hops, finalUrl } = await get(ctx, url, start, needed);
  const report = (done: number, total: number | null, finished = false) => ctx.onProgress?.({ repo: ctx.repo, file, done, total, finished });
  try {
    if (res.statusCode === 404) return 'missing';
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new IOError(
        `${url}: HTTP ${res.statusCode}: ${ctx.repo} is private, gated or does not exist` +
          (ctx.token ? ' (the HF_TOKEN sent was not accepted for it)' : '; if it is gated or private, set HF_TOKEN to an access token that may read it'),
        { repo: ctx.repo, file, url, status: res.statusCode },
      );
    }

    // The hub names the LFS file's sha256 in X-Linked-ETag (on its redirect) or ETag.
    const sha256 = expectedSha256(hops);
    const linkedSize = hops.map((h) => Number(h.headers['x-linked-size'])).find((n) => Number.isSafeInteger(n) && n >= 0) ?? null;

    let total: number | null;
    let from: number;
    if (res.statusCode === 416 && start > 0) {
      // The .incomplete part is already as long as the file (a crash before the rename?): verify it.
      const m = /^bytes \*\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      total = m ? Number(m[1]) : linkedSize;
      if (total !== start) {
        await rm(partial, { force: true });
        throw new CutTransfer(`${finalUrl}: the server refused to continue ${file} at byte ${start}; starting over`, { file, url });
      }
      res.resume();
      await finish(ctx, file, partial, dest, start, total, sha256, url, await hashFile(partial));
      report(total, total, true);
      return 'done';
    } else if (res.statusCode === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== start) {
        await rm(partial, { force: true });
        throw new CutTransfer(`${finalUrl}: the server answered the Range request for ${file} with ${res.headers['content-range'] === undefined ? 'no Content-Range' : `"${res.headers['content-range']}"`}, not bytes ${start}-; starting over`, { file, url });
      }
      from = start;
      total = m[3] === '*' ? linkedSize : Number(m[3]);
    } else if (res.statusCode === 200) {
      from = 0; // no Range asked, or the server ignored it: start over
      const len = Number(res.headers['content-length']);
      total = res.headers['content-length'] !== undefined && Number.isSafeInteger(len) ? len : linkedSize;
    } else {
      throw new IOError(`${finalUrl}: HTTP ${res.statusCode} ${res.statusMessage ?? ''} while downloading ${file} of ${ctx.repo}`.trim(), {
        repo: ctx.repo,
        file,
        url: finalUrl,
        status: res.statusCode,
      });
    }
    if (linkedSize !== null && total !== null && linkedSize !== total) {
      throw new IOError(`${finalUrl}: the hub says ${file} is ${linkedSize} bytes but the download is ${total}`, { file, url: finalUrl });
    }

    const hash = from > 0 && sha256 ? await hashFile(partial, from) : createHash('sha256');
    let fd: number;
    try {
      fd = openSync(partial, from > 0 ? 'a' : 'w');
    } catch (e) {
      throw new IOError(`cannot write ${partial}: ${(e as Error).message}`, { file: partial }, { cause: e });
    }
    let done = from;
    report(done, total);
    try {
      // Each chunk is written (synchronously) as it arrives, so a connection cut right after
      // data arrived keeps that data: an async iterator would drop what it had buffered.
      await new Promise<void>((ok, fail) => {
        let settled = false;
        const onAbort = () => bail(ctx.signal!.reason as Error);
        const bail = (e: Error) => {
          if (settled) return;
          settled = true;
          ctx.signal?.removeEventListener('abort', onAbort);
          res.destroy();
          fail(e);
        };
        if (ctx.signal?.aborted) return onAbort();
        ctx.signal?.addEventListener('abort', onAbort, { once: true });
        const cut = (why: string, cause?: unknown) =>
          bail(
            new CutTransfer(
              `the connection to ${new URL(finalUrl).host} broke after ${done}${total !== null ? ` of ${total}` : ''} bytes of ${file} (${why}); ` +
                `run again to continue from ${partial}`,
              { repo: ctx.repo, file, url: finalUrl, done, total, partial },
              { cause },
            ),
          );
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          if (total !== null && done + chunk.byteLength > total) {
            return bail(new IOError(`${finalUrl}: the server sent more than the ${total} bytes of ${file}`, { file, url: finalUrl }));
          }
          try {
            for (let off = 0; off < chunk.byteLength; ) off += writeSync(fd, chunk, off, chunk.byteLength - off);
          } catch (e) {
            return bail(new IOError(`cannot write ${partial}: ${(e as Error).message}`, { file: partial }, { cause: e }));
          }
          hash.update(chunk);
          done += chunk.byteLength;
          report(done, total);
        });
        res.on('error', (e) => cut(e.message, e));
        const succeed = () => {
          settled = true;
          ctx.signal?.removeEventListener('abort', onAbort);
          ok();
        };
        res.on('end', () => {
          if (!settled) succeed();
        });
        res.on('close', () => {
          if (!settled) (res.complete ? succeed() : cut('closed early'));
        });
      });
    } finally {
      closeSync(fd);
    }
    if (total !== null && done < total) {
      throw new CutTransfer(`the connection to ${new URL(finalUrl).host} closed after ${done} of ${total} bytes of ${file}; run again to continue from ${partial}`, {
        repo: ctx.repo,
        file,
        url: finalUrl,
        done,
        total,
        partial,
      });
    }
    await finish(ctx, file, partial, dest, done, total, sha256, finalUrl, hash);
    report(done, done, true);
    return 'done';
  } finally {
    if (!res.complete) res.destroy();
  }
}

/** Checks the sha256 and renames the .incomplete file into place; a bad file is deleted. */
async function finish(ctx: FetchContext, file: string, partial: string, dest: string, size: number, total: number | null, sha256: string | null, url: string, hash: Hash): Promise<void> {
  if (total !== null && size !== total) throw new IOError(`${url}: ${file} has ${size} bytes, expected ${total}`, { file, url });
  if (sha256) {
    const got = hash.digest('hex');
    if (got !== sha256) {
      await rm(partial, { force: true });
      throw new IOError(`${url}: ${file} is corrupt: its sha256 is ${got} but the hub says ${sha256}; the download was deleted, run again to retry`, {
        repo: ctx.repo,
        file,
        url,
        expected: sha256,
        actual: got,
      });
    }
  }
  try {
    await rename(partial, dest);
  } catch (e) {
    throw new IOError(`cannot rename ${partial} to ${dest}: ${(e as Error).message}`, { file: dest }, { cause: e });
  }
}

/** The first 64-hex (sha256) value among the hops' X-Linked-ETag, then ETag headers. */
function expectedSha256(hops: Hop[]): string | null {
  const values = [...hops.map((h) => h.headers['x-linked-etag']), ...hops.map((h) => h.headers.etag)];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const m = /^(?:W\/)?"?([0-9a-fA-F]{64})"?$/.exec(v.trim());
    if (m) return m[1].toLowerCase();
  }
  return null;
}

/** sha256 of the first `length` bytes of a file (all of it by default), streamed. */
async function hashFile(path: string, length?: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  const stream = createReadStream(path, length === undefined ? {} : { start: 0, end: length - 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash;
}

/** GET with redirects followed; the final response (body unread) and the headers of every hop. */
async function get(ctx: FetchContext, url: string, start: number, needed: Needed): Promise<{ res: IncomingMessage; hops: Hop[]; finalUrl: string }> {
  const hops: Hop[] = [];
  let current = url;
  const firstHost = new URL(url).host;
  for (let redirects = 0; ; redirects++) {
    const u = new URL(current);
    const headers: Record<string, string> = { 'user-agent': 'prott5-webgpu', accept: '*/*' };
    if (start > 0) headers.range = `bytes=${start}-`;
    // Like the hub's own clients: the token goes to the hub, not to the CDN it redirects to.
    if (ctx.token && u.host === firstHost) headers.authorization = `Bearer ${ctx.token}`;
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolveRes, reject) => {
        const req = (u.protocol === 'https:' ? httpsRequest : u.protocol === 'http:' ? httpRequest : null)?.(u, { method: 'GET', headers, agent: false, signal: ctx.signal }, resolveRes);
        if (!req) return reject(new IOError(`${current}: unsupported URL scheme ${u.protocol}`, { url: current }));
        req.setTimeout(ctx.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer for ${ctx.timeoutMs / 1000} s`), { code: 'TIMEOUT' })));
        req.on('error', reject);
        req.end();
      });
    } catch (e) {
      if (e instanceof IOError) throw e;
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      throw unreachable(ctx, current, needed, e);
    }
    // A stalled body counts as a cut transfer (continued by the next attempt).
    res.setTimeout?.(ctx.timeoutMs, () => res.destroy(new Error(`no data for ${ctx.timeoutMs / 1000} s`)));
    hops.push({ status: res.statusCode ?? 0, headers: res.headers });
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      if (redirects >= ctx.maxRedirects) throw new IOError(`${url}: more than ${ctx.maxRedirects} redirects`, { url, redirects });
      current = new URL(res.headers.location, current).toString();
      continue;
    }
    return { res, hops, finalUrl: current };
  }
}
