// PyTorch pytorch_model.bin reader: the t5-tiny fixture against its safetensors twin, then
// zips and pickles assembled by hand in memory (layouts, ZIP64, and every error path).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { WeightsError } from '../src/errors.js';
import { FileSource } from '../weights/node-files.js';
import { isTorchTensor, unpickleTorch, type PickleValue } from '../weights/pickle.js';
import { readPytorchBin } from '../weights/pytorch.js';
import { readSafetensors } from '../weights/safetensors.js';
import { MemorySource } from '../weights/source.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import { ZipArchive, crc32 } from '../weights/zip.js';
import { buildZip, Pickle, statePickle, type ZipFile } from './torch-zip.js';
import { fixturesDir } from './helpers.js';

const tiny = (...p: string[]): string => join(fixturesDir(), 't5-tiny', ...p);

const BIN = tiny('t5-tiny-torch-f16', 'pytorch_model.bin');

// ---------- builders ----------

const f32 = (v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);
const f16 = (v: number[]): Uint8Array => { // exact for small integers
  const out = new Uint16Array(v.length);
  v.forEach((x, i) => {
    if (x === 0) return;
    const e = Math.floor(Math.log2(Math.abs(x)));
    out[i] = (x < 0 ? 0x8000 : 0) | ((e + 15) << 10) | Math.round((Math.abs(x) / 2 ** e - 1) * 1024);
  });
  return new Uint8Array(out.buffer);
};
const bf16 = (v: number[]): Uint8Array => {
  const u = new Uint32Array(new Float32Array(v).buffer);
  return new Uint8Array(Uint16Array.from(u, (x) => x >>> 16).buffer);
};
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

function checkpoint(pkl: Uint8Array, storages: Record<string, Uint8Array>, opts: { prefix?: string; zip64?: boolean } = {}): MemorySource {
  const prefix = opts.prefix ?? 'archive/';
  const files: ZipFile[] = [{ name: `${prefix}data.pkl`, data: pkl }];
  for (const [k, v] of Object.entries(storages)) files.push({ name: `${prefix}data/${k}`, data: v });
  files.push({ name: `${prefix}version`, data: new TextEncoder().encode('3\n') });
  return new MemorySource('test.bin', buildZip(files, { zip64: opts.zip64 }));
}

async function values(src: MemorySource): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const t of (await readPytorchBin(src)).tensors) out[t.name] = Array.from(toFloat32(t.dtype, await t.read()));
  return out;
}

async function rejects(p: Promise<unknown> | (() => unknown), ...fragments: string[]): Promise<WeightsError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!(e instanceof WeightsError)) throw new Error(`expected a WeightsError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message "${e.message}" should contain "${f}"`);
    return e;
  }
  throw new Error(`expected a WeightsError containing ${fragments.join(', ')}, but nothing was thrown`);
}

// ---------- crc and the fixture ----------

test('crc32 matches the standard check value', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
  const b = new TextEncoder().encode('123456789');
  assert.is(crc32(b.subarray(4), crc32(b.subarray(0, 4))), 0xcbf43926); // chunked
});

test('fixture zip: directory, ZIP64 end records, data aligned', async () => {
  const src = await FileSource.open(BIN);
  try {
    const zip = await ZipArchive.open(src);
    assert.ok(zip.entries.length > 20);
    assert.ok(zip.entries.every((e) => e.method === 0 && e.name.startsWith('pytorch_model/')));
    const pkl = zip.get('pytorch_model/data.pkl');
    assert.ok(pkl);
    const bytes = await zip.readEntry(pkl, 1 << 20);
    assert.is(bytes[0], 0x80);
    assert.is(bytes[bytes.length - 1], 0x2e);
    assert.is((await zip.dataOffset(zip.get('pytorch_model/data/0')!)) % 64, 0);
  } finally {
    await src.close();
  }
});

test('fixture .bin equals the F16 safetensors byte for byte; shared storage works', async () => {
  const src = await FileSource.open(BIN);
  const stSrc = await FileSource.open(tiny('t5-tiny-f16', 'model.safetensors'));
  try {
    const bin = await readPytorchBin(src);
    const st = await readSafetensors(stSrc);
    assert.is(bin.unsupported.size, 0);
    const byName = new Map(bin.tensors.map((t) => [t.name, t]));
    let compared = 0;
    for (const s of st.tensors) {
      const b = byName.get(s.name);
      assert.ok(b, `tensor ${s.name} missing from the .bin`);
      assert.is(b.dtype, 'F16');
      assert.equal(b.shape, s.shape, s.name);
      const [x, y] = [await b.read(), await s.read()];
      assert.ok(Buffer.from(x).equals(Buffer.from(y)), `${s.name}: bytes differ`);
      compared++;
    }
    assert.is(compared, st.tensors.length);
    assert.ok(bin.tensors.length >= st.tensors.length);
    const shared = byName.get('shared.weight'), embed = byName.get('encoder.embed_tokens.weight');
    assert.ok(shared && embed, 'the .bin has both shared.weight and encoder.embed_tokens.weight');
    assert.equal(embed.shape, shared.shape);
    assert.ok(Buffer.from(await embed.read()).equals(Buffer.from(await shared.read())));
  } finally {
    await src.close();
    await stSrc.close();
  }
});

// ---------- synthetic layouts ----------

test('transposed and permuted (non-contiguous) tensors are gathered row-major', async () => {
  const pkl = statePickle([
    // storage [[0,1,2],[3,4,5]] viewed as its transpose [3,2]
    { name: 't2', key: '0', numel: 6, size: [3, 2], stride: [1, 3] },
    // storage 2x3x4 (row-major strides 12,4,1) permuted to [4,2,3] with strides [1,12,4]
    { name: 't3', type: 'HalfStorage', key: '1', numel: 24, size: [4, 2, 3], stride: [1, 12, 4] },
    // every other element, from offset 1: a stride-2 vector
    { name: 'odd', key: '0', numel: 6, offset: 1, size: [3], stride: [2] },
  ]);
  const v = await values(checkpoint(pkl, { 0: f32(range(6)), 1: f16(range(24)) }));
  assert.equal(v.t2, [0, 3, 1, 4, 2, 5]);
  const want: number[] = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(i * 12 + j * 4 + k);
  assert.equal(v.t3, want);
  assert.equal(v.odd, [1, 3, 5]);
});

test('storage offsets, shared storages, BF16/F16/F32, scalars and empty tensors', async () => {
  const pkl = statePickle([
    { name: 'a', key: '0', numel: 10, offset: 2, size: [2, 3] },
    { name: 'b', key: '0', numel: 10, offset: 8, size: [2] }, // same storage, later slice
    { name: 'h', type: 'HalfStorage', key: '1', numel: 4, offset: 1, size: [3] },
    { name: 'bf', type: 'BFloat16Storage', key: '2', numel: 4, size: [2, 2] },
    { name: 'scalar', key: '0', numel: 10, offset: 9, size: [] },
    { name: 'empty', key: '0', numel: 10, offset: 0, size: [0, 5] },
  ]);
  const src = checkpoint(pkl, { 0: f32(range(10, 100)), 1: f16([1, 2, 3, 4]), 2: bf16([0.5, -1, 2, 1024]) });
  const file = await readPytorchBin(src);
  assert.equal(file.tensors.map((t) => [t.name, t.dtype]), [['a', 'F32'], ['b', 'F32'], ['h', 'F16'], ['bf', 'BF16'], ['scalar', 'F32'], ['empty', 'F32']]);
  const v = await values(src);
  assert.equal(v.a, [102, 103, 104, 105, 106, 107]);
  assert.equal(v.b, [108, 109]);
  assert.equal(v.h, [2, 3, 4]);
  assert.equal(v.bf, [0.5, -1, 2, 1024]);
  assert.equal(v.scalar, [109]);
  assert.equal(v.empty, []);
});

test('ZIP64 records, another prefix, a zip comment, non-tensor values and _metadata', async () => {
  const pkl = statePickle(
    [{ name: 'w', key: '7', numel: 4, size: [2, 2] }, { name: 'd', type: 'DoubleStorage', key: '8', numel: 1, size: [1] }],
    (p) => p.str('step').int(70000).str('lr').op(0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0).op(0x4e).str('x'), // an int, a float, a None key: all skipped
    // BUILD with state {'_metadata': OrderedDict([('', {'version': 1})])}, as HF state dicts carry
    (p) => p.op(0x7d).str('_metadata').global('collections', 'OrderedDict').op(0x29, 0x52)
      .str('').op(0x7d).str('version').int(1).op(0x73).op(0x73).op(0x73).op(0x62),
  );
  const src = checkpoint(pkl, { 7: f32([1, 2, 3, 4]), 8: new Uint8Array(8) }, { prefix: 'pytorch_model/', zip64: true });
  const file = await readPytorchBin(src);
  assert.equal(file.tensors.map((t) => t.name), ['w']);
  assert.equal(Object.fromEntries(file.unsupported), { d: 'torch.DoubleStorage' });
  assert.equal(Array.from(toFloat32('F32', await file.tensors[0].read())), [1, 2, 3, 4]);
  // with a comment (the EOCD is then not the last 22 bytes)
  const zip = await ZipArchive.open(new MemorySource('c.zip', buildZip([{ name: 'a/b', data: f32([5]) }], { comment: 'hello PK\x05\x06 world' })));
  assert.equal(zip.entries.map((e) => [e.name, e.uncompressedSize]), [['a/b', 4]]);
});

test('unpickler: values it builds', () => {
  const p = new Pickle().proto().op(0x5d).put(0).mark()
    .op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1) // LONG1 2^64 -> bigint
    .op(0x8a, 1, 0xff) // LONG1 -1
    .op(0x4a, 0xfe, 0xff, 0xff, 0xff) // BININT -2
    .op(0x8c, 2, 0x68, 0x69) // SHORT_BINUNICODE 'hi'
    .op(0x55, 1, 0xe9) // SHORT_BINSTRING latin-1
    .op(0x88, 0x89, 0x4e).op(0x65) // True False None, APPENDS
    .op(0x94).op(0x4b, 1, 0x61) // MEMOIZE, APPEND 1
    .op(0x2e).done();
  const v = unpickleTorch(p, { file: 'f', entry: 'e' }) as PickleValue[];
  assert.equal(v, [2n ** 64n, -1, -2, 'hi', '\u00e9', true, false, null, 1]);
  assert.not.ok(isTorchTensor(v));
});

// ---------- errors ----------

const goodStorages = { 0: f32(range(6)) };
const goodPickle = (): Uint8Array => statePickle([{ name: 'w', key: '0', numel: 6, size: [2, 3] }]);

test('malicious globals are refused by name', async () => {
  const os = new Pickle().proto().global('os', 'system').str('echo pwned').op(0x85, 0x52, 0x2e).done();
  const e = await rejects(readPytorchBin(checkpoint(os, {})), 'test.bin', 'archive/data.pkl', 'os.system', 'not allowed', 'offset 2', '0x63 (GLOBAL)');
  assert.is(e.code, 'BAD_WEIGHTS');
  const ev = new Pickle().proto().op(0x8c, 8).op(...new TextEncoder().encode('builtins')).op(0x8c, 4).op(...new TextEncoder().encode('eval')).op(0x93).done();
  await rejects(readPytorchBin(checkpoint(ev, {})), 'builtins.eval', 'STACK_GLOBAL');
  // an allowed module with a name outside the allowlist
  await rejects(() => unpickleTorch(new Pickle().proto().global('torch', 'load').done(), { file: 'f', entry: 'e' }), 'torch.load');
  // a storage class used as a callable
  await rejects(() => unpickleTorch(new Pickle().proto().global('torch', 'FloatStorage').op(0x29, 0x52).done(), { file: 'f', entry: 'e' }), 'cannot be called');
});

test('unknown opcodes are refused with their byte and offset', async () => {
  await rejects(readPytorchBin(checkpoint(new Pickle().proto().op(0x69).done(), {})), 'opcode 0x69 (INST) at offset 2', 'not supported');
  await rejects(() => unpickleTorch(Uint8Array.of(0x80, 2, 0x4e, 0xff), { file: 'f', entry: 'e' }), 'opcode 0xff at offset 3');
});

test('malformed pickles: truncated, stack underflow, missing memo, huge length', async () => {
  const run = (b: Uint8Array) => () => unpickleTorch(b, { file: 'f', entry: 'e' });
  await rejects(run(Uint8Array.of(0x80, 2, 0x4e)), 'ends without STOP');
  await rejects(run(Uint8Array.of(0x80, 2, 0x58, 5, 0, 0, 0, 0x61)), 'truncated', 'BINUNICODE');
  await rejects(run(Uint8Array.of(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f)), 'limit');
  await rejects(run(Uint8Array.of(0x80, 2, 0x2e)), 'stack underflow');
  await rejects(run(Uint8Array.of(0x80, 2, 0x68, 3)), 'memo key 3');
  await rejects(run(Uint8Array.of(0x80, 2, 0x4e, 0x28, 0x85, 0x2e)), 'stack underflow'); // TUPLE1 cannot pop below a MARK
  await rejects(run(Uint8Array.of(0x80, 2, 0x7d, 0x28, 0x4e, 0x4e, 0x73)), 'stack underflow'); // nor SETITEM reach a dict below it
  await rejects(run(Uint8Array.of(0x80, 2, 0x29, 0x4e, 0x61)), 'not a list'); // APPEND to a tuple
  await rejects(run(new Pickle().proto().op(0x29).op(0x51).done()), 'persistent id');
});

test('zip errors: truncated, bad signature, bad CRC, compressed, outside the file', async () => {
  const good = checkpoint(goodPickle(), goodStorages);
  const bytes = await good.read(0, good.size);
  await rejects(readPytorchBin(new MemorySource('cut.bin', bytes.subarray(0, bytes.length - 10))), 'cut.bin', 'end-of-central-directory');
  await rejects(readPytorchBin(new MemorySource('tiny.bin', bytes.subarray(0, 10))), 'too small');
  // the central directory offset moved past the directory
  const moved = bytes.slice();
  new DataView(moved.buffer).setUint32(moved.length - 6, 0x7fffffff, true);
  await rejects(readPytorchBin(new MemorySource('m.bin', moved)), 'central directory', 'outside the file');
  // a local header overwritten
  const badLocal = bytes.slice();
  badLocal[0] = 0x51;
  await rejects(readPytorchBin(new MemorySource('l.bin', badLocal)), 'archive/data.pkl', 'local file header');
  // data.pkl with a wrong CRC
  const crcZip = buildZip([{ name: 'archive/data.pkl', data: goodPickle(), crc: 0x12345678 }, { name: 'archive/data/0', data: goodStorages[0] }]);
  await rejects(readPytorchBin(new MemorySource('crc.bin', crcZip)), 'archive/data.pkl', 'CRC-32');
  // a compressed storage
  const deflated = buildZip([{ name: 'archive/data.pkl', data: goodPickle() }, { name: 'archive/data/0', data: goodStorages[0], method: 8 }]);
  await rejects(readPytorchBin(new MemorySource('z.bin', deflated)), 'archive/data/0', 'compressed (method 8)');
  // not a checkpoint: no data.pkl; legacy format; LFS pointer
  await rejects(readPytorchBin(new MemorySource('n.bin', buildZip([{ name: 'x/y', data: f32([1]) }]))), 'data.pkl');
  await rejects(readPytorchBin(new MemorySource('old.bin', Uint8Array.of(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))), 'legacy');
  await rejects(readPytorchBin(new MemorySource('lfs.bin', new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n'))), 'Git LFS');
});

test('storages too short for their tensors, or missing, name the tensor', async () => {
  // tensor extent past the declared storage size
  const past = statePickle([{ name: 'enc.w', key: '0', numel: 6, offset: 2, size: [2, 3] }]);
  await rejects(readPytorchBin(checkpoint(past, goodStorages)), 'tensor "enc.w"', 'holds only 6');
  const strided = statePickle([{ name: 'enc.t', key: '0', numel: 6, size: [3, 3], stride: [1, 3] }]);
  await rejects(readPytorchBin(checkpoint(strided, goodStorages)), 'tensor "enc.t"', 'holds only 6');
  // the zip entry shorter than the storage it declares
  const short = statePickle([{ name: 'enc.s', key: '0', numel: 6, size: [6] }]);
  await rejects(readPytorchBin(checkpoint(short, { 0: f32(range(5)) })), 'tensor "enc.s"', 'archive/data/0 has 20 bytes');
  // no zip entry for the storage at all
  await rejects(readPytorchBin(checkpoint(goodPickle(), {})), 'tensor "w"', 'no zip entry archive/data/0');
});

test.run();
