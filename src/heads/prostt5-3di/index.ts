// ProstT5's amino-acid → 3Di CNN (predict_3Di_encoderOnly.py): 20 3Di states per residue.
// relu(conv7(emb)) [B, L, 32] → conv7 [B, L, 20] → softmax. As the script runs a protein alone,
// the CNN sees its residue rows plus one zero row after them (the masked </s>): the first
// conv's output on that row (its bias) reaches the last residues. The zero row is made here
// (rows after the residues are read as zeros), so the numbers do not depend on what the
// hidden state holds there, and a batch gives those of each protein alone.
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, classOutputs } from '../cnn.js';
import { argmaxLetters, headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';

const NAME = 'prostt5-3di';
export const PROSTT5_3DI_FILE = 'model.pt';
/** 3Di states in index order, upper case as the script writes them. */
const STATES = 'ACDEFGHIKLMNPQRSTVWY'.split('');

const states: HeadOutput = {
  name: '3di',
  kind: headKind(NAME, '3di', 'residue', 20, '[L, 20] 3Di state probabilities (Foldseek alphabet)'),
  labels: STATES,
  decode: argmaxLetters(STATES),
};

export const prostt53diHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [states.kind],
  predictions: [states],
  files: [PROSTT5_3DI_FILE],
  description: "3Di structure states per residue from ProstT5's encoder (ProstT5 CNN)",
  published: `${PROSTT5_3DI_FILE}: https://github.com/mheinzinger/ProstT5/raw/main/cnn_chkpnt/model.pt`,
  async load(rt, { hiddenSize, files }) {
    const ck = await HeadCheckpoint.open(NAME, files, PROSTT5_3DI_FILE);
    const t = new HeadTensors(rt, NAME);
    try {
      const c0 = loadConv(ck, t, 'classifier.0', { cout: 'F', cin: 'D', k: 'K0', layout: 'conv2d', bias: true });
      ck.expectInput('classifier.0.weight', 'D', hiddenSize);
      const c3 = loadConv(ck, t, 'classifier.3', { cout: STATES.length, cin: 'F', k: 'K3', layout: 'conv2d', bias: true });
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          // One row past the residues where the batch has it (a model's </s> row always is).
          const plusOne = s.u32(Array.from(rows.residueCount, (n, b) => Math.min(n + 1, rows.L - rows.residueStart[b])), 'prostt5_3di.rows');
          const f = await applyConv(s, c0, hidden, { start, inCount: count, outCount: plusOne }, 'prostt5-3di.features', 'relu');
          return classOutputs(s, new Map(), states.kind.key, await applyConv(s, c3, f, { start, inCount: plusOne, outCount: count }, 'prostt5-3di.logits'));
        }),
        dispose: () => t.dispose(),
      };
    } catch (e) {
      t.dispose();
      throw e;
    }
  },
};
