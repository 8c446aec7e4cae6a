// Hub download and cache against a local server with the hub's URL layout
// (/<owner>/<name>/resolve/<revision>/<file>): LFS files redirect (302) to a "CDN" on another
// port with X-Linked-ETag/X-Linked-Size, which serves Range requests (206) and can cut the
// connection part way; missing files are 404. Then the downloaded models load and embed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { readHdf5Embeddings } from '../src/cli/hdf5.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigError, IOError, WeightsError } from '../src/errors.js';
import { loadProtT5 } from '../src/node.js';
import { cacheRoot } from '../src/gpu/env.js';
import { downloadProgressLine } from '../src/cli/progress.js';
import { downloadModel, hubCacheDir, isHubId, parseHubId, resolveModel, type DownloadProgress } from '../weights/hub.js';
import { expectClose, fixturesDir, expected, repoRoot } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const REPOS: Record<string, string> = {
  'hubtest/tiny-f16': join(TINY, 't5-tiny-f16'),
  'hubtest/tiny-torch': join(TINY, 't5-tiny-torch-f16'),
  'hubtest/tiny-sharded': join(TINY, 't5-tiny-sharded'),
  // A folder with a tokenizer file (spiece.model), as Rostlab's repositories have.
  'hubtest/demo': join(repoRoot(), 'examples', 'demo-model'),
};

interface Hit {
  server: 'hub' | 'cdn';
  path: string;
  status: number;
  range?: string;
  auth?: string;
}

const state = {
  log: [] as Hit[],
  /** Cut the next weights body after this many bytes (one shot). */
  cutAfter: null as number | null,
  wrongSha: false,
  ignoreRange: false,
  /** X-Linked-Size the hub announces instead of the real size. */
  linkedSize: null as number | null,
  /** The CDN sends no Content-Length (chunked): the size known is X-Linked-Size or Content-Range's. */
  chunked: false,
  /** Bytes of junk the CDN sends after the file's bytes. */
  extra: 0,
  /** Bytes the CDN leaves off the end of the body (then ends the response cleanly). */
  short: 0,
  /** Answers a Range request with a 206 carrying this Content-Range (none if null) and the whole file. */
  rangeAnswer: null as ((from: number, size: number) => string | null) | null,
  /** The CDN waits this long before answering (ms): a download that takes a while. */
  cdnDelayMs: 0,
};

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const isWeights = (file: string) => file !== 'config.json' && !file.endsWith('.json');

function serveBytes(req: IncomingMessage, res: ServerResponse, hit: Hit, bytes: Buffer, etag: string, weights: boolean): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let from = 0;
  const headers: Record<string, string | number> = { etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (range && !state.ignoreRange) {
    from = Number(range[1]);
    if (from >= bytes.length) {
      hit.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
      res.end();
      return;
    }
    hit.status = 206;
    let contentRange: string | null = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
    if (state.rangeAnswer) {
      contentRange = state.rangeAnswer(from, bytes.length);
      from = 0;
    }
    if (contentRange !== null) headers['content-range'] = contentRange;
  } else {
    hit.status = 200;
  }
  let body = bytes.subarray(from);
  if (weights && state.short > 0) body = body.subarray(0, Math.max(0, body.length - state.short));
  if (weights && state.extra > 0) body = Buffer.concat([body, Buffer.alloc(state.extra, 0x5a)]);
  if (!(weights && state.chunked)) headers['content-length'] = body.length;
  res.writeHead(hit.status, headers);
  if (weights && state.cutAfter !== null) {
    const n = state.cutAfter;
    state.cutAfter = null;
    res.write(body.subarray(0, n), () => req.socket.destroy());
    return;
  }
  res.end(body);
}

function handler(server: 'hub' | 'cdn') {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const hit: Hit = { server, path, status: 0, range: req.headers.range, auth: req.headers.authorization };
    state.log.push(hit);
    const notFound = () => {
      hit.status = 404;
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' });
      res.end('Entry not found');
    };
    const hub = server === 'hub' ? /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/]+)$/.exec(path) : null;
    const cdn = server === 'cdn' ? /^\/blobs\/([^/]+\/[^/]+)\/([^/]+)$/.exec(path) : null;
    const [repo, rev, file] = hub ? [hub[1], hub[2], hub[3]] : cdn ? [cdn[1], 'main', cdn[2]] : ['', '', ''];
    const dir = REPOS[repo];
    if (!dir || rev !== 'main' || !existsSync(join(dir, file))) return notFound();
    const bytes = readFileSync(join(dir, file));
    const sum = state.wrongSha ? 'f'.repeat(64) : sha256(bytes);
    if (hub && isWeights(file)) {
      // LFS: the hub answers with a redirect naming the sha256 and size; the CDN has the bytes.
      hit.status = 302;
      res.writeHead(302, { location: `${cdnUrl}/blobs/${repo}/${file}`, 'x-linked-etag': `"${sum}"`, 'x-linked-size': state.linkedSize ?? bytes.length, etag: `"${sum}"` });
      res.end();
      return;
    }
    // config.json's ETag is a git blob id (40 hex, not a sha256); the CDN's is an md5-like id.
    const etag = hub ? `"${createHash('sha1').update(bytes).digest('hex')}"` : `"${createHash('md5').update(bytes).digest('hex')}"`;
    if (cdn && state.cdnDelayMs > 0) setTimeout(() => serveBytes(req, res, hit, bytes, etag, isWeights(file)), state.cdnDelayMs);
    else serveBytes(req, res, hit, bytes, etag, isWeights(file));
  };
}

let hubServer: Server, cdnServer: Server;
let hubUrl = '', cdnUrl = '';
const listen = (s: Server) => new Promise<string>((ok) => s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

const tmp = mkdtempSync(join(tmpdir(), 'prott5-hub-'));
let cacheN = 0;
const freshCache = () => join(tmp, `cache${cacheN++}`);
const reset = () => {
  state.log = [];
  state.cutAfter = null;
  state.wrongSha = false;
  state.ignoreRange = false;
  state.linkedSize = null;
  state.chunked = false;
  state.extra = 0;
  state.short = 0;
  state.rangeAnswer = null;
  state.cdnDelayMs = 0;
};

/** reset(), a fresh cache, and its folder for hubtest/tiny-f16 holding `partial` as model.safetensors.incomplete if given. */
function freshDownload(partialBytes?: Uint8Array): { cache: string; dir: string; partial: string } {
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  const partial = join(dir, 'model.safetensors.incomplete');
  if (partialBytes) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(partial, partialBytes);
  }
  return { cache, dir, partial };
}

const sameBytes = (a: string, b: string) => Buffer.compare(readFileSync(a), readFileSync(b)) === 0;
const F16 = REPOS['hubtest/tiny-f16'];
const F16_SIZE = statSync(join(F16, 'model.safetensors')).size;

test.before(async () => {
  hubServer = createServer(handler('hub'));
  cdnServer = createServer(handler('cdn'));
  hubUrl = await listen(hubServer);
  cdnUrl = await listen(cdnServer);
});

test.after(async () => {
  await new Promise((ok) => hubServer.close(ok));
  await new Promise((ok) => cdnServer.close(ok));
  rmSync(tmp, { recursive: true, force: true });
});

test('ids, cache root and cache folder', () => {
  assert.equal(parseHubId('Rostlab/prot_t5_xl_half_uniref50-enc'), { owner: 'Rostlab', name: 'prot_t5_xl_half_uniref50-enc', revision: undefined });
  assert.equal(parseHubId('a/b@v1.0')?.revision, 'v1.0');
  for (const bad of ['a', 'a/b/c', '../x', './x', 'a/..', '/abs/x', 'a/b@', 'a/b@../x', 'a--b/c', '']) assert.is(parseHubId(bad), null, bad);
  assert.ok(isHubId('Rostlab/prot_t5_xl_half_uniref50-enc'));
  const existing = relative(process.cwd(), fixturesDir());
  if (existing.split('/').length === 2) assert.not.ok(isHubId(existing), `${existing} is a directory, not a hub id`);

  assert.is(cacheRoot({ PROTT5_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c');
  assert.is(cacheRoot({ XDG_CACHE_HOME: '/x' }), '/x/prott5-webgpu');
  assert.ok(cacheRoot({}).endsWith(join('.cache', 'prott5-webgpu')));
  assert.is(hubCacheDir('o/n', { cacheDir: '/c' }), join('/c', 'o--n', 'main'));
  assert.is(hubCacheDir('o/n@refs/pr/1', { cacheDir: '/c' }), join('/c', 'o--n', 'refs%2Fpr%2F1'));
});

test('the progress line: a log gets a line per file start, every 10% of a large file, and the end', () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const draw = downloadProgressLine(stream);
  const total = 200e6;
  for (let done = 0; done < total; done += 1e6) draw({ repo: 'o/n', file: 'model.safetensors', done, total, finished: false });
  draw({ repo: 'o/n', file: 'model.safetensors', done: total, total, finished: true });
  assert.is(lines[0], 'downloading o/n/model.safetensors\n');
  assert.is(lines.length, 1 + 9 + 1, lines.join('')); // start, 10%..90%, done
  assert.is(lines.at(-1), 'downloading o/n/model.safetensors: 200.0 MB of 200.0 MB (100%)\n');
});

test('a directory passes through resolveModel without any request', async () => {
  reset();
  assert.is(await resolveModel(F16, { endpoint: hubUrl }), F16);
  assert.is(state.log.length, 0);
});

test('downloads into the cache ($PROTT5_CACHE, $HF_ENDPOINT) through a redirect; sha256 checked; a second call requests nothing', async () => {
  reset();
  const cache = freshCache();
  const saved = { c: process.env.PROTT5_CACHE, e: process.env.HF_ENDPOINT };
  process.env.PROTT5_CACHE = cache;
  process.env.HF_ENDPOINT = hubUrl;
  try {
    const events: DownloadProgress[] = [];
    const dir = await resolveModel('hubtest/tiny-f16', { onProgress: (p) => events.push(p) });
    assert.is(dir, join(cache, 'hubtest--tiny-f16', 'main'));
    assert.equal(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);
    assert.ok(sameBytes(join(dir, 'config.json'), join(F16, 'config.json')));
    assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
    assert.ok(state.log.some((h) => h.server === 'hub' && h.path.endsWith('/resolve/main/model.safetensors') && h.status === 302));
    assert.ok(state.log.some((h) => h.server === 'cdn' && h.path.endsWith('/model.safetensors') && h.status === 200));
    const fin = events.filter((e) => e.finished).map((e) => [e.file, e.done, e.total]);
    assert.equal(fin, [['config.json', statSync(join(F16, 'config.json')).size, statSync(join(F16, 'config.json')).size], ['model.safetensors', F16_SIZE, F16_SIZE]]);

    reset();
    assert.is(await resolveModel('hubtest/tiny-f16'), dir);
    assert.equal(state.log, [], 'nothing is requested once the cache holds the model');
  } finally {
    for (const [k, v] of [['PROTT5_CACHE', saved.c], ['HF_ENDPOINT', saved.e]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('a cut connection leaves .incomplete; the next call continues it with a Range request', async () => {
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  state.cutAfter = 100_000;
  try {
    await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, IOError);
    assert.match((e as Error).message, /model\.safetensors/);
    assert.match((e as Error).message, /run again to continue/);
  }
  const partial = join(dir, 'model.safetensors.incomplete');
  assert.ok(existsSync(partial), '.incomplete kept');
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  const n = statSync(partial).size;
  assert.ok(n > 0 && n < F16_SIZE, `partial holds ${n} bytes`);

  reset();
  const got = await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 });
  assert.is(got, dir);
  const cdnHits = state.log.filter((h) => h.server === 'cdn');
  assert.equal(cdnHits.map((h) => [h.range, h.status]), [[`bytes=${n}-`, 206]]);
  assert.not.ok(state.log.some((h) => h.path.endsWith('/config.json')), 'config.json is not fetched again');
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
  assert.not.ok(existsSync(partial));
});

test('with retries, a cut transfer is continued within the same call', async () => {
  reset();
  const cache = freshCache();
  state.cutAfter = 50_000;
  const dir = await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
  assert.equal(state.log.filter((h) => h.server === 'cdn').map((h) => [h.range, h.status]), [[undefined, 200], ['bytes=50000-', 206]]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
});

test('a server that ignores Range (200) makes the download start over', async () => {
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors.incomplete'), readFileSync(join(F16, 'model.safetensors')).subarray(0, 1234));
  state.ignoreRange = true;
  await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
  assert.equal(state.log.filter((h) => h.server === 'cdn').map((h) => [h.range, h.status]), [['bytes=1234-', 200]]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
});

test('an .incomplete file already whole (416) is verified and put in place', async () => {
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors.incomplete'), readFileSync(join(F16, 'model.safetensors')));
  await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
  assert.equal(state.log.filter((h) => h.server === 'cdn').map((h) => h.status), [416]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
});

test('a wrong sha256 is an error and nothing is put in place', async () => {
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  state.wrongSha = true;
  try {
    await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, IOError);
    assert.match((e as Error).message, /sha256/);
    assert.is((e as IOError).context.expected, 'f'.repeat(64));
  }
  assert.ok(existsSync(join(dir, 'config.json')), 'config.json (no sha256 given) is in place');
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  assert.not.ok(existsSync(join(dir, 'model.safetensors.incomplete')), 'the corrupt download is deleted');
  assert.not.ok(existsSync(join(dir, '.download.lock')), 'the lock is released');
});

/** Awaits p, asserts it rejects with an IOError whose message holds every fragment; returns the error. */
async function downloadFails(p: Promise<unknown>, ...fragments: string[]): Promise<IOError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.instance(err, IOError, 'an IOError');
  for (const f of fragments) assert.ok((err as Error).message.includes(f), `message ${JSON.stringify((err as Error).message)} lacks ${JSON.stringify(f)}`);
  return err as IOError;
}

const F16_BYTES = readFileSync(join(F16, 'model.safetensors'));
const cdnStatuses = () => state.log.filter((h) => h.server === 'cdn').map((h) => [h.range, h.status]);
/** True when the file holds a prefix of the real model.safetensors (and no more than it). */
const isPrefix = (path: string) => {
  const b = readFileSync(path);
  return b.length <= F16_BYTES.length && Buffer.compare(b, F16_BYTES.subarray(0, b.length)) === 0;
};

test("the hub's X-Linked-Size differing from the size served: IOError naming the file and both sizes; nothing put in place", async () => {
  for (const announced of [F16_SIZE + 10, F16_SIZE - 10]) {
    reset();
    const cache = freshCache();
    const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
    state.linkedSize = announced;
    const e = await downloadFails(downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache }), `the hub says model.safetensors is ${announced} bytes but the download is ${F16_SIZE}`);
    assert.is(e.context.file, 'model.safetensors');
    assert.equal(cdnStatuses(), [[undefined, 200]], 'not retried');
    assert.ok(existsSync(join(dir, 'config.json')));
    assert.not.ok(existsSync(join(dir, 'model.safetensors')));
    assert.not.ok(existsSync(join(dir, 'model.safetensors.incomplete')), 'nothing is written');
    assert.not.ok(existsSync(join(dir, '.download.lock')), 'the lock is released');
  }
  // Continuing a partial: the 206's Content-Range total is not the announced size; the partial is left as it was.
  const { cache, dir, partial } = freshDownload(F16_BYTES.subarray(0, 1234));
  state.linkedSize = F16_SIZE + 10;
  const e = await downloadFails(downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache }), `the hub says model.safetensors is ${F16_SIZE + 10} bytes but the download is ${F16_SIZE}`);
  assert.is(e.context.file, 'model.safetensors');
  assert.equal(cdnStatuses(), [['bytes=1234-', 206]]);
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  assert.is(statSync(partial).size, 1234, 'nothing is appended to the partial');
  assert.ok(isPrefix(partial));
});

test('a server sending more bytes than announced: IOError naming the file; no more than the announced size is written, and that partial is continued and verified by the next run', async () => {
  // A 200 with no Content-Length (the size known is X-Linked-Size), then a 206 whose body runs past its Content-Range.
  for (const resume of [false, true]) {
    const { cache, dir, partial } = freshDownload();
    if (resume) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(partial, F16_BYTES.subarray(0, 1234));
    }
    state.extra = 7;
    state.chunked = !resume;
    const e = await downloadFails(downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache }), `the server sent more than the ${F16_SIZE} bytes of model.safetensors`);
    assert.is(e.context.file, 'model.safetensors');
    assert.equal(cdnStatuses(), [resume ? ['bytes=1234-', 206] : [undefined, 200]], 'not retried');
    assert.not.ok(existsSync(join(dir, 'model.safetensors')));
    assert.not.ok(existsSync(join(dir, '.download.lock')));
    assert.ok(isPrefix(partial), `the partial (${statSync(partial).size} bytes) holds no byte past the announced ${F16_SIZE}`);

    reset();
    await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
    assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
    assert.not.ok(existsSync(partial));
  }
});

test('a 206 whose Content-Range is not the range asked: IOError naming the file; the partial is deleted and the download starts over', async () => {
  const answers: Array<(from: number, size: number) => string | null> = [
    (_from, size) => `bytes 0-${size - 1}/${size}`,
    (from, size) => `bytes ${from - 1000}-${size - 1}/${size}`,
    (from, size) => `bytes ${from + 1}-${size - 1}/${size}`,
    () => null,
    (_from, size) => `bytes */${size}`,
  ];
  for (const answer of answers) {
    const { cache, dir, partial } = freshDownload(F16_BYTES.subarray(0, 1234));
    state.rangeAnswer = answer;
    const e = await downloadFails(downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 }), 'Range request for model.safetensors', 'not bytes 1234-');
    const sent = answer(1234, F16_SIZE);
    assert.ok(e.message.includes(sent === null ? 'with no Content-Range' : `with "${sent}"`), e.message);
    assert.is(e.context.file, 'model.safetensors');
    assert.equal(cdnStatuses(), [['bytes=1234-', 206]]);
    assert.not.ok(existsSync(join(dir, 'model.safetensors')));
    assert.not.ok(existsSync(partial), 'the partial is deleted');
  }
  // With retries (the default) the same call starts over, without a Range.
  reset();
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors.incomplete'), F16_BYTES.subarray(0, 1234));
  state.rangeAnswer = answers[0];
  await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
  assert.equal(cdnStatuses(), [['bytes=1234-', 206], [undefined, 200]]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
});

test('the final size check: a body ending cleanly short of the announced size is an IOError naming the file and both sizes; the partial is kept and continued', async () => {
  const { cache, dir, partial } = freshDownload();
  state.chunked = true;
  state.short = 1000;
  const e = await downloadFails(
    downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 }),
    `closed after ${F16_SIZE - 1000} of ${F16_SIZE} bytes of model.safetensors`,
    `run again to continue from ${partial}`,
  );
  assert.equal([e.context.file, e.context.done, e.context.total], ['model.safetensors', F16_SIZE - 1000, F16_SIZE]);
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  assert.is(statSync(partial).size, F16_SIZE - 1000);
  assert.ok(isPrefix(partial));

  reset();
  await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 });
  assert.equal(cdnStatuses(), [[`bytes=${F16_SIZE - 1000}-`, 206]]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
  assert.not.ok(existsSync(partial));
});

test('an .incomplete file longer than the file (416 naming a smaller size): deleted, and the download starts over', async () => {
  const long = Buffer.concat([F16_BYTES, Buffer.alloc(5, 0x5a)]);
  const { cache, dir, partial } = freshDownload(long);
  const e = await downloadFails(downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache, retries: 0 }), `refused to continue model.safetensors at byte ${F16_SIZE + 5}`);
  assert.is(e.context.file, 'model.safetensors');
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  assert.not.ok(existsSync(partial), 'the partial is deleted');

  reset();
  writeFileSync(partial, long);
  await downloadModel('hubtest/tiny-f16', { endpoint: hubUrl, cacheDir: cache });
  assert.equal(cdnStatuses(), [[`bytes=${F16_SIZE + 5}-`, 416], [undefined, 200]]);
  assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
});

test('pytorch_model.bin after 404s for model.safetensors and the index; the token goes to the hub, not the CDN', async () => {
  reset();
  const cache = freshCache();
  const dir = await downloadModel('hubtest/tiny-torch', { endpoint: hubUrl, cacheDir: cache, token: 'hf_secret' });
  assert.equal(readdirSync(dir).sort(), ['config.json', 'pytorch_model.bin']);
  assert.ok(sameBytes(join(dir, 'pytorch_model.bin'), join(REPOS['hubtest/tiny-torch'], 'pytorch_model.bin')));
  const hub = state.log.filter((h) => h.server === 'hub');
  assert.equal(hub.map((h) => [h.path.split('/').pop(), h.status]), [
    ['config.json', 200],
    // The tokenizer's files are asked for; this repository has none (ProtT5's own recipe then applies).
    ['spiece.model', 404],
    ['vocab.txt', 404],
    ['tokenizer.json', 404],
    ['tokenizer_config.json', 404],
    ['added_tokens.json', 404],
    ['model.safetensors', 404],
    ['model.safetensors.index.json', 404],
    ['pytorch_model.bin', 302],
  ]);
  assert.ok(hub.every((h) => h.auth === 'Bearer hf_secret'));
  assert.ok(state.log.filter((h) => h.server === 'cdn').every((h) => h.auth === undefined));
});

test('the tokenizer files the repository has are downloaded with the model (spiece.model, tokenizer_config.json, added_tokens.json here)', async () => {
  reset();
  const dir = await downloadModel('hubtest/demo', { endpoint: hubUrl, cacheDir: freshCache() });
  assert.equal(readdirSync(dir).sort(), ['added_tokens.json', 'config.json', 'model.safetensors', 'spiece.model', 'tokenizer_config.json']);
  assert.ok(sameBytes(join(dir, 'spiece.model'), join(REPOS['hubtest/demo'], 'spiece.model')));
});

test('a sharded repository: the index, then each shard', async () => {
  reset();
  const cache = freshCache();
  const dir = await downloadModel('hubtest/tiny-sharded', { endpoint: hubUrl, cacheDir: cache });
  const src = REPOS['hubtest/tiny-sharded'];
  assert.equal(readdirSync(dir).sort(), readdirSync(src).sort());
  for (const f of readdirSync(src)) assert.ok(sameBytes(join(dir, f), join(src, f)), f);
});

test('a repository the hub does not have: ConfigError; one without weights: WeightsError', async () => {
  reset();
  try {
    await downloadModel('hubtest/nothing', { endpoint: hubUrl, cacheDir: freshCache() });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match((e as Error).message, /hubtest\/nothing/);
  }
  REPOS['hubtest/config-only'] = join(tmp, 'config-only');
  mkdirSync(REPOS['hubtest/config-only']);
  writeFileSync(join(REPOS['hubtest/config-only'], 'config.json'), '{}');
  try {
    await downloadModel('hubtest/config-only', { endpoint: hubUrl, cacheDir: freshCache() });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, WeightsError);
    assert.match((e as Error).message, /model\.safetensors.*pytorch_model\.bin/);
  }
});

test('an unreachable endpoint: IOError naming the files needed and the cache folder', async () => {
  const closed = createServer();
  const port = await listen(closed).then((u) => Number(new URL(u).port));
  await new Promise((ok) => closed.close(ok));
  const cache = freshCache();
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir: cache });
  try {
    await resolveModel('hubtest/tiny-f16', { endpoint: `http://127.0.0.1:${port}`, cacheDir: cache });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, IOError);
    const msg = (e as Error).message;
    for (const want of ['ECONNREFUSED', 'config.json', 'model.safetensors', 'pytorch_model.bin', dir, '--model DIR']) assert.ok(msg.includes(want), `message names ${want}: ${msg}`);
    assert.is((e as IOError).context.cacheDir, dir);
    assert.equal((e as IOError).context.files, ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']);
  }
});

// ---------- concurrent jobs on one host ----------

test('three `prott5 embed` processes at once on an empty cache with a hub id: all succeed, the model is downloaded once (the others wait for the lock)', async () => {
  reset();
  state.cdnDelayMs = 1500;
  const cache = freshCache();
  const work = join(tmp, 'three');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'in.fa'), '>a\nMKTAYIAK\n>b\nGGSW\n');
  const runs = [1, 2, 3].map((i) => new Promise<{ code: number | null; stderr: string }>((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'prott5.js'), 'embed', join(work, 'in.fa'), '-o', join(work, `out${i}.h5`), '--model', 'hubtest/demo'], {
      env: { ...process.env, PROTT5_CACHE: cache, HF_ENDPOINT: hubUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stderr }));
  }));
  const done = await Promise.all(runs);
  for (const [i, r] of done.entries()) assert.is(r.code, 0, `process ${i + 1}: ${r.stderr}`);
  const fetched = (f: string) => state.log.filter((h) => h.path.endsWith(`/${f}`) && (h.status === 200 || h.status === 206)).length;
  assert.is(fetched('model.safetensors'), 1, `the weights were fetched once: ${JSON.stringify(state.log)}`);
  assert.is(fetched('config.json'), 1, 'config.json fetched once');
  const waited = done.filter((r) => /waiting for another process \(pid \d+ on .*\) downloading into .*PROTT5_DOWNLOAD_WAIT/.test(r.stderr)).length;
  assert.ok(waited >= 1, `at least one process said it waited for the download: ${done.map((r) => r.stderr).join('\n---\n')}`);
  const got = await Promise.all([1, 2, 3].map((i) => readHdf5Embeddings(join(work, `out${i}.h5`))));
  // Each process tuned its kernels on its own (the cache was empty): the same values to rounding.
  for (const g of got.slice(1)) expectClose('process 2/3 vs 1', g.get('a')!.data, got[0].get('a')!.data, 1e-5);
  console.log(`  ${waited} of 3 processes waited for the first one's download`);
});

// ---------- the downloaded models run ----------

const want = expected;

test('downloaded models load and embed within 1e-4 of the F16 reference', async () => {
  const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;
  const c = cases[2];
  for (const repo of ['hubtest/tiny-f16', 'hubtest/tiny-torch']) {
    reset();
    const dir = await resolveModel(repo, { endpoint: hubUrl, cacheDir: freshCache() });
    const model = await loadProtT5(dir, { runtime: await runtime() });
    try {
      const [e] = await model.embed([c.sequence], { perResidue: true, perProtein: true });
      expectClose(`${repo} residue.${c.index}`, e.perResidue!.data, await want(`F16.residue.${c.index}`), 1e-4);
      expectClose(`${repo} protein.${c.index}`, e.perProtein!.data, await want(`F16.protein.${c.index}`), 1e-4);
    } finally {
      model.dispose();
    }
  }
});

// ---------- hub ids, URLs and missing folders in the library ----------

test('loadProtT5 takes a hub id: an abort mid-download leaves only the .incomplete part (no lock); the next load continues it, reporting download, upload, tuning, compiling', async () => {
  reset();
  const cacheDir = freshCache();
  const hub = { endpoint: hubUrl, cacheDir };
  const dir = hubCacheDir('hubtest/tiny-f16', { cacheDir });
  const ac = new AbortController();
  try {
    await loadProtT5('hubtest/tiny-f16', {
      runtime: await runtime(),
      hub,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'download' && p.file === 'model.safetensors' && p.loaded > 0 && !p.finished) ac.abort();
      },
    });
    assert.unreachable('the load was aborted');
  } catch (e) {
    assert.is((e as Error).name, 'AbortError', String(e));
  }
  assert.ok(!existsSync(join(dir, 'model.safetensors')), 'nothing half-written in place');
  assert.ok(statSync(join(dir, 'model.safetensors.incomplete')).size > 0, 'the part received is kept');
  assert.ok(!existsSync(join(dir, '.download.lock')), 'the lock is released');

  state.log = [];
  const phases: string[] = [];
  const model = await loadProtT5('hubtest/tiny-f16', { runtime: await runtime(), hub, onProgress: (p) => void (phases.at(-1) !== p.phase && phases.push(p.phase)) });
  try {
    assert.ok(state.log.some((h) => h.server === 'cdn' && h.path.endsWith('/model.safetensors') && h.status === 206 && /^bytes=[1-9]\d*-$/.test(h.range ?? '')), 'continued with a Range request');
    assert.equal(phases, ['download', 'upload', 'tuning', 'compiling']);
    assert.ok(sameBytes(join(dir, 'model.safetensors'), join(F16, 'model.safetensors')));
    const c = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases[1] as { index: number; sequence: string };
    const [e] = await model.embed([c.sequence]);
    expectClose('hub id protein', e.perProtein.data, await want(`F16.protein.${c.index}`), 1e-4);
  } finally {
    await model.dispose();
  }
});

test('loadProtT5: a missing folder says so; a hub id or URL the server does not have gives the HTTP status', async () => {
  reset();
  const missing = join(tmp, 'no-such-model');
  const fails = async (source: string, type: Function, ...fragments: string[]) => {
    try {
      await loadProtT5(source, { runtime: await runtime(), hub: { endpoint: hubUrl, cacheDir: freshCache() } });
    } catch (e) {
      assert.instance(e, type, String(e));
      for (const f of fragments) assert.ok((e as Error).message.includes(f), `${(e as Error).message} lacks ${f}`);
      return;
    }
    assert.unreachable(`${source} loaded`);
  };
  await fails(missing, IOError, missing, 'does not exist');
  await fails('hubtest/nothing-here', ConfigError, 'HTTP 404', 'hubtest/nothing-here');
  await fails(`${hubUrl}/hubtest/nothing-here/resolve/main/`, ConfigError, 'no config.json', 'HTTP 404');
});

test.run();
