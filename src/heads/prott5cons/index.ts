// ProtT5cons (VESPA ConsCNN): conservation per residue in 9 classes (0 highly variable ...
// 8 highly conserved). relu(conv7(emb)) [B, L, 32] → conv7 [B, L, 9] → softmax over classes.
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, classOutputs } from '../cnn.js';
import { argmaxLetters, headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';

const NAME = 'prott5cons';
export const PROTT5CONS_FILE = 'ProtT5cons_checkpoint.pt';
const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8'];

const conservation: HeadOutput = {
  name: 'conservation',
  kind: headKind(NAME, 'conservation', 'residue', 9, '[L, 9] conservation class probabilities (0 variable ... 8 conserved)'),
  labels: CLASSES,
  decode: argmaxLetters(CLASSES),
};

export const prott5consHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [conservation.kind],
  predictions: [conservation],
  files: [PROTT5CONS_FILE],
  description: 'conservation per residue, 9 classes (VESPA ProtT5cons)',
  published: `${PROTT5CONS_FILE}: https://github.com/Rostlab/VESPA (models/), also http://data.bioembeddings.com/public/embeddings/feature_models/prott5cons/checkpoint.pt`,
  async load(rt, { hiddenSize, files }) {
    const ck = await HeadCheckpoint.open(NAME, files, PROTT5CONS_FILE);
    const t = new HeadTensors(rt, NAME);
    try {
      const c0 = loadConv(ck, t, 'classifier.0', { cout: 'F', cin: 'D', k: 'K0', layout: 'conv2d', bias: true });
      ck.expectInput('classifier.0.weight', 'D', hiddenSize);
      const c3 = loadConv(ck, t, 'classifier.3', { cout: CLASSES.length, cin: 'F', k: 'K3', layout: 'conv2d', bias: true });
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const r = { start, inCount: count, outCount: count };
          const f = await applyConv(s, c0, hidden, r, 'prott5cons.features', 'relu');
          return classOutputs(s, new Map(), conservation.kind.key, await applyConv(s, c3, f, r, 'prott5cons.logits'));
        }),
        dispose: () => t.dispose(),
      };
    } catch (e) {
      t.dispose();
      throw e;
    }
  },
};
