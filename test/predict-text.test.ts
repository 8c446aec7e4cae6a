// The upstream text formats of `prott5 predict -o DIR` (src/cli/predict-text.ts), on the head
// fixtures' numbers (no GPU): bindPredict's .bindPredict_out equals the text bindPredict itself
// wrote for every fixture case (cases.json bindPredict_out_RI; the 257-residue case tells its
// per-model rounding from a plain mean); SETH's Cs and CAID lines and ProstT5's reliability
// follow their definitions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindPredictOut, bindPredictProbabilities, float32Text, prostt5Reliability, sethCaid, sethScores } from '../src/cli/predict-text.js';
import type { OutputPrediction, Prediction } from '../src/embed/predict.js';
import { headFixture } from './head-fixtures.js';

const cols = (x: Float32Array, C: number, c: number) => Float32Array.from({ length: x.length / C }, (_, r) => x[r * C + c]);

function output(name: string, data: Float32Array, shape: number[], members?: Float32Array[]): OutputPrediction {
  return { output: name, per: 'residue', labels: [name], probs: { data, shape }, prediction: '', ...(members ? { members: members.map((m) => ({ data: m, shape: [m.length, 1] })) } : {}) };
}

test('bindPredict_out: every fixture case equals the text bindPredict wrote', async () => {
  const fx = await headFixture('bindembed21dl');
  let differs = false;
  for (const c of fx.cases) {
    const i = c.index, L = c.length;
    const ens = fx.get(`ensemble.probs.${i}`).data;
    const logits = [1, 2, 3, 4, 5].map((k) => fx.get(`model${k}.logits.${i}`).data);
    const heads: Prediction['heads'] = { bindembed21dl: {} };
    ['metal', 'nucleic', 'small'].forEach((n, ch) => {
      heads.bindembed21dl[n] = output(n, cols(ens, 3, ch), [L, 1], logits.map((l) => cols(l, 3, ch)));
    });
    const p: Prediction = { index: i, id: `case${i}`, length: L, heads };
    assert.is(bindPredictOut(p), c.bindPredict_out_RI as string, `case ${i}`);
    // bindPredict's rounded ensemble (float64 reference) to its 3 decimals.
    const bp = fx.get(`ensemble.bindpredict.${i}`).data;
    ['metal', 'nucleic', 'small'].forEach((n, ch) => {
      const got = bindPredictProbabilities(heads.bindembed21dl[n].members!, L);
      const want = cols(bp, 3, ch);
      for (let r = 0; r < L; r++) assert.ok(Math.abs(got[r] - want[r]) < 1e-6, `case ${i} ${n} row ${r}: ${got[r]} vs ${want[r]}`);
    });
    // Without the members, the plain mean is used: it gives other text on some case.
    const plain: Prediction = { ...p, heads: { bindembed21dl: Object.fromEntries(Object.entries(heads.bindembed21dl).map(([k, o]) => [k, { ...o, members: undefined }])) } };
    if (bindPredictOut(plain) !== c.bindPredict_out_RI) differs = true;
  }
  assert.ok(differs, 'the per-model rounding matters on some fixture case (else this test cannot tell it)');
});

test('SETH: Cs scores (header line, comma-separated float32) and the CAID table', async () => {
  const fx = await headFixture('seth');
  const c = fx.cases[1];
  const z = fx.get(`zscore_residues_only.${c.index}`).data;
  const p: Prediction = { index: 0, id: 'p1', length: c.length, heads: { seth: { zscore: output('zscore', z, [c.length, 1]) } } };
  const [head, line, end] = sethScores([p], () => 'p1 some protein').split('\n');
  assert.is(head, '>p1 some protein');
  assert.is(end, '');
  const back = line.split(',').map(Number);
  assert.is(back.length, c.length);
  back.forEach((v, r) => assert.is(Math.fround(v), z[r], `score ${r}`));
  assert.is(float32Text(Math.fround(0.1)), '0.1');
  assert.is(float32Text(Math.fround(-12.345678)), '-12.345678');
  const seq = 'ACDEFGHIKLMNPQRSTVWY'.repeat(20).slice(0, c.length);
  const rows = sethCaid([p], () => 'p1 some protein', () => seq).trim().split('\n');
  assert.is(rows[0], '>p1 some protein');
  assert.is(rows.length, 1 + c.length);
  rows.slice(1).forEach((row, r) => {
    const [pos, aa, conf, diso] = row.split('\t');
    assert.is(pos, String(r + 1));
    assert.is(aa, seq[r]);
    assert.is(conf, Math.min(1, Math.max(0, (17 - z[r]) / 23)).toFixed(4));
    assert.is(diso, z[r] < 8 ? '1' : '0');
  });
});

test('ProstT5: output_probabilities.csv reliability = int(100 × mean max probability)', async () => {
  const fx = await headFixture('prostt5-3di');
  const preds: Prediction[] = fx.cases.slice(0, 3).map((c, j) => {
    const probs = fx.get(`probs.${c.index}`).data;
    return { index: j, id: `c${c.index}`, length: c.length, heads: { 'prostt5-3di': { '3di': { ...output('3di', probs, [c.length, 20]), per: 'residue' } } } };
  });
  const lines = prostt5Reliability(preds, (p) => p.id!).trim().split('\n');
  assert.is(lines.length, 3);
  lines.forEach((line, j) => {
    const { data } = preds[j].heads['prostt5-3di']['3di'].probs;
    const L = preds[j].length;
    let sum = 0;
    for (let r = 0; r < L; r++) sum += Math.max(...data.subarray(r * 20, r * 20 + 20));
    assert.is(line, `${preds[j].id},${Math.floor(100 * sum / L)}`);
    const rel = Number(line.split(',')[1]);
    assert.ok(rel >= 5 && rel <= 100, line);
  });
});

test.run();
