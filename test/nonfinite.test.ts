// Weights holding NaN or ±Inf are reported by name as they load: a warning (onWarning, default
// console.warn) and the load goes on, or with `strict: true` a WeightsError naming the tensor.
// The models are modified copies of the t5-tiny fixtures written with encodeSafetensors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProtT5, WeightsError, type ProtT5Model } from '../src/node.js';
import type { NonFiniteWeights } from '../src/models/family.js';
import { countNonFinite } from '../src/models/upload.js';
import { checkFiniteOutputs } from '../src/embed/outputs.js';
import { NumericalError } from '../src/errors.js';
import { FileSource } from '../weights/node-files.js';
import { encodeSafetensors, readSafetensors } from '../weights/safetensors.js';
import { toFloat32, type DType } from '../src/gpu/dtype.js';
import { fixturesDir, rng } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const ROOT = mkdtempSync(join(tmpdir(), 'prott5-nonfinite-'));
test.after(() => rmSync(ROOT, { recursive: true, force: true }));

interface Raw { name: string; dtype: DType; shape: number[]; data: Uint8Array }

async function tensorsOf(folder: string): Promise<Raw[]> {
  const src = await FileSource.open(join(TINY, folder, 'model.safetensors'));
  try {
    const out: Raw[] = [];
    for (const t of (await readSafetensors(src)).tensors) out.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: (await t.read()).slice() });
    return out;
  } finally {
    await src.close();
  }
}

let dirs = 0;
/** A copy of a fixture folder whose tensors get `edit` applied to their raw bytes first. */
async function modified(folder: string, edit: Record<string, (view: DataView) => void>): Promise<string> {
  const tensors = await tensorsOf(folder);
  for (const t of tensors) edit[t.name]?.(new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const dir = join(ROOT, `${folder}-${dirs++}`);
  mkdirSync(dir);
  copyFileSync(join(TINY, folder, 'config.json'), join(dir, 'config.json'));
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  return dir;
}

const WI = 'encoder.block.1.layer.1.DenseReluDense.wi.weight';
const REL = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';

async function load(dir: string, opts: { strict?: boolean; onWarning?: (m: string, d: NonFiniteWeights) => void } = {}): Promise<ProtT5Model> {
  return loadProtT5(dir, { runtime: await runtime(), autotune: false, ...opts });
}

test('countNonFinite counts exactly the values toFloat32 decodes as NaN or ±Inf, for every dtype', () => {
  const reference = (dtype: DType, bytes: Uint8Array) => {
    let nan = 0, inf = 0;
    for (const v of toFloat32(dtype, bytes)) if (Number.isNaN(v)) nan++; else if (!Number.isFinite(v)) inf++;
    return { nan, inf, total: bytes.byteLength / (dtype === 'F32' ? 4 : 2) };
  };
  // Every F16 and BF16 bit pattern; F32 specials and random patterns.
  const all16 = new Uint8Array(Uint16Array.from({ length: 65536 }, (_, i) => i).buffer);
  for (const dtype of ['F16', 'BF16'] as DType[]) {
    assert.equal(countNonFinite(dtype, all16), reference(dtype, all16), dtype);
    assert.equal(countNonFinite(dtype, all16.subarray(1, 65)), reference(dtype, all16.subarray(1, 65)), `${dtype} unaligned`);
  }
  assert.equal(countNonFinite('F16', all16), { nan: 2 * 1023, inf: 2, total: 65536 });
  const f32 = new Uint8Array(new Float32Array([1, NaN, Infinity, -Infinity, -0, 3.4e38, -NaN]).buffer);
  assert.equal(countNonFinite('F32', f32), { nan: 2, inf: 2, total: 7 });
  const r = rng(7);
  const random = new Uint8Array(Uint32Array.from({ length: 1 << 16 }, () => (r() < 0.1 ? 0x7f800000 | (r() < 0.5 ? 0 : 1) : 0) | Math.floor(r() * 2 ** 32)).buffer);
  assert.equal(countNonFinite('F32', random), reference('F32', random));
  const odd = new Uint8Array(random.byteLength + 1);
  odd.set(random, 1);
  assert.equal(countNonFinite('F32', odd.subarray(1)), reference('F32', random), 'F32 unaligned');
});

test('checkFiniteOutputs (both writers, embed and predict): the first asked kind holding NaN or Inf is a NumericalError naming record and kind; unasked kinds are not looked at', () => {
  const ok = new Float32Array([0, 1, -2]);
  const outputs = { perResidue: { data: ok }, perProtein: { data: new Float32Array([1, Infinity]) }, other: { data: new Float32Array([NaN]) } };
  checkFiniteOutputs('p1', outputs, ['perResidue']);
  try {
    checkFiniteOutputs('p1', outputs, ['perResidue', 'perProtein']);
    assert.unreachable('an infinity must be refused');
  } catch (e) {
    assert.instance(e, NumericalError);
    assert.match((e as Error).message, /record "p1": the perProtein embedding holds NaN or Inf/);
  }
  assert.throws(() => checkFiniteOutputs('p2', outputs, ['other']), /record "p2": the other embedding/);
});

test('the clean fixtures load without a warning, in every dtype', async () => {
  for (const folder of ['t5-tiny-f32', 't5-tiny-f16', 't5-tiny-bf16']) {
    const warnings: string[] = [];
    const model = await load(join(TINY, folder), { strict: false, onWarning: (m) => warnings.push(m) });
    model.dispose();
    assert.equal(warnings, [], folder);
    (await load(join(TINY, folder), { strict: true })).dispose();
  }
});

test('a NaN and two infinities in an f32 weight: one warning naming the tensor; the load goes on', async () => {
  const dir = await modified('t5-tiny-f32', {
    [WI]: (v) => { v.setFloat32(5 * 4, NaN, true); v.setFloat32(7 * 4, Infinity, true); v.setFloat32(9 * 4, -Infinity, true); },
  });
  const seen: Array<[string, NonFiniteWeights]> = [];
  const model = await load(dir, { onWarning: (m, d) => seen.push([m, d]) });
  try {
    assert.is(seen.length, 1);
    const [message, detail] = seen[0];
    assert.ok(message.includes(`tensor "${WI}"`), message);
    assert.ok(message.includes('1 NaN and 2 infinite values'), message);
    assert.ok(message.includes(join(dir, 'model.safetensors')), `names the file: ${message}`);
    assert.equal(detail, { tensor: WI, file: join(dir, 'model.safetensors'), nan: 1, inf: 2, total: 192 * 64 });
    assert.ok((await model.embed(['MKTAYIAKQR']))[0].perProtein, 'the model works (what it computes is another matter)');
  } finally {
    model.dispose();
  }
});

test('strict: true makes it a WeightsError naming the tensor, with the counts in its context', async () => {
  const dir = await modified('t5-tiny-f32', { [WI]: (v) => v.setFloat32(0, NaN, true) });
  const warnings: string[] = [];
  try {
    await load(dir, { strict: true, onWarning: (m) => warnings.push(m) });
    assert.unreachable('a NaN weight loaded under strict');
  } catch (e) {
    assert.instance(e, WeightsError);
    const err = e as WeightsError;
    assert.ok(err.message.includes(`tensor "${WI}" holds 1 NaN value`), err.message);
    assert.is(err.context.tensor, WI);
    assert.is(err.context.nan, 1);
    assert.is(err.context.inf, 0);
    assert.is(err.code, 'BAD_WEIGHTS');
  }
  assert.equal(warnings, [], 'strict throws instead of warning');
  // The runtime is still usable after the failed load (the tensors uploaded so far were released).
  (await load(join(TINY, 't5-tiny-f32'))).dispose();
});

test('f16 and bf16 weights, the embedding and the relative attention bias are checked too', async () => {
  const f16 = await modified('t5-tiny-f16', { 'shared.weight': (v) => { v.setUint16(2, 0x7c00, true); v.setUint16(4, 0x7e00, true); } });
  const seen: NonFiniteWeights[] = [];
  (await load(f16, { onWarning: (_m, d) => seen.push(d) })).dispose();
  assert.equal(seen.map((d) => [d.tensor, d.nan, d.inf]), [['shared.weight', 1, 1]]);

  const bf16 = await modified('t5-tiny-bf16', {
    [REL]: (v) => v.setUint16(6, 0xff80, true), // -Inf
    'encoder.final_layer_norm.weight': (v) => v.setUint16(0, 0x7fc1, true), // a NaN payload
  });
  seen.length = 0;
  (await load(bf16, { onWarning: (_m, d) => seen.push(d) })).dispose();
  assert.equal(seen.map((d) => [d.tensor, d.nan, d.inf]), [[REL, 0, 1], ['encoder.final_layer_norm.weight', 1, 0]], 'one warning per tensor, in load order');
  await load(bf16, { strict: true }).then(
    (m) => { m.dispose(); assert.unreachable('loaded under strict'); },
    (e: Error) => { assert.instance(e, WeightsError); assert.ok(e.message.includes(`tensor "${REL}"`), e.message); },
  );
});

test('without onWarning the warning goes to console.warn', async () => {
  const dir = await modified('t5-tiny-f32', { 'encoder.final_layer_norm.weight': (v) => v.setFloat32(4, Infinity, true) });
  const warn = console.warn;
  const got: unknown[][] = [];
  console.warn = (...a: unknown[]) => { got.push(a); };
  let model: ProtT5Model;
  try {
    model = await load(dir);
  } finally {
    console.warn = warn;
  }
  assert.is(got.length, 1);
  assert.ok(String(got[0][0]).includes('tensor "encoder.final_layer_norm.weight" holds 1 infinite value'), String(got[0][0]));
  // Why it matters: that column of every embedding is no longer a number.
  try {
    const [e] = await model.embed(['MKTAYIAKQR']);
    assert.not.ok(Number.isFinite(e.perProtein!.data[1]), `per-protein[1] = ${e.perProtein!.data[1]}`);
    assert.ok(Number.isFinite(e.perProtein!.data[0]));
  } finally {
    model.dispose();
  }
});

test.run();
