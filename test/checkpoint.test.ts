// Model folders on disk → named encoder tensors (openCheckpoint over DirectoryFiles), built in a
// temp dir from the t5-tiny f32 fixture and then damaged; and the safetensors reader's checks on
// malformed files, plus an encode → read round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { openCheckpoint } from '../src/models/checkpoint.js';
import type { Checkpoint } from '../src/models/family.js';
import type { T5Config } from '../src/models/t5/config.js';
import { encoderTensorShapes } from '../src/models/t5/schema.js';
import { encodeSafetensors, readSafetensors } from '../weights/safetensors.js';
import { DirectoryFiles, FileSource } from '../weights/node-files.js';
import { MemorySource, type ByteSource, type ModelFiles } from '../weights/source.js';
import { fromFloat32, toFloat32, type DType } from '../src/gpu/dtype.js';
import { ConfigError, IOError, ProtT5Error, WeightsError } from '../src/errors.js';
import { fixturesDir, randomArray } from './helpers.js';

const TINY = join(fixturesDir(), 't5-tiny');
const F32 = join(TINY, 't5-tiny-f32');
const ROOT = mkdtempSync(join(tmpdir(), 'prott5-checkpoint-'));
test.after(() => rmSync(ROOT, { recursive: true, force: true }));

interface Raw { name: string; dtype: DType; shape: number[]; data: Uint8Array }

let fixtureTensors: Raw[] | null = null;
/** The f32 fixture's tensors, bytes and all, in file order (a fresh copy each call). */
async function fixture(): Promise<Raw[]> {
  if (!fixtureTensors) {
    const src = await FileSource.open(join(F32, 'model.safetensors'));
    try {
      const st = await readSafetensors(src);
      fixtureTensors = [];
      for (const t of st.tensors) fixtureTensors.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: (await t.read()).slice() });
    } finally {
      await src.close();
    }
  }
  return fixtureTensors.map((t) => ({ ...t, shape: [...t.shape], data: t.data.slice() }));
}

let folders = 0;
/** A fresh folder under ROOT holding the fixture's config.json (unless config is null) and the given files. */
function folder(files: Record<string, Uint8Array | string> = {}, config: 'copy' | null | string = 'copy'): string {
  const dir = join(ROOT, `model-${folders++}`);
  mkdirSync(dir);
  if (config === 'copy') copyFileSync(join(F32, 'config.json'), join(dir, 'config.json'));
  else if (config !== null) writeFileSync(join(dir, 'config.json'), config);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

/** A model folder whose model.safetensors holds `tensors` (encoded with encodeSafetensors). */
function modelWith(tensors: Raw[]): string {
  return folder({ 'model.safetensors': encodeSafetensors(tensors) });
}

/** Hand-written safetensors bytes: 8-byte length, the header JSON as given, then `data`. */
function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

/** Wraps DirectoryFiles: records every name asked for and how many sources are still open. */
class TrackingFiles implements ModelFiles {
  readonly name: string;
  readonly asked: string[] = [];
  live = 0;
  private readonly inner: DirectoryFiles;
  constructor(dir: string) {
    this.inner = new DirectoryFiles(dir);
    this.name = this.inner.name;
  }
  async open(file: string): Promise<ByteSource | null> {
    this.asked.push(file);
    const s = await this.inner.open(file);
    if (!s) return null;
    this.live++;
    let closed = false;
    return {
      name: s.name,
      size: s.size,
      read: (o, l) => s.read(o, l),
      close: async () => {
        if (!closed) { closed = true; this.live--; }
        await s.close?.();
      },
    };
  }
}

/** Awaits p, asserts it rejects with `cls` and a message holding every fragment; returns the error. */
async function rejects<E extends ProtT5Error>(p: Promise<unknown>, cls: new (...a: never[]) => E, ...fragments: string[]): Promise<E> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected ${cls.name} containing ${JSON.stringify(fragments)}, nothing thrown`);
  if (!(err instanceof cls)) throw new Error(`expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
  return err;
}

/** openCheckpoint over a TrackingFiles; on failure asserts nothing was left open. */
async function openFails<E extends ProtT5Error>(dir: string, cls: new (...a: never[]) => E, ...fragments: string[]): Promise<E> {
  const files = new TrackingFiles(dir);
  const e = await rejects(openCheckpoint(files), cls, ...fragments);
  assert.is(files.live, 0, `sources left open after ${cls.name}`);
  return e;
}

async function bytesOf(ck: Checkpoint, name: string): Promise<Uint8Array> {
  const t = ck.tensors.get(name);
  assert.ok(t, `checkpoint has ${name}`);
  return t!.read();
}

// ---- openCheckpoint: accepted folders -----------------------------------------------------------

test('the f32 fixture copied into a folder opens: every encoder tensor, right shapes, right bytes', async () => {
  const dir = folder();
  copyFileSync(join(F32, 'model.safetensors'), join(dir, 'model.safetensors'));
  const files = new TrackingFiles(dir);
  const ck = await openCheckpoint<T5Config>(files);
  try {
    assert.is(ck.config.d_model, 64);
    assert.is(ck.config.num_layers, 3);
    const want = encoderTensorShapes(ck.config);
    assert.is(want.size, 1 + 3 * 8 + 1 + 1, 'shared + 8 per block + relative bias + final norm');
    assert.equal([...ck.tensors.keys()].sort(), [...want.keys()].sort());
    for (const [name, shape] of want) assert.equal([...ck.tensors.get(name)!.shape], shape, name);
    for (const t of await fixture()) assert.equal(await bytesOf(ck, t.name), t.data, t.name);
    assert.equal(ck.files, [join(resolve(dir), 'model.safetensors')]);
    assert.is(files.live, 1, 'the weights file stays open for lazy reads');
  } finally {
    await ck.close();
  }
  assert.is(files.live, 0, 'close() closes it');
});

test('shared.weight and encoder.embed_tokens.weight both present: fine, shared.weight is used', async () => {
  const ts = await fixture();
  const shared = ts.find((t) => t.name === 'shared.weight')!;
  const other = fromFloat32('F32', randomArray(shared.data.byteLength / 4, 3));
  const ck = await openCheckpoint<T5Config>(new DirectoryFiles(modelWith([...ts, { ...shared, name: 'encoder.embed_tokens.weight', data: other }])));
  try {
    assert.not.ok(ck.tensors.has('encoder.embed_tokens.weight'));
    assert.equal(await bytesOf(ck, 'shared.weight'), shared.data);
  } finally {
    await ck.close();
  }
  // The tied copy listed first in the file changes nothing.
  const ck2 = await openCheckpoint<T5Config>(new DirectoryFiles(modelWith([{ ...shared, name: 'encoder.embed_tokens.weight', data: other }, ...ts])));
  try {
    assert.equal(await bytesOf(ck2, 'shared.weight'), shared.data);
  } finally {
    await ck2.close();
  }
});

test('only encoder.embed_tokens.weight: it becomes shared.weight', async () => {
  const ts = (await fixture()).map((t) => (t.name === 'shared.weight' ? { ...t, name: 'encoder.embed_tokens.weight' } : t));
  const want = (await fixture()).find((t) => t.name === 'shared.weight')!.data;
  const ck = await openCheckpoint<T5Config>(new DirectoryFiles(modelWith(ts)));
  try {
    assert.not.ok(ck.tensors.has('encoder.embed_tokens.weight'));
    const e = ck.tensors.get('shared.weight');
    assert.ok(e);
    assert.is(e!.name, 'shared.weight');
    assert.equal([...e!.shape], [128, 64]);
    assert.equal(await e!.read(), want);
  } finally {
    await ck.close();
  }
});

test('decoder and lm_head tensors are ignored, whatever their shape', async () => {
  const ts = await fixture();
  const extra: Raw[] = [
    { name: 'decoder.block.0.layer.0.SelfAttention.q.weight', dtype: 'F32', shape: [3, 5], data: new Uint8Array(60) },
    { name: 'decoder.final_layer_norm.weight', dtype: 'F32', shape: [64], data: new Uint8Array(256) },
    { name: 'decoder.embed_tokens.weight', dtype: 'F16', shape: [7], data: new Uint8Array(14) },
    { name: 'lm_head.weight', dtype: 'F32', shape: [128, 64], data: new Uint8Array(128 * 64 * 4) },
  ];
  const ck = await openCheckpoint<T5Config>(new DirectoryFiles(modelWith([...extra.slice(0, 2), ...ts, ...extra.slice(2)])));
  try {
    assert.equal([...ck.tensors.keys()].sort(), [...encoderTensorShapes(ck.config).keys()].sort());
  } finally {
    await ck.close();
  }
  // The fixture's whole seq2seq checkpoint gives the same encoder tensors.
  const ck2 = await openCheckpoint<T5Config>(new DirectoryFiles(join(TINY, 't5-tiny-seq2seq')));
  try {
    assert.equal([...ck2.tensors.keys()].sort(), [...encoderTensorShapes(ck2.config).keys()].sort());
  } finally {
    await ck2.close();
  }
});

test('a sharded folder copied from the fixture opens', async () => {
  const src = join(TINY, 't5-tiny-sharded');
  const dir = folder();
  for (const f of ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(join(src, f), join(dir, f));
  const files = new TrackingFiles(dir);
  const ck = await openCheckpoint<T5Config>(files);
  try {
    assert.is(ck.files.length, 2);
    for (const t of await fixture()) assert.equal(await bytesOf(ck, t.name), t.data, t.name);
  } finally {
    await ck.close();
  }
  assert.is(files.live, 0);
});

let hubCaches = 0;
/**
 * A folder laid out like the Hugging Face hub cache from `src`'s files: blobs/<sha256> holds each
 * file's bytes and snapshots/<rev>/<file> is a relative symlink to ../../blobs/<sha256>.
 */
function hubSnapshot(src: string, files: string[]): { snapshot: string; blobs: Record<string, string> } {
  const repo = join(ROOT, `hub-${hubCaches++}`, 'models--owner--tiny');
  const snapshot = join(repo, 'snapshots', 'c0ffee0123456789abcdef0123456789abcdef01');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  const blobs: Record<string, string> = {};
  for (const f of files) {
    const bytes = readFileSync(join(src, f));
    const sha = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(repo, 'blobs', sha), bytes);
    symlinkSync(join('..', '..', 'blobs', sha), join(snapshot, f));
    blobs[f] = join(repo, 'blobs', sha);
  }
  return { snapshot, blobs };
}

/** Both checkpoints hold the same tensors: names, dtypes, shapes and bytes. */
async function sameTensors(got: Checkpoint, want: Checkpoint): Promise<void> {
  assert.equal([...got.tensors.keys()].sort(), [...want.tensors.keys()].sort());
  for (const [name, w] of want.tensors) {
    const g = got.tensors.get(name)!;
    assert.is(g.dtype, w.dtype, name);
    assert.equal([...g.shape], [...w.shape], name);
    assert.equal(await g.read(), await w.read(), name);
  }
}

test('a hub-cache snapshot whose files are symlinks into blobs/ opens like the real folder (single file and sharded)', async () => {
  const sharded = join(TINY, 't5-tiny-sharded');
  const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  for (const [src, files] of [
    [F32, ['config.json', 'model.safetensors']],
    [sharded, ['config.json', 'model.safetensors.index.json', ...shards]],
  ] as const) {
    const { snapshot } = hubSnapshot(src, [...files]);
    for (const f of files) assert.ok(lstatSync(join(snapshot, f)).isSymbolicLink(), `${f} is a symlink`);
    const files0 = new TrackingFiles(snapshot);
    const ck = await openCheckpoint<T5Config>(files0);
    const real = await openCheckpoint<T5Config>(new DirectoryFiles(src));
    const plain = await openCheckpoint<T5Config>(new DirectoryFiles(F32));
    try {
      await sameTensors(ck, real);
      await sameTensors(ck, plain);
      assert.equal(ck.config, real.config);
      // The files are named by their place in the snapshot folder, not by the blob they point at.
      const weights = files.filter((f) => f.endsWith('.safetensors'));
      assert.equal(ck.files, weights.map((f) => join(resolve(snapshot), f)));
    } finally {
      await ck.close();
      await real.close();
      await plain.close();
    }
    assert.is(files0.live, 0);
  }
  // A dangling symlink (its blob not downloaded yet) is a missing shard, named.
  const { snapshot, blobs } = hubSnapshot(sharded, ['config.json', 'model.safetensors.index.json', ...shards]);
  rmSync(blobs[shards[1]]);
  const e = await openFails(snapshot, WeightsError, `"${shards[1]}"`, 'missing', 'model.safetensors.index.json');
  assert.is(e.context.file, shards[1]);
});

/** Records the path of every file FileSource.open opens (the only opener DirectoryFiles uses) until restore(). */
function spyOnOpens(): { opened: string[]; restore: () => void } {
  const realOpen = FileSource.open;
  const opened: string[] = [];
  FileSource.open = async (path: string) => {
    opened.push(resolve(path));
    return realOpen.call(FileSource, path);
  };
  return { opened, restore: () => { FileSource.open = realOpen; } };
}

test('in a symlinked hub-cache snapshot, shard names leaving the folder are still refused (even naming a real blob)', async () => {
  const sharded = join(TINY, 't5-tiny-sharded');
  const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const names = (await fixture()).map((t) => t.name);
  // A complete, valid checkpoint in each snapshot's blobs/: only the name check can refuse it.
  const wholeBytes = readFileSync(join(F32, 'model.safetensors'));
  const sha = createHash('sha256').update(wholeBytes).digest('hex');
  const { opened, restore } = spyOnOpens();
  try {
    for (const name of [`../../blobs/${sha}`, `..${sep}..${sep}blobs${sep}${sha}`, 'ABSOLUTE', `../../../models--owner--tiny/blobs/${sha}`, `sub/../../../blobs/${sha}`]) {
      const { snapshot } = hubSnapshot(sharded, ['config.json', ...shards]);
      const whole = join(snapshot, '..', '..', 'blobs', sha);
      writeFileSync(whole, wholeBytes);
      const shard = name === 'ABSOLUTE' ? whole : name;
      writeFileSync(join(snapshot, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, shard])) }));
      if (!shard.startsWith('sub/')) assert.ok(existsSync(resolve(snapshot, shard)), `${shard} exists, seen from the snapshot`);
      opened.length = 0;
      const files = new TrackingFiles(snapshot);
      const e = await rejects(openCheckpoint(files), WeightsError, 'model.safetensors.index.json', 'not a plain file name', JSON.stringify(shard));
      assert.is(e.context.shard, shard);
      assert.is(files.live, 0);
      assert.ok(opened.length > 0, 'the spy sees DirectoryFiles opening files');
      for (const p of opened) assert.ok(p.startsWith(resolve(snapshot) + sep), `${shard}: opened ${p}, outside ${snapshot}`);
      assert.not.ok(files.asked.includes(shard), `${shard}: asked the ModelFiles for it`);
    }
    // And a DirectoryFiles over the snapshot refuses such a name itself, symlinks or not.
    const { snapshot } = hubSnapshot(F32, ['config.json', 'model.safetensors']);
    await rejects(new DirectoryFiles(snapshot).open(`../../blobs/${sha}`), IOError, 'not a plain file name');
  } finally {
    restore();
  }
});

// ---- openCheckpoint: damaged folders ------------------------------------------------------------

test('a missing tensor is named', async () => {
  const gone = 'encoder.block.2.layer.1.DenseReluDense.wo.weight';
  const dir = modelWith((await fixture()).filter((t) => t.name !== gone));
  const e = await openFails(dir, WeightsError, `"${gone}"`, 'missing', resolve(dir));
  assert.is(e.context.tensor, gone);
  assert.is(e.code, 'BAD_WEIGHTS');
  // The relative bias of block 0.
  const rb = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';
  await openFails(modelWith((await fixture()).filter((t) => t.name !== rb)), WeightsError, rb, 'missing');
  // The embedding: the message offers the alternative name.
  await openFails(modelWith((await fixture()).filter((t) => t.name !== 'shared.weight')), WeightsError, '"shared.weight"', 'encoder.embed_tokens.weight', 'missing');
});

test('a wrong shape names the tensor and both shapes', async () => {
  const name = 'encoder.block.1.layer.0.SelfAttention.q.weight';
  const ts = (await fixture()).map((t) => (t.name === name ? { ...t, shape: [64, 128] } : t));
  const dir = modelWith(ts);
  const e = await openFails(dir, WeightsError, `"${name}"`, '[64,128]', '[128,64]', join(resolve(dir), 'model.safetensors'));
  assert.is(e.context.tensor, name);
  // Same element count, another rank.
  const ln = 'encoder.final_layer_norm.weight';
  await openFails(modelWith((await fixture()).map((t) => (t.name === ln ? { ...t, shape: [1, 64] } : t))), WeightsError, ln, '[1,64]', '[64]');
  // Fewer rows in the embedding than vocab_size.
  const small = (await fixture()).map((t) => (t.name === 'shared.weight' ? { ...t, shape: [100, 64], data: t.data.slice(0, 100 * 64 * 4) } : t));
  await openFails(modelWith(small), WeightsError, 'shared.weight', '[100,64]', '[128,64]');
});

test('a surplus unknown tensor is named', async () => {
  for (const extra of [
    'encoder.block.3.layer.0.SelfAttention.q.weight', // a fourth block in a 3-layer config
    'encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight', // bias outside block 0
    'encoder.embed_positions.weight',
    'classifier.weight',
  ]) {
    const dir = modelWith([...(await fixture()), { name: extra, dtype: 'F32', shape: [2, 2], data: new Uint8Array(16) }]);
    const e = await openFails(dir, WeightsError, `"${extra}"`, 'unexpected', '[2,2]');
    assert.is(e.context.tensor, extra);
  }
});

test('a shard index decides which shard a tensor is read from; a listed tensor absent from its shard is named', async () => {
  const ts = await fixture();
  const name = 'encoder.final_layer_norm.weight';
  const real = ts.find((t) => t.name === name)!;
  const decoy = { ...real, data: fromFloat32('F32', randomArray(64, 9)) };
  const index = { metadata: {}, weight_map: { ...Object.fromEntries(ts.map((t) => [t.name, 'a.safetensors'])), [name]: 'b.safetensors' } };
  // a.safetensors also holds a decoy copy of the tensor the index puts in b.safetensors.
  const dir = folder({
    'model.safetensors.index.json': JSON.stringify(index),
    'a.safetensors': encodeSafetensors(ts.map((t) => (t.name === name ? decoy : t))),
    'b.safetensors': encodeSafetensors([real]),
  });
  const ck = await openCheckpoint<T5Config>(new DirectoryFiles(dir));
  try {
    assert.equal(await bytesOf(ck, name), real.data);
    assert.is(ck.tensors.get(name)!.file, join(resolve(dir), 'b.safetensors'));
    assert.is(ck.files.length, 2);
  } finally {
    await ck.close();
  }
  // A tensor listed in the index but absent from its shard.
  const dir2 = folder({
    'model.safetensors.index.json': JSON.stringify(index),
    'a.safetensors': encodeSafetensors(ts),
    'b.safetensors': encodeSafetensors([]),
  });
  await openFails(dir2, WeightsError, `"${name}"`, 'model.safetensors.index.json', 'not found');
});

test('an unsupported dtype (I64) for a required tensor is named with its dtype', async () => {
  const name = 'encoder.final_layer_norm.weight';
  const ts = (await fixture()).filter((t) => t.name !== name);
  // Hand-built file: the F32 tensors, then an I64 [64] one.
  const header: Record<string, unknown> = {};
  let off = 0;
  const parts: Uint8Array[] = [];
  for (const t of ts) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    parts.push(t.data);
    off += t.data.byteLength;
  }
  header[name] = { dtype: 'I64', shape: [64], data_offsets: [off, off + 64 * 8] };
  parts.push(new Uint8Array(64 * 8));
  off += 64 * 8;
  const data = new Uint8Array(off);
  let p = 0;
  for (const part of parts) { data.set(part, p); p += part.byteLength; }
  const dir = folder({ 'model.safetensors': rawSafetensors(header, data) });
  const e = await openFails(dir, WeightsError, `"${name}"`, 'I64', 'unsupported dtype');
  assert.is(e.context.tensor, name);
});

test('no weights file at all: the message lists what was expected', async () => {
  const dir = folder();
  const e = await openFails(dir, WeightsError, resolve(dir), 'no weights', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin');
  assert.is(e.context.file, resolve(dir));
  // A wrongly named file is not picked up.
  await openFails(folder({ 'model.safetensor': encodeSafetensors(await fixture()) }), WeightsError, 'no weights');
});

test('no config.json, or a bad one, is a ConfigError naming it', async () => {
  const dir = folder({ 'model.safetensors': encodeSafetensors(await fixture()) }, null);
  const e = await openFails(dir, ConfigError, resolve(dir), 'config.json');
  assert.is(e.code, 'BAD_CONFIG');
  assert.is(e.context.file, join(resolve(dir), 'config.json'));
  const bad = folder({ 'model.safetensors': encodeSafetensors(await fixture()) }, '{"d_model": 64,');
  await openFails(bad, ConfigError, join(resolve(bad), 'config.json'), 'not valid JSON');
  const cfg = JSON.parse(readFileSync(join(F32, 'config.json'), 'utf8'));
  const bert = folder({ 'model.safetensors': encodeSafetensors(await fixture()) }, JSON.stringify({ ...cfg, model_type: 'roberta' }));
  const eb = await openFails(bert, ConfigError, join(resolve(bert), 'config.json'), 'roberta');
  assert.is(eb.context.key, 'model_type');
  // A config that disagrees with the weights: every tensor of the wider model is the wrong shape.
  const wide = folder({ 'model.safetensors': encodeSafetensors(await fixture()) }, JSON.stringify({ ...cfg, d_model: 96 }));
  await openFails(wide, WeightsError, 'config.json implies');
});

test('a shard index pointing at a missing shard names the shard', async () => {
  const src = join(TINY, 't5-tiny-sharded');
  const dir = folder();
  for (const f of ['model.safetensors.index.json', 'model-00001-of-00002.safetensors']) copyFileSync(join(src, f), join(dir, f));
  const e = await openFails(dir, WeightsError, '"model-00002-of-00002.safetensors"', 'missing', 'model.safetensors.index.json', resolve(dir));
  assert.is(e.context.file, 'model-00002-of-00002.safetensors');
  // An index with no weight_map.
  await openFails(folder({ 'model.safetensors.index.json': '{"metadata": {}}' }), WeightsError, 'weight_map');
  // A shard name that is not a string.
  await openFails(folder({ 'model.safetensors.index.json': '{"weight_map": {"shared.weight": 7}}' }), WeightsError, '7', 'not a string');
});

test('a shard name leaving the folder is refused, and nothing outside the folder is opened', async () => {
  // The escape target exists and is a complete, valid checkpoint: only the name check can refuse it.
  const outside = join(ROOT, 'escape.safetensors');
  writeFileSync(outside, encodeSafetensors(await fixture()));
  const names = (await fixture()).map((t) => t.name);
  const { opened, restore } = spyOnOpens();
  try {
    for (const shard of ['../escape.safetensors', outside, `..${sep}escape.safetensors`, '..\\escape.safetensors', 'sub/../../escape.safetensors', '..', '.', '']) {
      const index = { weight_map: Object.fromEntries(names.map((n) => [n, shard])) };
      const dir = folder({ 'model.safetensors.index.json': JSON.stringify(index) });
      opened.length = 0;
      const files = new TrackingFiles(dir);
      const e = await rejects(openCheckpoint(files), ProtT5Error, 'model.safetensors.index.json', 'not a plain file name');
      assert.ok(e instanceof WeightsError || e instanceof IOError, `${shard}: ${e.name}`);
      assert.ok(e.message.includes(JSON.stringify(shard)), `${shard}: message ${JSON.stringify(e.message)} does not name the shard`);
      assert.is(files.live, 0);
      assert.ok(opened.length > 0, 'the spy sees DirectoryFiles opening files');
      for (const p of opened) assert.ok(p.startsWith(resolve(dir) + sep), `${shard}: opened ${p}, outside ${dir}`);
      assert.not.ok(files.asked.includes(shard), `${shard}: asked the ModelFiles for it`);
    }
  } finally {
    restore();
  }
  assert.ok(existsSync(outside));
});

test('a permissive ModelFiles (URLs, picked files) is never asked for a shard outside the folder', async () => {
  const escape = encodeSafetensors(await fixture());
  const config = readFileSync(join(F32, 'config.json'));
  const names = (await fixture()).map((t) => t.name);
  const asked: string[] = [];
  const served: Record<string, Uint8Array> = {
    'config.json': config,
    'model.safetensors.index.json': new TextEncoder().encode(JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, '../escape.safetensors'])) })),
    '../escape.safetensors': escape,
  };
  const files: ModelFiles = {
    name: 'https://example.invalid/models/tiny',
    async open(file) {
      asked.push(file);
      return served[file] ? new MemorySource(`https://example.invalid/models/tiny/${file}`, served[file]) : null;
    },
  };
  const e = await rejects(openCheckpoint(files), WeightsError, '../escape.safetensors', 'model.safetensors.index.json');
  assert.is(e.context.shard, '../escape.safetensors');
  assert.not.ok(asked.includes('../escape.safetensors'), `asked for ${JSON.stringify(asked)}`);
});

// ---- safetensors reader -------------------------------------------------------------------------

async function readFails(bytes: Uint8Array, ...fragments: string[]): Promise<WeightsError> {
  const name = '/data/broken.safetensors';
  const e = await rejects(readSafetensors(new MemorySource(name, bytes)), WeightsError, name, ...fragments);
  assert.is(e.context.file, name);
  return e;
}

test('safetensors: too small, header length beyond the file or over the limit', async () => {
  await readFails(new Uint8Array(5), 'too small', '5 bytes');
  const past = rawSafetensors({});
  new DataView(past.buffer).setBigUint64(0, 1000n, true);
  await readFails(past, 'header length 1000', 'past the end', `${past.byteLength} bytes`);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 0xffff_ffff_ffff_fff0n, true);
  await readFails(huge, 'larger than the limit');
});

test('safetensors: header not JSON, not UTF-8, not an object', async () => {
  await readFails(rawSafetensors(null, undefined, '{"a": {"dtype": "F32",'), 'not valid UTF-8 JSON');
  await readFails(rawSafetensors(null, undefined, 'hello'), 'not valid UTF-8 JSON');
  const bad = rawSafetensors(null, undefined, '{"\xff": 1}');
  bad.set([0xff], 10); // an invalid UTF-8 byte inside the key
  await readFails(bad, 'not valid UTF-8 JSON');
  await readFails(rawSafetensors([1, 2]), 'not a JSON object');
  await readFails(rawSafetensors(null, undefined, 'null'), 'not a JSON object');
});

test('safetensors: bad entries name the tensor', async () => {
  const d = new Uint8Array(16);
  let e = await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 20] } }, d), '"w"', '[0, 20]', 'outside the data section', '16 bytes');
  assert.is(e.context.tensor, 'w');
  await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [12, 8] } }, d), '"w"', 'outside');
  await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [4], data_offsets: [-4, 12] } }, d), '"w"', 'data_offsets');
  await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [4] } }, d), '"w"', 'data_offsets');
  await readFails(rawSafetensors({ w: { shape: [4], data_offsets: [0, 16] } }, d), '"w"', 'no dtype');
  await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, d), '"w"', 'shape');
  await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 16] } }, d), '"w"', 'shape');
  await readFails(rawSafetensors({ w: 3 }, d), '"w"', 'not an object');
  // Byte count not matching dtype × shape.
  e = await readFails(rawSafetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, d), '"w"', 'holds 16 bytes', 'F32 [3] needs 12');
  assert.is(e.context.tensor, 'w');
  await readFails(rawSafetensors({ h: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 16] } }, d), '"h"', 'needs 8');
});

test('safetensors: overlapping data is refused, naming both tensors', async () => {
  const d = new Uint8Array(24);
  await readFails(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, d), 'overlaps', '"a"', '"b"');
  // Listed in the other order, and one inside another.
  await readFails(rawSafetensors({ b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [4], data_offsets: [4, 20] } }, d), 'overlaps', '"a"', '"b"');
  // An unsupported dtype still takes its bytes.
  await readFails(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, d), 'overlaps');
  // Adjacent is fine.
  const ok = await readSafetensors(new MemorySource('ok', rawSafetensors({ b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, d)));
  assert.equal(ok.tensors.map((t) => t.name), ['b', 'a']);
});

test('safetensors: unsupported dtypes are listed, not read', async () => {
  const st = await readSafetensors(new MemorySource('m', rawSafetensors({ i: { dtype: 'I64', shape: [2], data_offsets: [0, 16] }, f: { dtype: 'F16', shape: [1], data_offsets: [16, 18] } }, new Uint8Array(18))));
  assert.equal(st.tensors.map((t) => t.name), ['f']);
  assert.equal([...st.unsupported], [['i', 'I64']]);
});

test('safetensors: encode → read round trip, in memory and through a file', async () => {
  const a = randomArray(3 * 5, 21);
  const b = randomArray(7, 22, 100);
  const c = randomArray(2 * 3 * 4, 23);
  const tensors = [
    { name: 'a.f32', dtype: 'F32' as DType, shape: [3, 5], data: fromFloat32('F32', a) },
    { name: 'b.f16', dtype: 'F16' as DType, shape: [7], data: fromFloat32('F16', b) },
    { name: 'c.bf16', dtype: 'BF16' as DType, shape: [2, 3, 4], data: fromFloat32('BF16', c) },
    { name: 'scalar', dtype: 'F32' as DType, shape: [], data: new Float32Array([Math.PI]) },
    { name: 'f32array', dtype: 'F32' as DType, shape: [4], data: new Float32Array([1, -2, 0.5, 1e-30]) },
  ];
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'round trip' });
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.is((8 + headerLen) % 8, 0, 'data section is 8-byte aligned');
  const path = join(folder({ 'x.safetensors': bytes }, null), 'x.safetensors');
  for (const src of [new MemorySource('mem', bytes), await FileSource.open(path)] as ByteSource[]) {
    try {
      const st = await readSafetensors(src);
      assert.equal(st.metadata, { format: 'pt', note: 'round trip' });
      assert.equal(st.unsupported.size, 0);
      assert.equal(st.tensors.map((t) => [t.name, t.dtype, [...t.shape]]), tensors.map((t) => [t.name, t.dtype, t.shape]));
      for (let i = 0; i < tensors.length; i++) {
        const got = await st.tensors[i].read();
        const want = tensors[i].data;
        assert.equal(got, new Uint8Array(want.buffer, want.byteOffset, want.byteLength), tensors[i].name);
        assert.is(st.tensors[i].file, src.name);
      }
      assert.equal(toFloat32('F32', await st.tensors[0].read()), a);
      // F16/BF16 round the values once; decoding gives them back within that rounding.
      const bGot = toFloat32('F16', await st.tensors[1].read());
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(bGot[i] - b[i]) <= Math.abs(b[i]) * 2 ** -11, `f16 ${i}`);
      const cGot = toFloat32('BF16', await st.tensors[2].read());
      for (let i = 0; i < c.length; i++) assert.ok(Math.abs(cGot[i] - c[i]) <= Math.abs(c[i]) * 2 ** -8, `bf16 ${i}`);
      assert.is(toFloat32('F32', await st.tensors[3].read())[0], Math.fround(Math.PI));
    } finally {
      await src.close?.();
    }
  }
  // The fixture re-encoded reads back identical.
  const fx = await fixture();
  const again = await readSafetensors(new MemorySource('fx', encodeSafetensors(fx)));
  for (let i = 0; i < fx.length; i++) assert.equal(await again.tensors[i].read(), fx[i].data, fx[i].name);
  // An empty file list is a valid file.
  assert.equal((await readSafetensors(new MemorySource('empty', encodeSafetensors([])))).tensors, []);
});

test('encodeSafetensors refuses data whose size does not match dtype × shape, naming the tensor', () => {
  try {
    encodeSafetensors([{ name: 'short', dtype: 'F32', shape: [4], data: new Float32Array(3) }]);
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, WeightsError);
    assert.match((e as Error).message, /"short": 12 bytes given, F32 \[4\] needs 16/);
  }
});

test('reader errors on a real file name the path', async () => {
  const dir = folder({ 'bad.safetensors': rawSafetensors({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)) }, null);
  const path = join(dir, 'bad.safetensors');
  const src = await FileSource.open(path);
  try {
    await rejects(readSafetensors(src), WeightsError, path, '"w"', 'holds 8 bytes');
  } finally {
    await src.close();
  }
  await rejects(FileSource.open(join(dir, 'nope.safetensors')), IOError, join(dir, 'nope.safetensors'));
});

test.run();
