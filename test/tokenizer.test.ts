// Tokenizer (ProtT5 vocabulary, clean-up rules, typed errors) and the ProtTrans batch planner
// (hand cases and a seeded property test over many random length lists and limits).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EOS_ID, PAD_ID, tokenize } from '../src/tokenizers/prott5.js';
import { planBatches, PROTTRANS_LIMITS, type BatchLimits } from '../src/embed/batching.js';
import { ProtT5Error, SequenceError } from '../src/errors.js';
import { fixturesDir, rng } from './helpers.js';

const cases: Array<{ index: number; sequence: string; input_ids: number[] }> = JSON.parse(
  readFileSync(join(fixturesDir(), 't5-tiny', 'cases.json'), 'utf8'),
).cases;

// Rostlab's spiece vocabulary, written out independently of the module's letter string.
const VOCAB: Record<string, number> = {
  A: 3, L: 4, G: 5, V: 6, S: 7, R: 8, E: 9, D: 10, T: 11, I: 12, P: 13, K: 14, F: 15, Q: 16,
  N: 17, Y: 18, M: 19, H: 20, W: 21, C: 22, X: 23,
};
const ids = (s: string, name?: string): number[] => [...tokenize(s, name)];

/** Runs fn, asserts a SequenceError whose message holds every fragment; returns it. */
function throwsSeq(fn: () => unknown, ...fragments: string[]): SequenceError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SequenceError)) throw new Error(`expected SequenceError, got ${String(err)}`);
    assert.ok(err instanceof ProtT5Error);
    assert.is(err.code, 'BAD_SEQUENCE');
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return err;
  }
  throw new Error(`expected a SequenceError containing ${JSON.stringify(fragments)}, nothing thrown`);
}

// ---- tokenizer ----------------------------------------------------------------------------------

test('fixture cases: tokenize(sequence) equals the reference input_ids', () => {
  assert.ok(cases.length >= 5, 'cases.json has its cases');
  for (const c of cases) {
    const got = tokenize(c.sequence);
    assert.instance(got, Uint32Array);
    assert.equal([...got], c.input_ids, `case ${c.index}`);
  }
});

test('special ids: <pad> 0, </s> 1', () => {
  assert.is(PAD_ID, 0);
  assert.is(EOS_ID, 1);
});

test('every standard letter maps to its vocabulary id, then </s>', () => {
  for (const [ch, id] of Object.entries(VOCAB)) assert.equal(ids(ch), [id, 1], ch);
  const all = Object.keys(VOCAB).join('');
  assert.equal(ids(all), [...Object.values(VOCAB), 1]);
  assert.is(tokenize(all).length, all.length + 1, 'one token per residue plus </s>');
});

test('lower case equals upper case', () => {
  const all = Object.keys(VOCAB).join('');
  assert.equal(ids(all.toLowerCase()), ids(all));
  assert.equal(ids('mKtAyIaKqR'), ids('MKTAYIAKQR'));
});

test('U Z O B (either case) become X', () => {
  for (const ch of ['U', 'Z', 'O', 'B', 'u', 'z', 'o', 'b']) assert.equal(ids(ch), [VOCAB.X, 1], ch);
  assert.equal(ids('AUZOBxC'), [VOCAB.A, 23, 23, 23, 23, 23, VOCAB.C, 1]);
});

test('whitespace anywhere is dropped', () => {
  const want = ids('MKTAYIAKQR');
  for (const s of [' MKTAYIAKQR', 'MKTAYIAKQR\n', 'MKT AYI\tAKQR', 'MKTAY\r\nIAKQR\r\n', '\n\n M K T A Y I A K Q R \n', 'MKTAY\u00a0IAKQR']) {
    assert.equal(ids(s), want, JSON.stringify(s));
  }
});

test('the last token is always </s> and the only </s>', () => {
  const r = rng(5);
  const letters = 'ACDEFGHIKLMNPQRSTVWYXUZOBacdefghiklmnpqrstvwyxuzob';
  for (let k = 0; k < 200; k++) {
    const n = 1 + Math.floor(r() * 60);
    let s = '';
    for (let i = 0; i < n; i++) s += letters[Math.floor(r() * letters.length)];
    const t = tokenize(s);
    assert.is(t.length, n + 1);
    assert.is(t[n], EOS_ID);
    for (let i = 0; i < n; i++) {
      assert.ok(t[i] >= 3 && t[i] <= 23, `token ${t[i]} at ${i} of ${s}`);
      const up = s[i].toUpperCase();
      assert.is(t[i], VOCAB['UZOB'.includes(up) ? 'X' : up], `${s}[${i}]`);
    }
  }
});

test('a bad letter: names the sequence, the 1-based residue position and the char', () => {
  const e = throwsSeq(() => tokenize('MKTJAY', 'sp|P1|X'), 'sp|P1|X', 'residue 4', "'J'");
  assert.equal(e.context, { record: 'sp|P1|X', position: 4, char: 'J' });
  // The first residue, the last residue.
  assert.is(throwsSeq(() => tokenize('JMK', 'a'), 'a: residue 1').context.position, 1);
  assert.is(throwsSeq(() => tokenize('MKJ', 'a'), 'residue 3').context.position, 3);
  // Whitespace does not count: position is in residues.
  assert.is(throwsSeq(() => tokenize('MK T\nJ', 'w'), 'residue 4', "'J'").context.position, 4);
  // Lower case bad letter is reported (upper-cased) at its position.
  throwsSeq(() => tokenize('mkj', 'lc'), 'lc', 'residue 3');
  // Default name.
  throwsSeq(() => tokenize('A-C'), 'sequence', 'residue 2', "'-'");
});

test('digits, *, NUL and other symbols are errors', () => {
  throwsSeq(() => tokenize('MK1T', 'dig'), 'dig', 'residue 3', "'1'");
  throwsSeq(() => tokenize('0', 'zero'), 'zero', 'residue 1', "'0'");
  const star = throwsSeq(() => tokenize('MKTAY*', 'stop'), 'stop', 'residue 6', "'*'");
  assert.is(star.context.char, '*');
  const nul = throwsSeq(() => tokenize('MK\0T', 'nul'), 'nul', 'residue 3', 'U+0000');
  assert.is(nul.context.char, '\0');
  assert.is(nul.context.position, 3);
  throwsSeq(() => tokenize('MK.', 'dot'), 'residue 3', "'.'");
  throwsSeq(() => tokenize('<s>', 'tag'), 'residue 1', "'<'");
});

test('non-ASCII letters are errors, not case-folded into amino acids', () => {
  // 'ß'.toUpperCase() is 'SS', 'ı' (dotless i) and 'ſ' (long s) upper-case to I and S:
  // none of them is an amino-acid letter.
  throwsSeq(() => tokenize('MKß', 'eszett'), 'eszett', 'residue 3', 'U+00DF');
  throwsSeq(() => tokenize('ıAK', 'dotless'), 'dotless', 'residue 1', 'U+0131');
  throwsSeq(() => tokenize('AKſ', 'longs'), 'residue 3', 'U+017F');
  throwsSeq(() => tokenize('AÄ', 'umlaut'), 'residue 2', 'U+00C4');
  // A character outside the BMP is named by its code point, not half a surrogate pair.
  const e = throwsSeq(() => tokenize('A\u{1F9EC}K', 'dna'), 'dna', 'residue 2', 'U+1F9EC');
  assert.is(e.context.char, '\u{1F9EC}');
});

test('empty sequences are errors naming the sequence', () => {
  const e = throwsSeq(() => tokenize('', 'empty1'), 'empty1', 'empty');
  assert.is(e.context.record, 'empty1');
  throwsSeq(() => tokenize(' \n\t\r\n ', 'blank'), 'blank', 'empty');
  throwsSeq(() => tokenize(''), 'sequence', 'empty');
});

// ---- batching -----------------------------------------------------------------------------------

/** Asserts every rule of the plan; returns nothing. `what` prefixes failures. */
function checkPlan(what: string, lengths: number[], limits: BatchLimits, plan: number[][]): void {
  const at = `${what} lengths=${JSON.stringify(lengths)} limits=${JSON.stringify(limits)} plan=${JSON.stringify(plan)}`;
  // Every index exactly once.
  const seen = new Array<number>(lengths.length).fill(0);
  for (const b of plan) {
    assert.ok(b.length > 0, `${at}: empty batch`);
    for (const i of b) {
      assert.ok(Number.isInteger(i) && i >= 0 && i < lengths.length, `${at}: bad index ${i}`);
      seen[i]++;
    }
  }
  assert.ok(seen.every((n) => n === 1), `${at}: index counts ${JSON.stringify(seen)}`);
  // Longest first, within and across batches.
  const flat = plan.flat();
  for (let k = 1; k < flat.length; k++) assert.ok(lengths[flat[k - 1]] >= lengths[flat[k]], `${at}: not longest first at ${k}`);
  for (const b of plan) {
    const longest = Math.max(...b.map((i) => lengths[i]));
    assert.is(lengths[b[0]], longest, `${at}: batch does not start with its longest`);
    assert.ok(b.length <= limits.maxBatch || b.length === 1, `${at}: batch of ${b.length} > maxBatch`);
    if (b.length > 1) {
      assert.ok(b.length * longest <= limits.maxResidues, `${at}: ${b.length} × ${longest} padded tokens > maxResidues`);
      for (const i of b) assert.ok(lengths[i] <= limits.maxSeqLen, `${at}: ${lengths[i]} > maxSeqLen shares a batch`);
    }
  }
  // Batches are filled: a batch of ordinary sequences closes only when the next would break a limit.
  for (let k = 0; k + 1 < plan.length; k++) {
    const a = plan[k], next = plan[k + 1][0];
    if (lengths[a[0]] > limits.maxSeqLen || lengths[next] > limits.maxSeqLen) continue;
    const fits = a.length + 1 <= limits.maxBatch && (a.length + 1) * lengths[a[0]] <= limits.maxResidues;
    assert.not.ok(fits, `${at}: batch ${k} closed although ${next} fits`);
  }
}

test('planBatches: empty input, one sequence, defaults are ProtTrans', () => {
  assert.equal(planBatches([]), []);
  assert.equal(planBatches([7]), [[0]]);
  assert.equal(PROTTRANS_LIMITS, { maxResidues: 4000, maxSeqLen: 1000, maxBatch: 100 });
});

test('planBatches: hand cases', () => {
  const L = (maxResidues: number, maxSeqLen: number, maxBatch: number): BatchLimits => ({ maxResidues, maxSeqLen, maxBatch });
  // Sorted longest first, ties in input order.
  assert.equal(planBatches([3, 9, 5, 9, 1], L(1000, 100, 10)), [[1, 3, 2, 0, 4]]);
  // maxBatch splits.
  assert.equal(planBatches([1, 2, 3, 4, 5], L(1000, 100, 2)), [[4, 3], [2, 1], [0]]);
  // The residue budget counts padding: 3 × 10 = 30 > 25, so the third one opens a new batch.
  assert.equal(planBatches([10, 1, 1, 1], L(25, 100, 10)), [[0, 1], [2, 3]]);
  assert.equal(planBatches([10, 1, 1], L(30, 100, 10)), [[0, 1, 2]]);
  // Longer than maxSeqLen: alone, even when it would fit the budget.
  assert.equal(planBatches([50, 5, 60, 5], L(10_000, 40, 10)), [[2], [0], [1, 3]]);
  // A single sequence over maxResidues still runs (alone).
  assert.equal(planBatches([500, 3, 2], L(100, 1000, 10)), [[0], [1, 2]]);
  // ProtTrans defaults: 4000 residues of padded 1000-long sequences is 4 per batch.
  const plan = planBatches(new Array(9).fill(1000));
  assert.equal(plan.map((b) => b.length), [4, 4, 1]);
  assert.equal(planBatches([1001, 1000]), [[0], [1]]);
});

test('planBatches: the plan does not depend on the input order beyond ties', () => {
  const lengths = [5, 80, 12, 33, 33, 7, 120, 2];
  const limits: BatchLimits = { maxResidues: 150, maxSeqLen: 100, maxBatch: 3 };
  const plan = planBatches(lengths, limits);
  checkPlan('fixed', lengths, limits, plan);
  const perm = [7, 2, 0, 6, 3, 1, 5, 4];
  const permPlan = planBatches(perm.map((i) => lengths[i]), limits);
  assert.equal(permPlan.map((b) => b.map((j) => lengths[perm[j]])), plan.map((b) => b.map((i) => lengths[i])));
});

test('planBatches: seeded property test over many random lengths and limits', () => {
  const r = rng(20240531);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  let batches = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const n = int(0, trial % 10 === 0 ? 400 : 40);
    const maxLen = [5, 50, 1500, 6000][trial % 4];
    const lengths = Array.from({ length: n }, () => (r() < 0.2 ? int(1, 4) : int(1, maxLen)));
    // Many duplicates in some trials.
    if (trial % 7 === 0) for (let i = 0; i < n; i++) lengths[i] = lengths[i] % 3 === 0 ? 17 : lengths[i];
    const limits: BatchLimits = {
      maxResidues: int(1, 8000),
      maxSeqLen: int(1, 2000),
      maxBatch: int(1, trial % 3 === 0 ? 200 : 8),
    };
    const plan = planBatches(lengths, limits);
    checkPlan(`trial ${trial}`, lengths, limits, plan);
    batches += plan.length;
  }
  assert.ok(batches > 3000, 'the trials made real plans');
});

test('planBatches: does not modify its input', () => {
  const lengths = Object.freeze([4, 1, 9, 9, 2]) as readonly number[];
  const copy = [...lengths];
  planBatches(lengths, { maxResidues: 10, maxSeqLen: 5, maxBatch: 2 });
  assert.equal([...lengths], copy);
});

test.run();
