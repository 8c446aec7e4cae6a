// bindEmbed21DL (bindPredict CNN2Layers × 5): binding residues for metal ions, nucleic acids
// and small molecules. Per model: elu(conv5(emb)) [B, L, 128] → conv5 → 3 logits per residue;
// the ensemble is the mean of the five models' sigmoids, per channel. Reads both published
// forms of checkpoint1..5.pt: bio_embeddings' {'state_dict': ...} and bindPredict's GitHub
// files, pickled whole modules, read with exactly the allow-listed globals (weights/pickle.ts).
// Prediction per channel: binding where the ensemble probability is >= 0.5 (the channel's
// letter, bio_embeddings' M / N / S), '-' otherwise.
import { probabilities } from '../../../kernels/softmax.js';
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, type Conv } from '../cnn.js';
import { headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';

const NAME = 'bindembed21dl';
export const BINDEMBED_FILES = [1, 2, 3, 4, 5].map((k) => `checkpoint${k}.pt`);

const CHANNELS = [
  { name: 'metal', letter: 'M', what: 'metal ion' },
  { name: 'nucleic', letter: 'N', what: 'nucleic acid' },
  { name: 'small', letter: 'S', what: 'small molecule' },
];

const MODELS = BINDEMBED_FILES.length;

const predictions: HeadOutput[] = CHANNELS.map((c) => ({
  name: c.name,
  kind: headKind(NAME, c.name, 'residue', 1, `[L, 1] ${c.what} binding probability (mean of 5 models)`),
  labels: [c.name],
  decode: (p, length) => Array.from(p.subarray(0, length), (v) => (v >= 0.5 ? c.letter : '-')).join(''),
  members: Array.from({ length: MODELS }, (_, m) => ({
    ...headKind(NAME, `model${m + 1}.${c.name}.logits`, 'residue', 1, `[L, 1] model ${m + 1}'s ${c.what} binding logit`),
    group: `${NAME}_model${m + 1}_${c.name}_logits`,
    cli: false,
  })),
}));

export const bindembed21dlHead: PredictingHeadSpec = {
  name: NAME,
  outputs: predictions.flatMap((p) => [p.kind, ...p.members!]),
  predictions,
  files: BINDEMBED_FILES,
  description: 'binding residues: metal, nucleic acids, small molecules (bindEmbed21DL, 5 models)',
  published: 'checkpoint1.pt ... checkpoint5.pt: https://github.com/Rostlab/bindPredict/tree/main/trained_models (pickled modules), also http://data.bioembeddings.com/public/embeddings/feature_models/bindembed21/',
  async load(rt, { hiddenSize, files }) {
    const t = new HeadTensors(rt, NAME);
    try {
      const models: Array<{ c0: Conv; out: Conv[] }> = [];
      for (const file of BINDEMBED_FILES) {
        const ck = await HeadCheckpoint.open(NAME, files, file, { modules: true });
        const c0 = loadConv(ck, t, 'conv1.0', { cout: 'F', cin: 'D', k: 'K0', layout: 'conv1d', bias: true });
        ck.expectInput('conv1.0.weight', 'D', hiddenSize);
        const w = ck.take('conv1.3.weight', [CHANNELS.length, 'F', 'K3']), b = ck.take('conv1.3.bias', [CHANNELS.length]);
        const per = w.length / CHANNELS.length;
        // One conv per channel (the weight's rows): each channel's output is its own tensor.
        const out = CHANNELS.map((_, c) => loadConv(ck, t, 'conv1.3', { cout: 1, cin: 'F', k: 'K3', layout: 'conv1d', bias: true }, { w: w.slice(c * per, (c + 1) * per), b: b.slice(c, c + 1), shape: [1, ck.dim('F'), ck.dim('K3')] }));
        models.push({ c0, out });
      }
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const r = { start, inCount: count, outCount: count };
          const [B, L] = hidden.shape;
          const ens = predictions.map((p) => s.empty([B, L, 1], p.kind.key));
          const result = new Map(predictions.map((p, c) => [p.kind.key, ens[c]]));
          for (const [m, { c0, out }] of models.entries()) {
            const f = await applyConv(s, c0, hidden, r, 'bindembed21dl.features', 'elu');
            for (const [c, conv] of out.entries()) {
              const logits = await applyConv(s, conv, f, r, `bindembed21dl.model${m + 1}.${CHANNELS[c].name}.logits`);
              await probabilities(rt, logits, ens[c], { mode: 'sigmoid', accumulate: m > 0, scale: 1 / models.length });
              result.set(predictions[c].members![m].key, logits); // model m+1's logits (bindPredict's text rounds each model)
            }
          }
          return result;
        }),
        dispose: () => t.dispose(),
      };
    } catch (e) {
      t.dispose();
      throw e;
    }
  },
};
