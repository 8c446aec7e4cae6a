// ProtT5-sec (bio_embeddings SecStructCNN): DSSP3, DSSP8 and disorder per residue.
//   features = relu(conv7(emb))  [B, L, 32];  each classifier conv7(features) [B, L, C]
//   probabilities = softmax over the classes; the prediction is the argmax's letter.
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, classOutputs } from '../cnn.js';
import { argmaxLetters, headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';

const NAME = 'secstruct';
export const SECSTRUCT_FILE = 'secstruct_checkpoint.pt';

const CLASSES = { dssp3: ['H', 'E', 'C'], dssp8: ['G', 'H', 'I', 'B', 'E', 'S', 'T', 'C'], diso: ['-', 'X'] } as const;
const WHAT = { dssp3: 'DSSP3 secondary structure (H helix, E strand, C other)', dssp8: 'DSSP8 secondary structure', diso: 'disorder (- order, X disorder)' };

const predictions: HeadOutput[] = (Object.keys(CLASSES) as Array<keyof typeof CLASSES>).map((name) => ({
  name,
  kind: headKind(NAME, name, 'residue', CLASSES[name].length, `[L, ${CLASSES[name].length}] ${WHAT[name]} probabilities`),
  labels: CLASSES[name],
  decode: argmaxLetters(CLASSES[name]),
}));

export const secstructHead: PredictingHeadSpec = {
  name: NAME,
  outputs: predictions.map((p) => p.kind),
  predictions,
  files: [SECSTRUCT_FILE],
  description: 'secondary structure (DSSP3, DSSP8) and disorder per residue (ProtT5-sec)',
  published: `${SECSTRUCT_FILE}: http://data.bioembeddings.com/public/embeddings/feature_models/t5/secstruct_checkpoint.pt`,
  async load(rt, { hiddenSize, files }) {
    const ck = await HeadCheckpoint.open(NAME, files, SECSTRUCT_FILE);
    const t = new HeadTensors(rt, NAME);
    try {
      const feat = loadConv(ck, t, 'elmo_feature_extractor.0', { cout: 'F', cin: 'D', k: 'K', layout: 'conv2d', bias: true });
      ck.expectInput('elmo_feature_extractor.0.weight', 'D', hiddenSize);
      const heads = predictions.map((p) => ({ p, conv: loadConv(ck, t, `${p.name}_classifier.0`, { cout: p.labels.length, cin: 'F', k: `K_${p.name}`, layout: 'conv2d', bias: true }) }));
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const r = { start, inCount: count, outCount: count };
          const f = await applyConv(s, feat, hidden, r, 'secstruct.features', 'relu'); // [B, L, 32]
          const out = new Map();
          for (const { p, conv } of heads) {
            await classOutputs(s, out, p.kind.key, await applyConv(s, conv, f, r, `${p.kind.key}.logits`)); // [B, L, C]
          }
          return out;
        }),
        dispose: () => t.dispose(),
      };
    } catch (e) {
      t.dispose();
      throw e;
    }
  },
};
