// The BERT-style families, ESM-2 and ProtXLNet against transformers' own model classes: the fixtures of
// the project's families fixtures (random weights in the hub layouts; float64 references), copied
// into test/fixtures/families. For each folder: the token ids read from its own tokenizer file
// equal cases.json's input_ids (the <mask> case of ESM-2 included); every case alone and all
// batched together give last_hidden_state, per-residue and per-protein within 1e-4 relative
// Frobenius per sequence (f32 compute against float64).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadProtT5, SequenceError, type Embedding, type EmbeddingModel } from '../src/node.js';
import { convertWeights } from '../src/cli/convert.js';
import { main } from '../src/cli/main.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import { FileSource } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import { runtime } from './gpu.js';
import { expectClose, fixturesDir, relFrobenius } from './helpers.js';

// f32 kernels against a float64 reference through 2-3 layers of D = 64: ~1e-6 measured; the
// acceptance bound is 1e-4, and any wrong norm, bias, scale, position or mask is O(1e-1).
const TOL = 1e-4;

const DIR = join(fixturesDir(), 'families');

interface Case {
  index: number;
  sequence: string;
  input_ids: number[];
  residue_start: number;
  residue_count: number;
  masked_rows?: number[];
}
interface FamilyCases {
  cases: Case[];
  config: Record<string, unknown>;
  batched_check?: Record<string, { max_rel_frobenius: number; padding: string }>;
}
const readCases = (file: string): Record<string, FamilyCases> => JSON.parse(readFileSync(join(DIR, file), 'utf8')).families;
const CASES: Record<string, FamilyCases> = { ...readCases('cases-bert-esm.json'), ...readCases('cases-xlnet.json') };

const FOLDERS: Array<{ folder: string; family: string; fixture: string; dtype: 'F32' | 'F16'; name: string }> = [
  { folder: 'protbert', fixture: 'protbert', dtype: 'F32', family: 'bert', name: 'ProtBert' },
  { folder: 'protbert-f16', fixture: 'protbert', dtype: 'F16', family: 'bert', name: 'ProtBert f16' },
  { folder: 'protelectra', fixture: 'protelectra', dtype: 'F32', family: 'electra', name: 'ProtElectra' },
  { folder: 'protalbert', fixture: 'protalbert', dtype: 'F32', family: 'albert', name: 'ProtAlbert' },
  { folder: 'esm2', fixture: 'esm2', dtype: 'F32', family: 'esm', name: 'ESM-2' },
  { folder: 'esm2-f16', fixture: 'esm2', dtype: 'F16', family: 'esm', name: 'ESM-2 f16' },
  // XLNet pads on the left; the batch runs each sequence at its row's start (the same numbers:
  // see the ProtXLNet test below and docs/ARCHITECTURE.md).
  { folder: 'protxlnet', fixture: 'protxlnet', dtype: 'F32', family: 'xlnet', name: 'ProtXLNet' },
];

let expectedCache: Map<string, Float32Array> | null = null;
async function expected(key: string): Promise<Float32Array> {
  if (!expectedCache) {
    expectedCache = new Map();
    for (const file of ['expected-bert-esm.safetensors', 'expected-xlnet.safetensors']) {
      const src = await FileSource.open(join(DIR, file));
      const st = await readSafetensors(src);
      for (const t of st.tensors) expectedCache.set(t.name, toFloat32(t.dtype, await t.read()));
      await src.close();
    }
  }
  const v = expectedCache.get(key);
  if (!v) throw new Error(`the expected-*.safetensors have no ${key}`);
  return v;
}

/** The case's input text: masked rows become the literal `<mask>`. */
function inputText(c: Case): string {
  if (!c.masked_rows) return c.sequence;
  const rows = new Set(c.masked_rows.map((r) => r - c.residue_start));
  return [...c.sequence].map((ch, i) => (rows.has(i) ? '<mask>' : ch)).join('');
}

/** Compares one sequence's three outputs with the fixture; returns the worst relative error. */
async function compare(what: string, e: Embedding, key: string, c: Case, D: number): Promise<number> {
  const hidden = await expected(`${key}.hidden.${c.index}`), protein = await expected(`${key}.protein.${c.index}`);
  const residue = hidden.subarray(c.residue_start * D, (c.residue_start + c.residue_count) * D);
  assert.equal(e.lastHiddenState!.shape, [c.input_ids.length, D], `${what}: last_hidden_state shape`);
  assert.equal(e.perResidue!.shape, [c.residue_count, D], `${what}: per-residue shape`);
  return Math.max(
    expectClose(`${what} last_hidden_state`, e.lastHiddenState!.data, hidden, TOL),
    expectClose(`${what} per-residue`, e.perResidue!.data, residue, TOL),
    expectClose(`${what} per-protein`, e.perProtein!.data, protein, TOL),
  );
}

const OUTPUTS = { perResidue: true, perProtein: true, lastHiddenState: true } as const;
const worst: string[] = [];

for (const f of FOLDERS) {
  test(`${f.name} (${f.folder}): token ids from the folder's tokenizer file; every case alone and all batched within ${TOL}`, async () => {
    const rt = await runtime();
    const model: EmbeddingModel = await loadProtT5(join(DIR, f.folder), { runtime: rt, autotune: false });
    try {
      assert.is(model.family.name, f.family);
      assert.equal([...model.encoder.weightDtypes], [f.dtype.toLowerCase()]);
      const { cases } = CASES[f.fixture];
      const D = model.hiddenSize;
      for (const c of cases) {
        const t = model.tokenizer.encode(inputText(c), `case ${c.index}`);
        assert.equal(Array.from(t.ids), c.input_ids, `case ${c.index}: token ids`);
        assert.is(t.residueStart, c.residue_start);
        assert.is(t.residueCount, c.residue_count);
      }
      const key = `${f.fixture}.${f.dtype}`;
      let alone = 0, batched = 0;
      for (const c of cases) {
        const [e] = await model.embed([inputText(c)], OUTPUTS);
        alone = Math.max(alone, await compare(`${f.folder} case ${c.index} alone`, e, key, c, D));
      }
      // All cases in one padded batch (lengths 3 to 303 tokens).
      const all = await model.embed(cases.map(inputText), { ...OUTPUTS, maxBatch: 100, maxResidues: 100000 });
      for (const [i, c] of cases.entries()) batched = Math.max(batched, await compare(`${f.folder} case ${c.index} batched`, all[i], key, c, D));
      worst.push(`${f.folder}: worst relative error alone ${alone.toExponential(2)}, batched ${batched.toExponential(2)}`);
    } finally {
      model.dispose();
    }
  });
}

test('ESM-2 token dropout: the <mask> case differs from the unmasked one, and ×0.88 acts with no <mask>', async () => {
  const rt = await runtime();
  const model = await loadProtT5(join(DIR, 'esm2'), { runtime: rt, autotune: false });
  try {
    const masked = CASES.esm2.cases.find((c) => c.masked_rows)!;
    const [a, b] = await model.embed([masked.sequence, inputText(masked)], { perProtein: true });
    assert.ok(relFrobenius(a.perProtein!.data, b.perProtein!.data) > 1e-2, 'masking residues changes the embedding');
  } finally {
    model.dispose();
  }
});

test('ALBERT uploads its one shared layer once: the load reads 23 tensors for 3 layers', async () => {
  const rt = await runtime();
  let total = 0;
  const model = await loadProtT5(join(DIR, 'protalbert'), { runtime: rt, autotune: false, onProgress: (p) => { if (p.phase === 'upload') total = p.total; } });
  try {
    assert.is(CASES.protalbert.config.num_hidden_layers, 3);
    // 5 embedding tensors + 2 of embedding_hidden_mapping_in + 16 of the shared layer.
    assert.is(total, 23);
    assert.match(model.summary, /albert: 3 layers \(1 stored, shared\), hidden 64, embedding 16/);
  } finally {
    model.dispose();
  }
});

test('ProtXLNet: left padding is what HF batched; the batch here equals each sequence alone, so it equals HF left-padded', async () => {
  // The fixture's batched_check is HF's own left-padded batch (attention_mask) against the
  // single runs the references come from: float64 round-off. The batched test above matches those
  // references within 1e-4, so the public result equals HF's left-padded one.
  const check = CASES.protxlnet.batched_check!.F32;
  assert.is(check.padding, 'left');
  assert.ok(check.max_rel_frobenius < 1e-12, `HF left-padded vs alone: ${check.max_rel_frobenius}`);
  const rt = await runtime();
  const model = await loadProtT5(join(DIR, 'protxlnet'), { runtime: rt, autotune: false });
  try {
    assert.is(model.tokenizer.padSide, 'left');
    assert.is(model.tokenizer.padId, 5, '<pad> from spiece.model');
    // Residues are the sequence's first rows: <sep> and <cls> come after them.
    const [e] = await model.embed(['MKXU'], { perResidue: true, lastHiddenState: true });
    assert.equal(e.perResidue!.shape, [4, 64]);
    assert.equal(e.lastHiddenState!.shape, [6, 64]);
    assert.equal(e.perResidue!.data, e.lastHiddenState!.data.slice(0, 4 * 64));
  } finally {
    model.dispose();
  }
});

const root = mkdtempSync(join(tmpdir(), 'prott5-families-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of a fixture folder with its config.json edited. */
function edited(folder: string, edit: (c: Record<string, unknown>) => void): string {
  const out = join(root, `${folder}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  for (const name of ['model.safetensors', 'vocab.txt', 'spiece.model', 'tokenizer_config.json']) {
    try {
      copyFileSync(join(DIR, folder, name), join(out, name));
    } catch {
      // not every folder has every file
    }
  }
  const c = JSON.parse(readFileSync(join(DIR, folder, 'config.json'), 'utf8'));
  edit(c);
  writeFileSync(join(out, 'config.json'), JSON.stringify(c));
  return out;
}

async function loadError(dir: string): Promise<Error> {
  const rt = await runtime();
  try {
    const m = await loadProtT5(dir, { runtime: rt, autotune: false });
    m.dispose();
  } catch (e) {
    return e as Error;
  }
  throw new Error(`loading ${dir} should fail`);
}

test('config errors: an unknown model_type lists the known ones; unsupported activations and positions are named', async () => {
  let e = await loadError(edited('protbert', (c) => (c.model_type = 'roberta')));
  assert.instance(e, ConfigError);
  assert.match(e.message, /model_type is "roberta", this engine runs .*t5.*bert.*electra.*albert.*esm.*xlnet/);
  e = await loadError(edited('protbert', (c) => (c.hidden_act = 'relu')));
  assert.instance(e, ConfigError);
  assert.match(e.message, /"hidden_act" "relu" is not supported/);
  e = await loadError(edited('esm2', (c) => (c.position_embedding_type = 'absolute')));
  assert.match(e.message, /"position_embedding_type" "absolute" is not supported \(ESM-2 uses "rotary"/);
  e = await loadError(edited('protxlnet', (c) => (c.attn_type = 'uni')));
  assert.match(e.message, /"attn_type" "uni" is not supported/);
  e = await loadError(edited('protxlnet', (c) => (c.bi_data = true)));
  assert.match(e.message, /"bi_data" true .* is not supported/);
  e = await loadError(edited('protxlnet', (c) => (c.d_head = 8)));
  assert.match(e.message, /"d_head" 8 must be "d_model" \/ "n_head" = 16/);
  e = await loadError(edited('esm2', (c) => (c.num_attention_heads = 5)));
  assert.match(e.message, /"hidden_size" 64 is not a multiple of "num_attention_heads" 5/);
  // ProtAlbert's published config.json has no model_type: architectures pick the family.
  const rt = await runtime();
  const m = await loadProtT5(edited('protalbert', (c) => delete c.model_type), { runtime: rt, autotune: false });
  assert.is(m.family.name, 'albert');
  m.dispose();
});

test('a sequence longer than the position table is a SequenceError naming the record', async () => {
  const rt = await runtime();
  const model = await loadProtT5(edited('protbert', (c) => (c.max_position_embeddings = 512)), { runtime: rt, autotune: false });
  try {
    await model.embed([{ id: 'long1', sequence: 'A'.repeat(511) }]);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, SequenceError);
    assert.match((e as Error).message, /long1: 511 residues make 513 tokens \(with 2 special\), more than the 512 positions/);
  } finally {
    model.dispose();
  }
});

// BF16 weights: `prott5 convert --dtype bf16` of the F32 folder, then back to F32 (exactly the
// bf16 values as f32). The BF16 model must equal the F32 model on the same values (the weight
// dtype only changes how the kernels unpack them), and both stay near the F32 reference
// (bf16 keeps 8 bits of mantissa: ~1e-2).
// protxlnet: its q, k, v, r are transposed at upload, here 2-byte elements.
for (const folder of ['esm2', 'protxlnet']) {
  test(`${folder} as BF16 (convert --dtype bf16): equals F32 on the same values, near the reference`, async () => {
    const rt = await runtime();
    const bf = join(root, `${folder}-bf16`), back = join(root, `${folder}-bf16-f32`);
    for (const d of [bf, back]) mkdirSync(d);
    for (const name of ['vocab.txt', 'spiece.model', 'tokenizer_config.json']) {
      if (existsSync(join(DIR, folder, name))) for (const d of [bf, back]) copyFileSync(join(DIR, folder, name), join(d, name));
    }
    await convertWeights({ input: join(DIR, folder), output: bf, dtype: 'BF16' });
    await convertWeights({ input: bf, output: back, dtype: 'F32' });
    const cases = CASES[folder].cases.filter((c) => c.residue_count < 200); // the long case adds time, not coverage
    const run = async (dir: string, dtype: string) => {
      const m = await loadProtT5(dir, { runtime: rt, autotune: false });
      try {
        assert.equal([...m.encoder.weightDtypes], [dtype]);
        return await m.embed(cases.map(inputText), { lastHiddenState: true });
      } finally {
        m.dispose();
      }
    };
    const a = await run(bf, 'bf16'), b = await run(back, 'f32');
    let same = 0, ref = 0;
    for (const [i, c] of cases.entries()) {
      same = Math.max(same, expectClose(`${folder} bf16 vs f32 case ${c.index}`, a[i].lastHiddenState!.data, b[i].lastHiddenState!.data, 1e-5));
      ref = Math.max(ref, expectClose(`${folder} bf16 vs the F32 reference case ${c.index}`, a[i].lastHiddenState!.data, await expected(`${folder}.F32.hidden.${c.index}`), 5e-2));
    }
    worst.push(`${folder} bf16: vs f32 on the same values ${same.toExponential(2)}, vs the F32 reference ${ref.toExponential(2)}`);
  });
}

test('ESM-2 from a pytorch_model.bin (torch.save zip, HalfStorage): the F16 reference, as from model.safetensors', async () => {
  const rt = await runtime();
  const model = await loadProtT5(join(DIR, 'esm2-torch-f16'), { runtime: rt, autotune: false });
  try {
    assert.is(model.family.name, 'esm');
    assert.equal([...model.encoder.weightDtypes], ['f16']);
    const cases = CASES.esm2.cases.filter((c) => c.residue_count < 200);
    const got = await model.embed(cases.map(inputText), OUTPUTS);
    let w = 0;
    for (const [i, c] of cases.entries()) w = Math.max(w, await compare(`esm2-torch-f16 case ${c.index}`, got[i], 'esm2.F16', c, model.hiddenSize));
    worst.push(`esm2-torch-f16 (pytorch_model.bin): worst relative error ${w.toExponential(2)}`);
  } finally {
    model.dispose();
  }
});

test('prott5 info --model prints the family, dims, parameter count and weight dtypes', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    assert.is(await main(['info', '--model', join(DIR, 'esm2-f16')]), 0);
    assert.is(await main(['info', '--model', join(DIR, 'protalbert'), '--json']), 0);
    assert.is(await main(['info', '--model', join(DIR, 'protxlnet'), '--json']), 0);
  } finally {
    console.log = log;
  }
  const text = lines[0];
  assert.match(text, /family: +esm — an ESM-2 encoder with 2 layers/);
  assert.match(text, /dims: +2 layers, hidden 64, 4 heads, intermediate 256, rotary, token dropout/);
  // word embeddings 33×64, per layer 4·(64·64+64) + 2·(256·64) + 256 + 64 + 4·64 (norms), final norm 2·64
  const perLayer = 4 * (64 * 64 + 64) + 256 * 64 + 256 + 64 * 256 + 64 + 4 * 64;
  assert.ok(text.includes(`(${(33 * 64 + 2 * perLayer + 128).toLocaleString('en-US')})`), text);
  assert.match(text, /weights: +F16 \(35 tensors\)/);
  const albert = JSON.parse(lines[1]);
  assert.is(albert.family, 'albert');
  assert.equal(albert.dtypes, { F32: 23 });
  const xl = JSON.parse(lines[2]);
  assert.is(xl.family, 'xlnet');
  assert.match(xl.summary, /^2 layers, d_model 64, 4 heads, d_inner 128, relative positions \(bi\)$/);
  // Per layer: q k v o r (64·4·16 each), r_w_bias and r_r_bias (4·16 each), two norms, layer_1 and layer_2 with biases.
  assert.is(xl.parameters, 30 * 64 + 2 * (5 * 64 * 64 + 2 * 64 + 4 * 64 + 128 * 64 + 128 + 64 * 128 + 64));
  assert.equal(xl.inputs, ['aa']);
});

test.after(() => console.log(worst.join('\n')));
test.run();
