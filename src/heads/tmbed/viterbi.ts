// TMbed's Viterbi decoder (tmbed/viterbi.py Decoder), on the CPU after readback: a DP over 27
// tags × L residues, tiny next to the CNN. Emissions are the ensemble probabilities themselves
// (added, not log-probabilities), the 5 channels B H S i o repeated into the tags
// B1a..B5a B1b..B5b H1a..H5a H1b..H5b S1..S5 i o; allowed transitions score 0, others −100
// (segments ≥ 5 residues, a signal peptide only at the N-terminus, orientation alternating).
const TAGS = 27;
const FORBIDDEN = -100;
/** The channel each tag emits. */
const EMIT = [...Array(10).fill(0), ...Array(10).fill(1), ...Array(5).fill(2), 3, 4];
/** The 7 decoded classes: 0 B (beta in→out), 1 b (out→in), 2 H (helix in→out), 3 h, 4 S, 5 i, 6 o. */
const CLASS_OF = [...Array(5).fill(0), ...Array(5).fill(1), ...Array(5).fill(2), ...Array(5).fill(3), ...Array(5).fill(4), 5, 6];
const I = 25, O = 26;
/** First tag of each 5-tag run: B?a, B?b, H?a, H?b, S. */
const RUNS = [0, 5, 10, 15, 20];

const transitions = (() => {
  const t = new Float64Array(TAGS * TAGS).fill(FORBIDDEN); // [from, to]
  const allow = (a: number, b: number) => (t[a * TAGS + b] = 0);
  for (const r of RUNS) {
    for (let k = 0; k < 4; k++) allow(r + k, r + k + 1);
    allow(r + 4, r + 4);
  }
  allow(0 + 4, O); allow(10 + 4, O); // B5a, H5a → o
  allow(5 + 4, I); allow(15 + 4, I); // B5b, H5b → i
  allow(20 + 4, I); allow(20 + 4, O); // S5 → i | o
  for (const to of [0, 10, I, O]) allow(I, to); // i → B1a | H1a | i | o
  for (const to of [5, 15, I, O]) allow(O, to); // o → B1b | H1b | i | o
  return t;
})();
const START = (() => {
  const s = new Float64Array(TAGS).fill(FORBIDDEN);
  for (const k of [0, 5, 10, 15, 20, I, O]) s[k] = 0;
  return s;
})();
const END = (() => {
  const s = new Float64Array(TAGS).fill(FORBIDDEN);
  for (const k of [4, 9, 14, 19, 24, I, O]) s[k] = 0;
  return s;
})();

/** The decoded class (0..6) per residue from probabilities [L, 5]. */
export function viterbi(probs: ArrayLike<number>, L: number): Uint8Array {
  const out = new Uint8Array(L);
  if (L === 0) return out;
  // Scores as float32, as the upstream decoder keeps them.
  const f = Math.fround;
  let score = new Float64Array(TAGS);
  for (let k = 0; k < TAGS; k++) score[k] = f(START[k] + probs[EMIT[k]]);
  const back = new Uint8Array(L * TAGS);
  for (let r = 1; r < L; r++) {
    const next = new Float64Array(TAGS);
    for (let to = 0; to < TAGS; to++) {
      const e = probs[r * 5 + EMIT[to]];
      let best = -Infinity, arg = 0;
      for (let from = 0; from < TAGS; from++) {
        const v = f(f(transitions[from * TAGS + to] + score[from]) + e);
        if (v > best) { best = v; arg = from; }
      }
      next[to] = best;
      back[r * TAGS + to] = arg;
    }
    score = next;
  }
  let tag = 0, best = -Infinity;
  for (let k = 0; k < TAGS; k++) {
    const v = f(score[k] + END[k]);
    if (v > best) { best = v; tag = k; }
  }
  for (let r = L - 1; r >= 0; r--) {
    out[r] = CLASS_OF[tag];
    tag = back[r * TAGS + tag];
  }
  return out;
}

/** `tmbed predict --out-format` letters for the 7 classes: 0 (default), 1 and 4. */
export const TMBED_FORMATS = { 0: 'BbHhS..', 1: 'BBHHSio', 4: 'BbHhSio' } as const;

export function tmbedString(probs: ArrayLike<number>, L: number, format: keyof typeof TMBED_FORMATS = 0): string {
  const letters = TMBED_FORMATS[format];
  return Array.from(viterbi(probs, L), (c) => letters[c]).join('');
}
