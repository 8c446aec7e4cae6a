// T5 variants against the families fixture's float64 outputs (transformers' own T5 classes):
// ProstT5 (amino acids and 3Di, vocabulary 150 from spiece.model + added_tokens.json) and the
// Ankh / T5 v1.1 layout (gated-GELU feed-forward, 64 buckets, untied lm_head), every case alone
// and batched within 1e-4 per sequence; the feed-forward split into slices and row chunks
// under a low buffer limit, every allocation within it; the variant names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeRuntime, loadProtT5, SequenceError, TokenizerError, UsageError, type Embedding } from '../src/node.js';
import { openCheckpoint } from '../src/models/checkpoint.js';
import { parseT5Config, PROT_T5_XL, type T5Config } from '../src/models/t5/config.js';
import { ffSliceRows } from '../src/models/t5/encoder.js';
import { t5 } from '../src/models/t5/index.js';
import { encoderTensorShapes } from '../src/models/t5/schema.js';
import { t5Variant } from '../src/models/t5/variant.js';
import type { Checkpoint } from '../src/models/family.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { DirectoryFiles, FileSource } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import type { TensorEntry } from '../weights/tensor-entry.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import { expectClose, fixturesDir, randomArray, repoRoot } from './helpers.js';
import { runtime } from './gpu.js';

const FAMILIES = join(fixturesDir(), 'families');
interface Case { index: number; mode?: 'aa' | '3di'; sequence?: string; input_ids: number[]; residue_start: number; residue_count: number; length: number }
const fixture: Record<string, { cases: Case[]; config: Record<string, unknown> }> = JSON.parse(readFileSync(join(FAMILIES, 't5-cases.json'), 'utf8')).families;

// The acceptance bound: f32 compute against a float64 reference, per sequence.
const TOL = 1e-4;

let expectedCache: Map<string, Float32Array> | null = null;
async function want(key: string): Promise<Float32Array> {
  if (!expectedCache) {
    const src = await FileSource.open(join(FAMILIES, 'expected-t5.safetensors'));
    const st = await readSafetensors(src);
    expectedCache = new Map();
    for (const t of st.tensors) expectedCache.set(t.name, toFloat32(t.dtype, await t.read()));
    await src.close();
  }
  const v = expectedCache.get(key);
  if (!v) throw new Error(`expected-t5.safetensors has no ${key}`);
  return v;
}

let worst = 0;
let worstAt = '';
const note = (what: string, err: number) => {
  if (err > worst) [worst, worstAt] = [err, what];
};

/** hidden (all rows), residue (rows residue_start..), protein (their mean) of one case. */
async function compareEmbedding(where: string, family: string, c: Case, e: Embedding): Promise<void> {
  const hidden = await want(`${family}.F32.hidden.${c.index}`);
  const D = hidden.length / c.input_ids.length;
  assert.is(e.length, c.residue_count, `${where}: length`);
  note(`${where} hidden`, expectClose(`${where} hidden.${c.index}`, e.lastHiddenState!.data, hidden, TOL));
  const rows = hidden.subarray(c.residue_start * D, (c.residue_start + c.residue_count) * D);
  note(`${where} residue`, expectClose(`${where} residue.${c.index}`, e.perResidue!.data, rows, TOL));
  note(`${where} protein`, expectClose(`${where} protein.${c.index}`, e.perProtein!.data, await want(`${family}.F32.protein.${c.index}`), TOL));
}

const ALL = { perResidue: true, perProtein: true, lastHiddenState: true };

test('prostt5: ids from spiece.model + added_tokens.json equal cases.json; every case alone and batched per mode (1e-4)', async () => {
  const model = await loadProtT5(join(FAMILIES, 'prostt5'), { runtime: await runtime(), autotune: false });
  try {
    assert.equal(model.inputModes, ['aa', '3di']);
    const cases = fixture.prostt5.cases;
    assert.equal(new Set(cases.map((c) => c.mode)), new Set(['aa', '3di']));
    for (const c of cases) {
      const t = model.tokenizer.encode(c.sequence!, `case ${c.index}`, c.mode);
      assert.equal([...t.ids], c.input_ids, `case ${c.index} ids`);
      assert.is(t.residueStart, c.residue_start);
      const [e] = await model.embed([c.sequence!], { ...ALL, input: c.mode });
      await compareEmbedding(`prostt5 ${c.mode} alone`, 'prostt5', c, e);
    }
    for (const mode of ['aa', '3di'] as const) {
      const some = cases.filter((c) => c.mode === mode);
      const batched = await model.embed(some.map((c) => ({ id: `case${c.index}`, sequence: c.sequence! })), { ...ALL, input: mode });
      for (const [i, c] of some.entries()) {
        assert.is(batched[i].id, `case${c.index}`);
        await compareEmbedding(`prostt5 ${mode} batched`, 'prostt5', c, batched[i]);
      }
    }
    // The default input is amino acids: the 3Di text read as amino acids is another embedding.
    const c3 = cases.find((c) => c.mode === '3di' && c.length > 5)!;
    const [asAa] = await model.embed([c3.sequence!], { lastHiddenState: true });
    assert.is(asAa.lastHiddenState!.data[0] === (await want(`prostt5.F32.hidden.${c3.index}`))[0], false, 'aa and 3di prefixes differ');
    // A 3Di letter outside the 20 states: a SequenceError naming the record and the position.
    await model.embed([{ id: 'fold1', sequence: 'acdxq' }], { input: '3di' }).then(
      () => assert.unreachable('x is not a 3Di state'),
      (e: Error) => {
        assert.instance(e, SequenceError);
        assert.equal((e as SequenceError).context, { record: 'fold1', position: 4, char: 'x' });
        assert.match(e.message, /fold1: residue 4 is 'x', not a 3Di letter/);
      },
    );
    await model.embed(['MKT'], { input: 'dna' }).then(
      () => assert.unreachable('no such input'),
      (e: Error) => assert.instance(e, UsageError),
    );
  } finally {
    model.dispose();
  }
});

test('a ProtT5 folder reads amino acids only: input 3di is a UsageError naming the modes', async () => {
  const model = await loadProtT5(join(fixturesDir(), 't5-tiny', 't5-tiny-f32'), { runtime: await runtime(), autotune: false });
  try {
    assert.equal(model.inputModes, ['aa']);
    await model.embed(['acd'], { input: '3di' }).then(
      () => assert.unreachable('ProtT5 has no 3Di tokens'),
      (e: Error) => {
        assert.instance(e, UsageError);
        assert.match(e.message, /input "3di" is not read by this model \(t5: aa\)/);
      },
    );
  } finally {
    model.dispose();
  }
});

/** The encoder of a folder, run on given ids: last_hidden_state per sequence (rows 0..n-1). */
async function encodeIds(rt: Runtime, ckpt: Checkpoint<T5Config>, seqs: number[][]): Promise<Float32Array[]> {
  const encoder = await t5.load(rt, ckpt, {});
  try {
    const B = seqs.length, L = Math.max(...seqs.map((s) => s.length));
    const ids = new Uint32Array(B * L); // right-padded with <pad> = 0
    seqs.forEach((s, b) => ids.set(s, b * L));
    const out = await encoder.forward(ids, Uint32Array.from(seqs, (s) => s.length), B, L);
    const all = await rt.read(out);
    out.release();
    const D = encoder.hiddenSize;
    return seqs.map((s, b) => all.slice(b * L * D, (b * L + s.length) * D));
  } finally {
    encoder.dispose();
  }
}

test('t5-gated (Ankh layout: gated GELU, 64 buckets, separate lm_head): every case alone and batched (1e-4)', async () => {
  const rt = await runtime();
  const ckpt = await openCheckpoint<T5Config>(new DirectoryFiles(join(FAMILIES, 't5-gated')));
  assert.is(ckpt.config.feed_forward_proj, 'gated-gelu');
  assert.is(ckpt.config.relative_attention_num_buckets, 64);
  assert.ok(!ckpt.tensors.has('lm_head.weight'), 'lm_head is not the encoder');
  assert.ok(ckpt.tensors.has('encoder.block.0.layer.1.DenseReluDense.wi_1.weight'));
  const cases = fixture['t5-gated'].cases;
  try {
    for (const c of cases) {
      const [h] = await encodeIds(rt, ckpt, [c.input_ids]);
      note('t5-gated alone', expectClose(`t5-gated alone hidden.${c.index}`, h, await want(`t5-gated.F32.hidden.${c.index}`), TOL));
    }
    const hs = await encodeIds(rt, ckpt, cases.map((c) => c.input_ids));
    for (const [i, c] of cases.entries()) note('t5-gated batched', expectClose(`t5-gated batched hidden.${c.index}`, hs[i], await want(`t5-gated.F32.hidden.${c.index}`), TOL));
  } finally {
    await ckpt.close();
  }
  // Ankh's tokenizer comes from the folder's file; this fixture has none: a TokenizerError, not a guess.
  await loadProtT5(join(FAMILIES, 't5-gated'), { runtime: rt, autotune: false }).then(
    () => assert.unreachable('no tokenizer file'),
    (e: Error) => {
      assert.instance(e, TokenizerError);
      assert.match(e.message, /no tokenizer file: a ankh folder needs one of tokenizer\.json, spiece\.model/);
    },
  );
});

test('an Ankh-layout folder with a tokenizer.json: letters read from the file, the embedding of case 1 through the API', async () => {
  // The fixture has no tokenizer (Ankh's ids are not known to us): one made here, placing
  // case 1's seven ids at the letters M K T A Y I L and fillers everywhere else.
  const c = fixture['t5-gated'].cases[1];
  const letters = 'MKTAYIL';
  const vocab: Array<[string, number]> = Array.from({ length: 144 }, (_, i) => [`<f${i}>`, 0]);
  [vocab[0], vocab[1], vocab[2]] = [['<pad>', 0], ['</s>', 0], ['<unk>', 0]];
  c.input_ids.slice(0, -1).forEach((id, i) => (vocab[id] = [letters[i], -1]));
  const dir = mkdtempSync(join(tmpdir(), 'prott5-ankh-'));
  try {
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(FAMILIES, 't5-gated', f), join(dir, f));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab } }));
    const model = await loadProtT5(dir, { runtime: await runtime(), autotune: false });
    try {
      assert.equal([...model.tokenizer.encode(letters, 'x').ids], c.input_ids);
      const [e] = await model.embed([letters.toLowerCase()], { lastHiddenState: true });
      note('ankh api', expectClose('ankh folder case 1', e.lastHiddenState!.data, await want(`t5-gated.F32.hidden.${c.index}`), TOL));
      await model.embed(['MKTW']).then(
        () => assert.unreachable('W has no token in this file'),
        (err: Error) => {
          assert.instance(err, SequenceError);
          assert.match(err.message, /residue 4 is 'W', which has no token in .*tokenizer\.json/);
        },
      );
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const prott5 = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot(), 'bin', 'prott5.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

test('prott5 embed --input 3di (a FASTA of 3Di strings) and prott5 info --model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-3di-'));
  try {
    const cs = fixture.prostt5.cases.filter((c) => c.mode === '3di' && c.length < 50);
    writeFileSync(join(dir, 'in.fasta'), cs.map((c) => `>case${c.index}\n${c.sequence!.toUpperCase()}\n`).join(''));
    const r = prott5('embed', join(dir, 'in.fasta'), '--model', join(FAMILIES, 'prostt5'), '--input', '3di', '-o', join(dir, 'out.safetensors'), '-q');
    assert.is(r.status, 0, r.stderr);
    const src = await FileSource.open(join(dir, 'out.safetensors'));
    const st = await readSafetensors(src);
    for (const c of cs) {
      const t = st.tensors.find((x) => x.name === `case${c.index}`)!;
      note('cli 3di', expectClose(`cli 3di protein ${c.index}`, toFloat32(t.dtype, await t.read()), await want(`prostt5.F32.protein.${c.index}`), TOL));
    }
    await src.close();
    const bad = prott5('embed', join(dir, 'in.fasta'), '--model', join(fixturesDir(), 't5-tiny', 't5-tiny-f32'), '--input', '3di', '-o', join(dir, 'bad.safetensors'), '-q');
    assert.is(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /input "3di" is not read by this model \(t5: aa\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const info = prott5('info', '--model', join(FAMILIES, 'prostt5'), '--json');
  assert.is(info.status, 0, info.stderr);
  const m = JSON.parse(info.stdout);
  assert.equal([m.family, m.variant, m.inputs, Object.keys(m.dtypes)], ['t5', 'unknown T5', ['aa', '3di'], ['F32']]);
  const text = prott5('info', '--model', join(FAMILIES, 't5-gated'));
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /variant: +unknown T5 \(Ankh-like \(gated GELU, 64 buckets\)/);
  assert.match(text.stdout, /2 layers, d_model 48, 3 heads, d_ff 96 \(gated GELU\)/);
  assert.match(text.stdout, /input: +none: .*no tokenizer file/);
});

// ---- the feed-forward under a buffer limit ------------------------------------------------------

function randomCheckpoint(config: T5Config): Checkpoint<T5Config> {
  let seed = 11;
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shape] of encoderTensorShapes(config)) {
    const s = seed++;
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith('layer_norm.weight');
    const scale = name === 'shared.weight' || name.includes('relative_attention_bias') ? 1 : 1 / Math.sqrt(shape[shape.length - 1]);
    tensors.set(name, {
      name, dtype: 'F32', shape, file: '<random>',
      read: async () => new Uint8Array(randomArray(n, s).map((v) => (norm ? 1 + 0.1 * v : v * scale * 2)).buffer),
    });
  }
  return { family: t5 as Checkpoint<T5Config>['family'], config, tensors, files: ['<random>'], close: async () => undefined };
}

test('feed-forward slices and row chunks: every buffer within a low limit, the same numbers as without one', async () => {
  const LIMIT = 16 * 1024;
  const small = await createNodeRuntime({ maxBufferBytes: LIMIT });
  const rt = await runtime();
  try {
    for (const ff of ['relu', 'gated-gelu'] as const) {
      // wi is 512 × 32 f32 = 64 KiB: four slices of 128 rows; the [rows, 128] intermediate holds 32 tokens.
      const config = parseT5Config({ d_model: 32, d_ff: 512, d_kv: 16, num_heads: 2, num_layers: 2, vocab_size: 32, feed_forward_proj: ff });
      assert.is(ffSliceRows(config.d_ff, config.d_model, 4, LIMIT), 128);
      // 61 and 20 tokens: two row chunks of the intermediate for the batch.
      const seqs = [Array.from({ length: 61 }, (_, i) => (i * 7) % 31 + 1), Array.from({ length: 20 }, (_, i) => (i * 5) % 29 + 2)];
      const run = (r: Runtime) => encodeIds(r, randomCheckpoint(config), seqs);
      const free = await run(rt);
      const before = small.pool.allocations.length;
      const limited = await run(small);
      const allocs = small.pool.allocations.slice(before);
      const over = allocs.filter((a) => a.bytes > LIMIT);
      assert.equal(over, [], `${ff}: allocations over the ${LIMIT}-byte limit`);
      assert.ok(allocs.some((a) => /DenseReluDense\.(wi|wi_0)\.weight\[rows 384:512\]/.test(a.label)), `${ff}: wi was sliced`);
      assert.ok(allocs.some((a) => /DenseReluDense\.wo\.weight\[columns 0:128\]/.test(a.label)), `${ff}: wo was sliced`);
      for (const [i, e] of limited.entries()) {
        note(`${ff} limited vs free`, expectClose(`${ff} sequence ${i}, limited vs free`, e, free[i], 1e-5));
      }
    }
  } finally {
    small.destroy();
  }
});

test('ffSliceRows: the whole d_ff when it fits, else a multiple of 8 within the limit; a row over the limit is an OutOfMemoryError', () => {
  // ProtT5-XXL in f16 on a 128 MiB binding limit: wi [65536, 1024] is exactly 128 MiB, one slice.
  assert.is(ffSliceRows(65536, 1024, 2, 128 * 2 ** 20), 65536);
  // ... in f32, or with d_model 4096 in f16: slices of half or an eighth of d_ff.
  assert.is(ffSliceRows(65536, 1024, 4, 128 * 2 ** 20), 32768);
  assert.is(ffSliceRows(65536, 4096, 2, 128 * 2 ** 20), 16384);
  assert.is(ffSliceRows(100, 10, 4, 333), 8);
  assert.is(ffSliceRows(100, 10, 4, 200), 5);
  assert.throws(() => ffSliceRows(100, 10, 4, 39), /over this device's buffer limit/);
});

// ---- variant names ---------------------------------------------------------------------------

test('variant names from the shapes, U50 / BFD from the name', () => {
  const xxl = { ...PROT_T5_XL, d_ff: 65536, num_heads: 128 };
  const gated = { feed_forward_proj: 'gated-gelu' as const, relative_attention_num_buckets: 64, vocab_size: 144, d_kv: 64, num_layers: 48 };
  const cases: Array<[T5Config, string, string]> = [
    [PROT_T5_XL, 'Rostlab/prot_t5_xl_uniref50', 'ProtT5-XL-U50'],
    [PROT_T5_XL, 'Rostlab/prot_t5_xl_half_uniref50-enc', 'ProtT5-XL-U50'],
    [PROT_T5_XL, '/models/prot_t5_xl_bfd', 'ProtT5-XL-BFD'],
    [PROT_T5_XL, '/models/mine', 'ProtT5-XL'],
    [xxl, 'Rostlab/prot_t5_xxl_uniref50', 'ProtT5-XXL-U50'],
    [xxl, 'Rostlab/prot_t5_xxl_bfd', 'ProtT5-XXL-BFD'],
    [{ ...PROT_T5_XL, vocab_size: 150 }, 'Rostlab/ProstT5', 'ProstT5'],
    [{ ...PROT_T5_XL, ...gated, d_model: 768, d_ff: 3072, num_heads: 12 }, 'ElnaggarLab/ankh-base', 'Ankh base'],
    [{ ...PROT_T5_XL, ...gated, d_model: 1536, d_ff: 3840, num_heads: 16 }, 'ElnaggarLab/ankh-large', 'Ankh large'],
    [{ ...PROT_T5_XL, ...gated, d_model: 48, d_ff: 96, num_heads: 3 }, 't5-gated', 'unknown T5'],
    [{ ...PROT_T5_XL, num_layers: 3 }, 't5-tiny', 'unknown T5'],
  ];
  for (const [c, name, variant] of cases) assert.is(t5Variant(c, name).name, variant, name);
  assert.match(t5Variant(PROT_T5_XL, 'mine').note ?? '', /U50 and BFD have the same shapes/);
});

test.after(() => console.log(`t5 variants worst relative error: ${worst.toExponential(2)} (${worstAt})`));
test.run();
