// The ProtTrans paper's subcellular localization FNN (bio_embeddings SubCellFNN, no batch
// norm): on the mean of the residue rows, relu(Linear D → 32), then Linear 32 → 10
// (localization) and Linear 32 → 2 (membrane: 0 Soluble, 1 Membrane bound). Upstream takes
// the argmax of the logits; the probabilities here are their softmax.
import { meanpool } from '../../../kernels/meanpool.js';
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, classOutputs } from '../cnn.js';
import { argmaxClass, headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';
import { LOCATIONS } from './labels.js';

const NAME = 'subcell';
export const SUBCELL_FILE = 'subcell_checkpoint.pt';
const MEMBRANE = ['Soluble', 'Membrane bound'];

const loc: HeadOutput = {
  name: 'loc', kind: headKind(NAME, 'loc', 'protein', 10, '[10] subcellular localization probabilities'), labels: LOCATIONS, decode: argmaxClass(LOCATIONS),
};
const mem: HeadOutput = {
  name: 'mem', kind: headKind(NAME, 'mem', 'protein', 2, '[2] membrane-bound vs soluble probabilities (0 Soluble, 1 Membrane bound)'), labels: MEMBRANE, decode: argmaxClass(MEMBRANE),
};

export const subcellHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [loc.kind, mem.kind],
  predictions: [loc, mem],
  files: [SUBCELL_FILE],
  description: "subcellular localization (10) and membrane/soluble per protein (the ProtTrans paper's FNN)",
  published: `${SUBCELL_FILE}: http://data.bioembeddings.com/public/embeddings/feature_models/t5/subcell_checkpoint.pt`,
  async load(rt, { hiddenSize, files }) {
    const ck = await HeadCheckpoint.open(NAME, files, SUBCELL_FILE);
    const t = new HeadTensors(rt, NAME);
    try {
      const l0 = loadConv(ck, t, 'layer.0', { cout: 'F', cin: 'D', k: 1, layout: 'linear', bias: true });
      ck.expectInput('layer.0.weight', 'D', hiddenSize);
      const lc = loadConv(ck, t, 'loc_classifier', { cout: 10, cin: 'F', k: 1, layout: 'linear', bias: true });
      const mc = loadConv(ck, t, 'mem_classifier', { cout: 2, cin: 'F', k: 1, layout: 'linear', bias: true });
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const B = rows.B;
          const pooled = s.empty([B, 1, hiddenSize], 'subcell.pooled'); // [B, 1, D]
          await meanpool(rt, hidden, start, count, pooled);
          const zero = s.u32(new Uint32Array(B), 'zero'), one = s.u32(new Uint32Array(B).fill(1), 'one');
          const r = { start: zero, inCount: one, outCount: one };
          const z = await applyConv(s, l0, pooled, r, 'subcell.hidden', 'relu'); // [B, 1, 32]
          const out = new Map();
          for (const [p, conv] of [[loc, lc], [mem, mc]] as const) {
            await classOutputs(s, out, p.kind.key, await applyConv(s, conv, z, r, `${p.kind.key}.logits`)); // [B, 1, C]
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
