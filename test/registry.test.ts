// A family and a head are one folder plus one registry line: a toy family (test/toy/family, its
// own model_type, schema and tokenizer recipe) and a toy head (test/toy/head, its own
// checkpoint and two output kinds) are registered from the test folder through the registries
// alone, and `prott5 embed` (the CLI's main(), in this process) runs them; the HDF5 it writes
// matches a float64 reference computed here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { readHdf5Embeddings } from '../src/cli/hdf5.js';
import { ConfigError, loadProtT5, registerFamily, registerHead, SequenceError, UsageError } from '../src/node.js';
import { DirectoryFiles } from '../weights/node-files.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { toy, toyRef, TOY_VOCAB, type ToyConfig } from './toy/family/index.js';
import type { Family } from '../src/models/family.js';
import { toyHead, TOY_HEAD_FILE } from './toy/head/index.js';
import { runtime } from './gpu.js';
import { expectClose, randomArray } from './helpers.js';

registerFamily(toy);
registerHead(toyHead);

const D = 12, V = TOY_VOCAB.length;
const W = { embed: randomArray(V * D, 1), dense: randomArray(D * D, 2, 0.5), norm: randomArray(D, 3) };
const HEAD = { score: randomArray(2 * D, 4), class: randomArray(3 * D, 5) };
const SEQS = [['p1', 'MKTAYIAKQR'], ['p2', 'acd'], ['p3', 'WYVGHKLMNPQRSTEDCAFW'], ['p4', 'M']] as const;

const root = mkdtempSync(join(tmpdir(), 'prott5-registry-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function folders(): { model: string; head: string; fasta: string } {
  const model = join(root, 'toy-model'), head = join(root, 'toy-head');
  mkdirSync(model, { recursive: true });
  mkdirSync(head, { recursive: true });
  writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'toy', hidden_size: D, vocab_size: V, eps: 1e-6 }));
  writeFileSync(join(model, 'vocab.txt'), TOY_VOCAB.join('\n') + '\n');
  writeFileSync(join(model, 'model.safetensors'), encodeSafetensors([
    { name: 'embed.weight', dtype: 'F32', shape: [V, D], data: W.embed },
    { name: 'layer.dense.weight', dtype: 'F32', shape: [D, D], data: W.dense },
    { name: 'layer.norm.weight', dtype: 'F32', shape: [D], data: W.norm },
    // A pre-training head the family's schema ignores: never read, no error.
    { name: 'head.weight', dtype: 'F32', shape: [1, D], data: new Float32Array(D) },
  ]));
  writeFileSync(join(head, TOY_HEAD_FILE), encodeSafetensors([
    { name: 'score.weight', dtype: 'F32', shape: [2, D], data: HEAD.score },
    { name: 'class.weight', dtype: 'F32', shape: [3, D], data: HEAD.class },
  ]));
  const fasta = join(root, 'in.fa');
  writeFileSync(fasta, SEQS.map(([id, s]) => `>${id} toy protein\n${s}\n`).join(''));
  return { model, head, fasta };
}

/** The reference outputs of one sequence: the toy's recipe is [CLS] residues [SEP] from TOY_VOCAB. */
function reference(seq: string) {
  const ids = ['[CLS]', ...seq.toUpperCase(), '[SEP]'].map((t) => TOY_VOCAB.indexOf(t));
  const hidden = toyRef(ids, W, D, 1e-6); // [L + 2, D]
  const L = seq.length;
  const perResidue = hidden.slice(D, (L + 1) * D);
  const perProtein = new Float64Array(D);
  for (let r = 0; r < L; r++) for (let d = 0; d < D; d++) perProtein[d] += perResidue[r * D + d] / L;
  const dot = (x: ArrayLike<number>, w: Float32Array, n: number) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[d] * w[j * D + d];
    return s;
  });
  const toyScore = new Float64Array(L * 2);
  for (let r = 0; r < L; r++) toyScore.set(dot(perResidue.subarray(r * D, (r + 1) * D), HEAD.score, 2), r * 2);
  return { ids, perResidue, perProtein, toyScore, toyClass: Float64Array.from(dot(perProtein, HEAD.class, 3)) };
}

test('prott5 embed runs a family and a head registered from outside src/ (HDF5 groups from the output-kind registry)', async () => {
  const f = folders();
  const out = join(root, 'out.h5');
  const code = await main(['embed', f.fasta, '--model', f.model, '-o', out, '--per-residue', '--per-protein', '--head', `toy=${f.head}`, '--max-batch', '3', '-q']);
  assert.is(code, 0);
  const got = await readHdf5Embeddings(out);
  assert.equal([...got.keys()].sort(), SEQS.flatMap(([id]) => ['per_residue', 'per_protein', 'toy_score', 'toy_class'].map((g) => `${g}/${id}`)).sort());
  for (const [id, seq] of SEQS) {
    const want = reference(seq);
    const L = seq.length;
    assert.equal(got.get(`per_residue/${id}`)!.shape, [L, D], id);
    assert.equal(got.get(`toy_score/${id}`)!.shape, [L, 2], id);
    assert.equal(got.get(`toy_class/${id}`)!.shape, [3], id);
    // f32 compute over D = 12: a few ulp; 1e-5 relative leaves room and still catches a wrong row.
    expectClose(`${id} per_residue`, got.get(`per_residue/${id}`)!.data, want.perResidue, 1e-5);
    expectClose(`${id} per_protein`, got.get(`per_protein/${id}`)!.data, want.perProtein, 1e-5);
    expectClose(`${id} toy_score`, got.get(`toy_score/${id}`)!.data, want.toyScore, 1e-5);
    expectClose(`${id} toy_class`, got.get(`toy_class/${id}`)!.data, want.toyClass, 1e-5);
    assert.is(got.get(`toy_class/${id}`)!.attrs.original_id, `${id} toy protein`);
  }
});

test('the API runs the same family and head; batched equals alone; residue rows start after [CLS]', async () => {
  const f = folders();
  const model = await loadProtT5(f.model, { runtime: await runtime(), autotune: false });
  try {
    assert.is(model.family.name, 'toy');
    assert.is(model.hiddenSize, D);
    assert.equal(Array.from(model.tokenizer.encode('MK', 'x').ids), reference('MK').ids);
    await model.addHead('toy', new DirectoryFiles(f.head));
    const input = SEQS.map(([id, sequence]) => ({ id, sequence }));
    const batched = await model.embed(input, { outputs: ['toyScore', 'toyClass'], perResidue: true });
    for (const [i, [id, seq]] of SEQS.entries()) {
      const [alone] = await model.embed([{ id, sequence: seq }], { outputs: ['toyScore', 'toyClass'], perResidue: true });
      assert.is(batched[i].id, id);
      assert.is(batched[i].length, seq.length);
      assert.equal(Object.keys(batched[i].outputs).sort(), ['perResidue', 'toyClass', 'toyScore']);
      assert.is(batched[i].perProtein, undefined, 'per-protein not asked for');
      for (const k of ['perResidue', 'toyScore', 'toyClass']) {
        expectClose(`${id} ${k} batched vs alone`, batched[i].outputs[k].data, alone.outputs[k].data, 1e-6);
      }
      expectClose(`${id} toyScore`, batched[i].outputs.toyScore.data, reference(seq).toyScore, 1e-5);
    }
    try {
      await model.embed(['MK'], { outputs: ['noSuchKind'] });
      assert.unreachable('unknown output kind');
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, /noSuchKind/);
    }
    try {
      await model.embed(['MKB']); // B is not in the toy recipe's alphabet
      assert.unreachable('bad letter');
    } catch (e) {
      assert.instance(e, SequenceError);
      assert.match((e as Error).message, /residue 3 is 'B'/);
    }
  } finally {
    model.dispose();
  }
});

test('a head output asked for without its head loaded is a UsageError naming the head', async () => {
  const f = folders();
  const model = await loadProtT5(f.model, { runtime: await runtime(), autotune: false });
  try {
    await model.embed(['MK'], { outputs: ['toyScore'] });
    assert.unreachable('head not loaded');
  } catch (e) {
    assert.instance(e, UsageError);
    assert.match((e as Error).message, /head "toy", which is not loaded/);
  } finally {
    model.dispose();
  }
});

test('an unknown model_type names the families that are registered', async () => {
  const dir = join(root, 'other');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
  try {
    await loadProtT5(new DirectoryFiles(dir), { runtime: await runtime() });
    assert.unreachable('gpt2 accepted');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match((e as Error).message, /model_type is "gpt2", this engine runs t5, (\w+, )*toy$/);
  }
});

test('a tokenizer that pads on the left needs a shift-invariant family (XLNet): otherwise a UsageError', async () => {
  // The toy under its own model_type, its tokenizer saying "left"; the batching pads on the right.
  const leftPadding = (name: string, shiftInvariant: boolean): Family<ToyConfig> => ({
    ...toy, name, modelTypes: [name], shiftInvariant,
    tokenizer: async (files, c) => {
      const t = await toy.tokenizer(files, c);
      return { encode: (s, n, m) => t.encode(s, n, m), modes: t.modes, padId: t.padId, padSide: 'left' };
    },
  });
  const { model } = folders();
  for (const [name, invariant] of [['toy-left', false], ['toy-left-invariant', true]] as const) {
    registerFamily(leftPadding(name, invariant));
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['vocab.txt', 'model.safetensors']) copyFileSync(join(model, f), join(dir, f));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: name, hidden_size: D, vocab_size: V, eps: 1e-6 }));
    const load = loadProtT5(new DirectoryFiles(dir), { runtime: await runtime(), autotune: false });
    if (!invariant) {
      await load.then(
        (m) => (m.dispose(), assert.unreachable('a left-padding family that is not shift-invariant loaded')),
        (e) => {
          assert.instance(e, UsageError);
          assert.match((e as Error).message, /toy-left: left padding is not supported by the batching/);
        },
      );
    } else (await load).dispose();
  }
});

test.run();
