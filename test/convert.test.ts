// prott5 convert: the t5-tiny PyTorch .bin to safetensors (byte-equal to the safetensors twin),
// dtype conversion, encoder-only vs --all, the converted model running, and the command's exit
// codes with nothing left behind on failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, IOError, UsageError, WeightsError } from '../src/errors.js';
import { loadProtT5 } from '../src/node.js';
import { convertWeights } from '../src/cli/convert.js';
import { FileSource } from '../weights/node-files.js';
import { encodeSafetensors, readSafetensors } from '../weights/safetensors.js';
import { toFloat32, type DType } from '../src/gpu/dtype.js';
import { expectClose, fixturesDir, repoRoot } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const TORCH = join(TINY, 't5-tiny-torch-f16');
const BIN = join(TORCH, 'pytorch_model.bin');
const tmp = mkdtempSync(join(tmpdir(), 'prott5-convert-'));
let n = 0;
const freshDir = () => {
  const d = join(tmp, `out${n++}`);
  mkdirSync(d);
  return d;
};

interface Loaded {
  dtype: DType;
  shape: readonly number[];
  bytes: Uint8Array;
}
async function load(path: string): Promise<{ tensors: Map<string, Loaded>; metadata: Record<string, string> }> {
  const src = await FileSource.open(path);
  try {
    const st = await readSafetensors(src);
    const tensors = new Map<string, Loaded>();
    for (const t of st.tensors) tensors.set(t.name, { dtype: t.dtype, shape: t.shape, bytes: await t.read() });
    return { tensors, metadata: st.metadata };
  } finally {
    await src.close();
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function assertSameTensors(got: Map<string, Loaded>, want: Map<string, Loaded>, what: string): void {
  assert.equal([...got.keys()].sort(), [...want.keys()].sort(), `${what}: tensor names`);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.is(g.dtype, w.dtype, `${what}: ${name} dtype`);
    assert.equal([...g.shape], [...w.shape], `${what}: ${name} shape`);
    assert.ok(sameBytes(g.bytes, w.bytes), `${what}: ${name} bytes`);
  }
}


let converted = '';

test('pytorch_model.bin → safetensors: every tensor byte-equal to the safetensors twin; config.json copied', async () => {
  const dir = freshDir();
  const r = await convertWeights({ input: BIN, output: join(dir, 'model.safetensors') });
  assert.is(r.output, join(dir, 'model.safetensors'));
  assert.is(r.tensors, 27);
  assert.equal(r.dtypes, ['F16']);
  assert.is(r.configCopied, join(dir, 'config.json'));
  assert.ok(sameBytes(readFileSync(join(dir, 'config.json')), readFileSync(join(TORCH, 'config.json'))));
  assert.equal(readdirSync(dir).sort(), ['config.json', 'model.safetensors'], 'no .partial left');
  const got = await load(r.output);
  assert.equal(got.metadata, { format: 'pt' });
  assertSameTensors(got.tensors, (await load(join(TINY, 't5-tiny-f16', 'model.safetensors'))).tensors, 'bin → safetensors');
  converted = dir;
});

test('the converted folder loads and gives the F16 reference outputs (1e-4)', async () => {
  const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;
  const expected = await load(join(TINY, 'expected.safetensors'));
  const want = (k: string) => toFloat32('F32', expected.tensors.get(k)!.bytes);
  const model = await loadProtT5(converted, { runtime: await runtime() });
  try {
    assert.equal([...model.encoder.weightDtypes], ['f16']);
    const res = await model.embed(cases.map((c) => c.sequence), { perResidue: true, perProtein: true });
    for (const c of cases) {
      expectClose(`converted residue.${c.index}`, res[c.index].perResidue!.data, want(`F16.residue.${c.index}`), 1e-4);
      expectClose(`converted protein.${c.index}`, res[c.index].perProtein!.data, want(`F16.protein.${c.index}`), 1e-4);
    }
  } finally {
    model.dispose();
  }
});

test('--dtype f32 widens the F16 values exactly; f32 → f16 / bf16 rounds like the fixtures', async () => {
  const f16 = (await load(join(TINY, 't5-tiny-f16', 'model.safetensors'))).tensors;
  const r = await convertWeights({ input: TORCH, output: join(freshDir(), 'model.safetensors'), dtype: 'F32' });
  assert.equal(r.dtypes, ['F32']);
  const wide = (await load(r.output)).tensors;
  assert.equal([...wide.keys()].sort(), [...f16.keys()].sort());
  for (const [name, t] of f16) {
    const w = wide.get(name)!;
    assert.is(w.dtype, 'F32');
    assert.equal([...w.shape], [...t.shape]);
    assert.ok(sameBytes(w.bytes, new Uint8Array(toFloat32('F16', t.bytes).buffer)), `${name} widened exactly`);
  }
  for (const [dt, folder] of [['F16', 't5-tiny-f16'], ['BF16', 't5-tiny-bf16']] as const) {
    const out = await convertWeights({ input: join(TINY, 't5-tiny-f32'), output: join(freshDir(), 'model.safetensors'), dtype: dt });
    assertSameTensors((await load(out.output)).tensors, (await load(join(TINY, folder, 'model.safetensors'))).tensors, `f32 → ${dt}`);
  }
});

test('encoder only by default (a seq2seq checkpoint loses its decoder); --all keeps every tensor', async () => {
  const seq = join(TINY, 't5-tiny-seq2seq');
  const all = (await load(join(seq, 'model.safetensors'))).tensors;
  const enc = await convertWeights({ input: seq, output: join(freshDir(), 'enc.safetensors') });
  const encT = (await load(enc.output)).tensors;
  assert.is(encT.size, 27);
  assert.ok([...encT.keys()].every((k) => k === 'shared.weight' || k.startsWith('encoder.')));
  for (const [k, t] of encT) assert.ok(sameBytes(t.bytes, all.get(k)!.bytes), k);
  const full = await convertWeights({ input: seq, output: join(freshDir(), 'all.safetensors'), all: true });
  assertSameTensors((await load(full.output)).tensors, all, '--all');

  // --all on the .bin keeps both names of the tied embedding.
  const bin = await convertWeights({ input: BIN, output: join(freshDir(), 'model.safetensors'), all: true });
  const binT = (await load(bin.output)).tensors;
  assert.ok(binT.has('encoder.embed_tokens.weight') && binT.has('shared.weight'));
  assert.ok(sameBytes(binT.get('encoder.embed_tokens.weight')!.bytes, binT.get('shared.weight')!.bytes));
});

test('a sharded folder; a lone file with no config.json (chosen by name, with a warning); an output folder', async () => {
  const f32 = (await load(join(TINY, 't5-tiny-f32', 'model.safetensors'))).tensors;
  const sh = await convertWeights({ input: join(TINY, 't5-tiny-sharded'), output: join(freshDir(), 'model.safetensors') });
  assertSameTensors((await load(sh.output)).tensors, f32, 'sharded');

  const lone = freshDir();
  copyFileSync(BIN, join(lone, 'weights.bin'));
  const warnings: string[] = [];
  const outDir = freshDir();
  const r = await convertWeights({ input: join(lone, 'weights.bin'), output: outDir, warn: (m) => warnings.push(m) });
  assert.is(r.output, join(outDir, 'model.safetensors'));
  assert.is(r.configCopied, null);
  assert.ok(warnings.some((w) => /no config\.json/.test(w)), warnings.join('\n'));
  assertSameTensors((await load(r.output)).tensors, (await load(join(TINY, 't5-tiny-f16', 'model.safetensors'))).tensors, 'lone .bin');
});

test("converting a safetensors file onto itself keeps its __metadata__ and tensors (format: pt is added)", async () => {
  const dir = freshDir();
  const f32 = (await load(join(TINY, 't5-tiny-f32', 'model.safetensors'))).tensors;
  const file = join(dir, 'model.safetensors');
  const list = [...f32].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.bytes }));
  writeFileSync(file, encodeSafetensors(list, { source: 'test', revision: 'abc123' }));
  const r = await convertWeights({ input: file, output: file, dtype: 'F16' });
  const got = await load(r.output);
  assert.equal(got.metadata, { source: 'test', revision: 'abc123', format: 'pt' });
  assertSameTensors(got.tensors, (await load(join(TINY, 't5-tiny-f16', 'model.safetensors'))).tensors, 'in place f32 → f16');
  assert.equal(readdirSync(dir), ['model.safetensors'], 'no .partial left');
});

test('errors are typed and leave no output behind', async () => {
  // Not weights at all.
  const bad = freshDir();
  writeFileSync(join(bad, 'pytorch_model.bin'), 'this is not a checkpoint, just text');
  copyFileSync(join(TORCH, 'config.json'), join(bad, 'config.json'));
  const out = freshDir();
  for (const input of [join(bad, 'pytorch_model.bin'), bad]) {
    try {
      await convertWeights({ input, output: join(out, 'model.safetensors') });
      assert.unreachable('should have failed');
    } catch (e) {
      assert.instance(e, WeightsError);
    }
  }
  // Good until a later tensor's zip entry is damaged: fails part way, the partial is removed.
  const bytes = Buffer.from(readFileSync(BIN));
  const at = bytes.indexOf('pytorch_model/data/9') - 30;
  assert.is(bytes.readUInt32LE(at), 0x04034b50, 'local header found');
  bytes[at] = 0;
  const damaged = freshDir();
  writeFileSync(join(damaged, 'pytorch_model.bin'), bytes);
  let written = 0;
  try {
    await convertWeights({ input: join(damaged, 'pytorch_model.bin'), output: join(out, 'model.safetensors'), onTensor: (i) => (written = i) });
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, WeightsError);
  }
  assert.ok(written > 0, 'it failed part way through');
  assert.equal(readdirSync(out), [], 'no output, no .partial, no config.json');

  // A config.json that does not match the weights.
  const wrong = freshDir();
  copyFileSync(BIN, join(wrong, 'pytorch_model.bin'));
  writeFileSync(join(wrong, 'config.json'), readFileSync(join(TORCH, 'config.json'), 'utf8').replace('"d_model": 64', '"d_model": 32'));
  await convertWeights({ input: wrong, output: join(out, 'model.safetensors') }).then(
    () => assert.unreachable('should have failed'),
    (e) => assert.ok(e instanceof WeightsError || e instanceof ConfigError, String(e)),
  );
  assert.equal(readdirSync(out), []);

  await convertWeights({ input: join(tmp, 'no-such-file.bin'), output: join(out, 'model.safetensors') }).then(
    () => assert.unreachable('should have failed'),
    (e) => assert.instance(e, IOError),
  );
  await convertWeights({ input: BIN, output: join(out, 'model.bin') }).then(
    () => assert.unreachable('should have failed'),
    (e) => assert.instance(e, UsageError),
  );
  assert.equal(readdirSync(out), []);
});

// ---------- the command ----------

function prott5(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'prott5.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prott5 convert: success, --help, and exit codes 2, 4, 7', () => {
  const dir = freshDir();
  const ok = prott5('convert', BIN, '-o', join(dir, 'model.safetensors'), '--dtype', 'f32');
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /wrote 27 tensors \(F32/);
  assert.equal(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);

  const help = prott5('convert', '--help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /Usage: prott5 convert/);
  assert.match(prott5('--help').stdout, /convert/);

  const bad = freshDir();
  writeFileSync(join(bad, 'pytorch_model.bin'), 'not a checkpoint');
  const out = freshDir();
  const r4 = prott5('convert', join(bad, 'pytorch_model.bin'), '-o', join(out, 'model.safetensors'));
  assert.is(r4.status, 4, r4.stderr);
  assert.match(r4.stderr, /prott5: error: .*pytorch_model\.bin/);
  assert.equal(readdirSync(out), [], 'nothing left behind');

  assert.is(prott5('convert', join(tmp, 'missing.bin'), '-o', join(out, 'model.safetensors')).status, 7);
  assert.is(prott5('convert', BIN).status, 2, 'no -o');
  assert.is(prott5('convert', BIN, '-o', join(out, 'x.safetensors'), '--dtype', 'f8').status, 2);
  assert.is(prott5('convert', BIN, '-o', join(out, 'x.safetensors'), '--bogus').status, 2);
  assert.equal(readdirSync(out), []);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test('a file with no usable tensor is an error naming it, and writes nothing (not an empty file that succeeds)', async () => {
  const dir = freshDir();
  const input = join(dir, 'empty.safetensors');
  writeFileSync(input, encodeSafetensors([]));
  const output = join(dir, 'out.safetensors');
  try {
    await convertWeights({ input, output, all: true });
    assert.unreachable('converted nothing');
  } catch (e) {
    assert.instance(e, WeightsError);
    assert.match((e as Error).message, /no F32, F16 or BF16 tensor found/);
    assert.match((e as Error).message, /empty\.safetensors/);
  }
  assert.equal(readdirSync(dir), ['empty.safetensors']);
  // A head's checkpoint as published ({'state_dict': ...}, ProtT5-sec): nested weights, nothing read here.
  const nested = join(fixturesDir(), 'heads', 'secstruct', 'secstruct_checkpoint.pt');
  try {
    await convertWeights({ input: nested, output, all: true });
    assert.unreachable('converted a nested checkpoint to nothing');
  } catch (e) {
    assert.instance(e, WeightsError);
    assert.match((e as Error).message, /secstruct_checkpoint\.pt: no F32, F16 or BF16 tensor found/);
  }
  assert.equal(readdirSync(dir), ['empty.safetensors']);
});

test.run();
