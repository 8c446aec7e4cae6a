// The upstream tools' own text outputs, for `prott5 predict -o DIR` (beside the one FASTA-like
// file per per-residue output and the TSV per per-protein head):
// - bindEmbed21DL: bindPredict's `<id>.bindPredict_out` per protein (RI variant), with its
//   arithmetic: each model's sigmoid rounded to 3 decimals, summed, / 5, rounded (float32).
// - SETH: `-f Cs` (the header line, then the CheZOD scores comma-separated) and, with the
//   sequences (FASTA input), the default CAID table (pos, residue, confidence, disorder).
// - ProstT5 3Di: `output_probabilities.csv` (id,reliability: int(100 × mean max probability)).
// Formats are described in the README's predict section.
import type { Prediction } from '../embed/predict.js';
import { safeDatasetName } from '../embed/hdf5-layout.js';

const f32 = Math.fround;

/** Round half to even (numpy's rint, Python 3's round). */
function rintEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.around(x, 3) on float32: scaled, rounded half to even, scaled back, in float32. */
const around3 = (x: number) => f32(rintEven(f32(x * 1000)) / 1000);

const sigmoid32 = (x: number) => f32(1 / (1 + Math.exp(-x)));

/** bindPredict's ensemble for one channel: per-model sigmoids rounded, summed, / models, rounded. */
export function bindPredictProbabilities(members: ReadonlyArray<{ data: Float32Array }>, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let r = 0; r < length; r++) {
    let s = 0;
    for (const [m, t] of members.entries()) s = m === 0 ? around3(sigmoid32(t.data[r])) : f32(s + around3(sigmoid32(t.data[r])));
    out[r] = around3(f32(s / members.length));
  }
  return out;
}

/** bindPredict's reliability index 0..9 of a probability. */
const ri = (p: number) => rintEven((p < 0.5 ? 0.5 - p : p - 0.5) * 9 / 0.5);

const CHANNELS = ['metal', 'nucleic', 'small'] as const;

/** One protein's `.bindPredict_out` (bindPredict's RI variant). */
export function bindPredictOut(p: Prediction): string {
  const out = p.heads.bindembed21dl;
  const probs = CHANNELS.map((c) => {
    const o = out[c];
    return o.members?.length ? bindPredictProbabilities(o.members, p.length) : o.probs.data;
  });
  const lines = ['Position\tMetal.RI\tMetal.Class\tNuc.RI\tNuc.Class\tSmall.RI\tSmall.Class\tAny.Class'];
  for (let r = 0; r < p.length; r++) {
    const cells = [String(r + 1)];
    let any = false;
    for (const pr of probs) {
      const b = pr[r] >= 0.5;
      any ||= b;
      cells.push(ri(pr[r]).toFixed(3), b ? 'b' : 'nb');
    }
    cells.push(any ? 'b' : 'nb');
    lines.push(cells.join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** The shortest decimal that reads back as this float32 (numpy's repr of a float32). */
export function float32Text(v: number): string {
  for (let digits = 1; digits < 10; digits++) {
    const s = Number(v.toPrecision(digits));
    if (f32(s) === v) return String(s);
  }
  return String(v);
}

/** SETH `-f Cs`: per protein the header line, then its CheZOD scores comma-separated. */
export function sethScores(preds: readonly Prediction[], headerOf: (p: Prediction) => string): string {
  return preds.map((p) => `>${headerOf(p)}\n${Array.from(p.heads.seth.zscore.probs.data.subarray(0, p.length), float32Text).join(',')}\n`).join('');
}

/**
 * SETH's default CAID output: per protein the header line, then per residue its position, the
 * residue, the confidence clip((17 - Z) / 23, 0, 1) with 4 decimals and the disorder (Z < 8).
 */
export function sethCaid(preds: readonly Prediction[], headerOf: (p: Prediction) => string, sequenceOf: (p: Prediction) => string): string {
  return preds.map((p) => {
    const z = p.heads.seth.zscore.probs.data, seq = sequenceOf(p);
    const rows = Array.from({ length: p.length }, (_, r) => {
      const conf = Math.min(1, Math.max(0, (-z[r] + 17) / 23));
      return `${r + 1}\t${seq[r]}\t${conf.toFixed(4)}\t${z[r] < 8 ? 1 : 0}`;
    });
    return [`>${headerOf(p)}`, ...rows].join('\n') + '\n';
  }).join('');
}

/** ProstT5's output_probabilities.csv: `id,reliability`, int(100 × mean over residues of the max state probability). */
export function prostt5Reliability(preds: readonly Prediction[], idOf: (p: Prediction) => string): string {
  return preds.map((p) => {
    const { data } = p.heads['prostt5-3di']['3di'].probs;
    const C = data.length / Math.max(1, p.length);
    let sum = 0;
    for (let r = 0; r < p.length; r++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, data[r * C + c]);
      sum += m;
    }
    return `${idOf(p)},${Math.trunc(100 * (sum / Math.max(1, p.length)))}`;
  }).join('\n') + '\n';
}

/** The upstream files of the heads that were run: relative path → text. */
export function upstreamFiles(preds: readonly Prediction[], heads: ReadonlySet<string>, idOf: (p: Prediction) => string, headerOf: (p: Prediction) => string, sequenceOf?: (p: Prediction) => string): Map<string, string> {
  const files = new Map<string, string>();
  if (heads.has('bindembed21dl')) for (const p of preds) files.set(`bindembed21dl/${safeDatasetName(idOf(p))}.bindPredict_out`, bindPredictOut(p));
  if (heads.has('seth')) {
    files.set('seth_Cs.txt', sethScores(preds, headerOf));
    if (sequenceOf) files.set('seth_caid.txt', sethCaid(preds, headerOf, sequenceOf));
  }
  if (heads.has('prostt5-3di')) files.set('prostt5-3di_output_probabilities.csv', prostt5Reliability(preds, idOf));
  return files;
}
