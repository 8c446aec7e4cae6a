// Every head against its fixture (test/fixtures/heads/, computed by the upstream module class in
// float64): every case within 1e-5 relative (logits and probabilities), label strings
// identical; each case alone, then all cases as one padded batch (junk in the padding, the
// residues at an offset) giving the same numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { headSpec } from '../src/heads/registry.js';
import { isPredicting, type PredictingHeadSpec } from '../src/heads/prediction.js';
import type { Head } from '../src/heads/head.js';
import { expectClose } from './helpers.js';
import { probabilitiesRef } from '../kernels/softmax.ref.js';
import { tmbedString } from '../src/heads/tmbed/viterbi.js';
import { runtime } from './gpu.js';
import { headFiles, headFixture, runHead, type HeadInput } from './head-fixtures.js';

const TOL = 1e-5;

type Out = Map<string, Float32Array>;
type Case = { index: number; length: number } & Record<string, unknown>;

interface Check {
  /** [what, got, want]: run outputs against fixture tensors (`want(key)` reads `<key>.<case>`). */
  tensors(c: Case, out: Out, want: (key: string) => Float32Array): Array<[string, Float32Array, ArrayLike<number>]>;
  /** [what, got, want]: decoded strings against cases.json. */
  strings(c: Case, out: Out, decode: (output: string) => string): Array<[string, string, unknown]>;
  /** The fixture input key and how many of its rows are residues. */
  input?: (c: Case) => { key: string; residues: number };
  /** Sub-folders holding the checkpoints (each loaded and checked). */
  folders?: string[];
}

const pairs = (c: Case, out: Out, want: (k: string) => Float32Array, m: Record<string, string>): Array<[string, Float32Array, ArrayLike<number>]> =>
  Object.entries(m).map(([fkey, okey]) => [fkey, out.get(okey)!, want(fkey)]);
const fields = (c: Case, decode: (o: string) => string, m: Record<string, string>): Array<[string, string, unknown]> =>
  Object.entries(m).map(([field, o]) => [field, decode(o), c[field]]);
/** Columns [L, 1] each, side by side: [L, n]. */
const columns = (cols: Float32Array[]): Float32Array => {
  const L = cols[0].length, out = new Float32Array(L * cols.length);
  cols.forEach((col, j) => col.forEach((v, r) => (out[r * cols.length + j] = v)));
  return out;
};
const softmaxRows = (x: Float32Array, C: number): Float64Array => probabilitiesRef(x, x.length / C, C);

const CHECKS: Record<string, Check> = {
  secstruct: {
    tensors: (c, o, w) => pairs(c, o, w, { 'dssp3.logits': 'secstruct.dssp3.logits', 'dssp3.probs': 'secstruct.dssp3', 'dssp8.logits': 'secstruct.dssp8.logits', 'dssp8.probs': 'secstruct.dssp8', 'diso.logits': 'secstruct.diso.logits', 'diso.probs': 'secstruct.diso' }),
    strings: (c, _o, d) => fields(c, d, { dssp3: 'dssp3', dssp8: 'dssp8', diso: 'diso' }),
  },
  subcell: {
    tensors: (c, o, w) => pairs(c, o, w, { 'loc.logits': 'subcell.loc.logits', 'mem.logits': 'subcell.mem.logits' }),
    strings: (c, _o, d) => fields(c, d, { localization: 'loc', membrane: 'mem' }),
  },
  la: {
    tensors: (c, o, w) => pairs(c, o, w, { 'loc.logits': 'la.loc.logits', 'mem.logits': 'la.mem.logits' }),
    strings: (c, _o, d) => fields(c, d, { localization: 'loc', membrane: 'mem' }),
  },
  tmbed: {
    tensors: (c, o, w) => [
      ...[0, 1, 2, 3, 4].flatMap((k) => pairs(c, o, w, { [`fold${k}.cnn`]: `tmbed.fold${k}.cnn`, [`fold${k}.logits`]: `tmbed.fold${k}.logits` })),
      ['ensemble.probs', o.get('tmbed.topology')!, w('ensemble.probs')],
    ],
    strings: (c, o) => {
      const e = c.ensemble as Record<string, string>, folds = c.folds as Record<string, string>;
      const p = o.get('tmbed.topology')!;
      return [
        ['format0', tmbedString(p, c.length, 0), e.format0],
        ['format1', tmbedString(p, c.length, 1), e.format1],
        ['format4', tmbedString(p, c.length, 4), e.format4],
        ...[0, 1, 2, 3, 4].map((k): [string, string, unknown] => [`cv_${k}`, tmbedString(softmaxRows(o.get(`tmbed.fold${k}.logits`)!, 5), c.length, 4), folds[`cv_${k}`]]),
      ];
    },
  },
  seth: {
    input: (c) => ({ key: 'hidden', residues: c.length }),
    tensors: (c, o, w) => pairs(c, o, w, { zscore: 'seth.zscore' }),
    strings: (c, _o, d) => fields(c, d, { disorder: 'zscore' }),
  },
  bindembed21dl: {
    folders: ['trained_models', 'bio_embeddings'],
    tensors: (c, o, w) => [
      ['ensemble.probs', columns(['metal', 'nucleic', 'small'].map((n) => o.get(`bindembed21dl.${n}`)!)), w('ensemble.probs')],
      ...[1, 2, 3, 4, 5].map((k): [string, Float32Array, ArrayLike<number>] => [`model${k}.logits`, columns(['metal', 'nucleic', 'small'].map((n) => o.get(`bindembed21dl.model${k}.${n}.logits`)!)), w(`model${k}.logits`)]),
    ],
    strings: (c, _o, d) => {
      const b = c.bio_embeddings_5_models as Record<string, string>;
      return ['metal', 'nucleic', 'small'].map((n): [string, string, unknown] => [n, d(n), b[n]]);
    },
  },
  prott5cons: {
    tensors: (c, o, w) => pairs(c, o, w, { logits: 'prott5cons.conservation.logits', probs: 'prott5cons.conservation' }),
    strings: (c, _o, d) => fields(c, d, { classes: 'conservation' }),
  },
  'prostt5-3di': {
    tensors: (c, o, w) => pairs(c, o, w, { logits: 'prostt5-3di.3di.logits', probs: 'prostt5-3di.3di' }),
    strings: (c, _o, d) => fields(c, d, { '3di': '3di' }),
  },
};

async function loadHead(name: string, dim: number, sub?: string): Promise<{ spec: PredictingHeadSpec; head: Head }> {
  const rt = await runtime();
  const spec = headSpec(name);
  if (!isPredicting(spec)) throw new Error(`${name} is not a predicting head`);
  return { spec, head: await spec.load(rt, { hiddenSize: dim, files: sub ? headFiles(name, sub) : headFiles(name) }) };
}

for (const [name, check] of Object.entries(CHECKS)) {
  for (const folder of check.folders ?? [undefined]) {
    test(`${name}${folder ? ` (${folder})` : ''}: every fixture case alone and batched`, async () => {
      const rt = await runtime();
      const fx = await headFixture(name);
      const cases = fx.cases as Case[];
      const inputOf = (c: Case) => check.input?.(c) ?? { key: 'embedding', residues: c.length };
      const inputs: HeadInput[] = cases.map((c) => ({ rows: fx.get(`${inputOf(c).key}.${c.index}`).data, residues: inputOf(c).residues }));
      const D = fx.get(`${inputOf(cases[0]).key}.0`).shape[1];
      const { spec, head } = await loadHead(name, D, folder);
      try {
        const alone: Out[] = [];
        for (const x of inputs) alone.push((await runHead(rt, head, [x], D, { extra: 1 }))[0]); // a zero row after, as a model's </s> row
        const batched = await runHead(rt, head, inputs, D, { shift: 1, extra: 2, junk: 0.75 });
        let worst = 0;
        cases.forEach((c, i) => {
          const want = (k: string) => fx.get(`${k}.${c.index}`).data;
          for (const [out, what] of [[alone[i], 'alone'], [batched[i], 'batched']] as const) {
            for (const [k, got, w] of check.tensors(c, out, want)) {
              assert.ok(got, `${name} case ${c.index}: an output for ${k}`);
              worst = Math.max(worst, expectClose(`${name} case ${c.index} ${k} ${what}`, got, w, TOL));
            }
            const decode = (o: string) => {
              const p = spec.predictions.find((x) => x.name === o)!;
              return p.decode(out.get(p.kind.key)!, c.length);
            };
            for (const [k, got, w] of check.strings(c, out, decode)) assert.is(got, w, `${name} case ${c.index} ${k} ${what}`);
          }
        });
        console.log(`${name}: worst relative error ${worst.toExponential(2)}`);
      } finally {
        head.dispose();
      }
    });
  }
}

test.run();
