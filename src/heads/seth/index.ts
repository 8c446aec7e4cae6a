// SETH (SETH_1.py CNN): the CheZOD disorder score per residue. tanh(conv5(emb)) [B, T, 28] →
// conv5 [B, T, 1], cropped to the residues. As SETH_1.py feeds ProtT5's whole last hidden state,
// T includes the </s> row when the hidden state has one (a model run); embeddings without it
// (an h5 file of per-residue rows) give SETH's numbers on the residue rows alone.
// Prediction: disorder where Z < 8 ('1'), order otherwise ('0').
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv } from '../cnn.js';
import { headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';

const NAME = 'seth';
export const SETH_FILE = 'CNN.pt';

const zscore: HeadOutput = {
  name: 'zscore',
  kind: headKind(NAME, 'zscore', 'residue', 1, '[L, 1] CheZOD disorder score (< 8: disorder)'),
  labels: ['zscore'],
  decode: (z, length) => Array.from(z.subarray(0, length), (v) => (v < 8 ? '1' : '0')).join(''),
};

export const sethHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [zscore.kind],
  predictions: [zscore],
  files: [SETH_FILE],
  description: 'CheZOD disorder score per residue (SETH)',
  published: `${SETH_FILE}: https://github.com/DagmarIlz/SETH (CNN/CNN.pt), also https://rostlab.org/~deepppi/SETH_CNN.pt`,
  async load(rt, { hiddenSize, files }) {
    const ck = await HeadCheckpoint.open(NAME, files, SETH_FILE);
    const t = new HeadTensors(rt, NAME);
    try {
      const c0 = loadConv(ck, t, 'classifier.0', { cout: 'F', cin: 'D', k: 'K0', layout: 'conv2d', bias: true });
      ck.expectInput('classifier.0.weight', 'D', hiddenSize);
      const c2 = loadConv(ck, t, 'classifier.2', { cout: 1, cin: 'F', k: 'K2', layout: 'conv2d', bias: true });
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          // The residues plus the </s> row when there is one (tokens after the residues).
          const T = s.u32(Array.from(rows.residueCount, (n, b) => Math.min(n + 1, rows.tokens[b] - rows.residueStart[b])), 'seth.rows');
          const f = await applyConv(s, c0, hidden, { start, inCount: T, outCount: T }, 'seth.features', 'tanh');
          const z = await applyConv(s, c2, f, { start, inCount: T, outCount: count }, zscore.kind.key);
          return new Map([[zscore.kind.key, z]]);
        }),
        dispose: () => t.dispose(),
      };
    } catch (e) {
      t.dispose();
      throw e;
    }
  },
};
