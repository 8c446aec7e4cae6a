// TMbed (Predictor × 5 + Decoder): transmembrane β strands and α helices, signal peptides and
// the inside/outside topology per residue. Per fold, on the residue rows (rows outside are
// zero, TMbed's mask): x0 = SeqNorm·ReLU(conv1×1(emb)) [B, L, 64]; x1, x2 = SeqNorm·ReLU of
// depthwise conv9 / conv21 of x0; cnn = conv1×1([x0 | x1 | x2]) [B, L, 5] (three accumulated
// convs on the weight's column blocks); logits = the 7-tap Gaussian smoothing of cnn along the
// residues; the ensemble is the mean of the folds' softmaxes. Viterbi decoding of the ensemble
// runs on the CPU after readback (viterbi.ts).
import { probabilities } from '../../../kernels/softmax.js';
import { seqnormRelu } from '../../../kernels/seqnorm.js';
import type { Tensor } from '../../gpu/tensor.js';
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, type Conv } from '../cnn.js';
import { headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';
import { tmbedString } from './viterbi.js';

const NAME = 'tmbed';
export const TMBED_FILES = [0, 1, 2, 3, 4].map((k) => `cv_${k}.pt`);
const CHANNELS = ['B', 'H', 'S', 'i', 'o'];

const topology: HeadOutput = {
  name: 'topology',
  kind: headKind(NAME, 'topology', 'residue', 5, '[L, 5] P(B) P(H) P(S) P(i) P(o): TM strand, TM helix, signal peptide, inside, outside'),
  labels: CHANNELS,
  decode: (p, length) => tmbedString(p, length, 0),
};

interface Block { conv: Conv; weight: Tensor; bias: Tensor; eps: number }
interface Fold { blocks: Block[]; out: Conv[]; smooth: Conv }

function loadFold(ck: HeadCheckpoint, t: HeadTensors, hiddenSize: number): Fold {
  const block = (name: string, conv: Conv): Block => ({
    conv,
    weight: t.f32(ck.take(`model.${name}.norm.weight`, [1, 'C', 1, 1]), [ck.dim('C')], `${name}.norm.weight`),
    bias: t.f32(ck.take(`model.${name}.norm.bias`, [1, 'C', 1, 1]), [ck.dim('C')], `${name}.norm.bias`),
    eps: ck.take(`model.${name}.norm.eps`, [])[0],
  });
  const input = loadConv(ck, t, 'model.input.conv', { cout: 'C', cin: 'D', k: 1, layout: 'conv2d', bias: false });
  ck.expectInput('model.input.conv.weight', 'D', hiddenSize);
  const C = ck.dim('C');
  const blocks = [
    block('input', input),
    block('dwc1', loadConv(ck, t, 'model.dwc1.conv', { cout: 'C', cin: 1, k: 'K1', layout: 'conv2d', bias: false, groups: C })),
    block('dwc2', loadConv(ck, t, 'model.dwc2.conv', { cout: 'C', cin: 1, k: 'K2', layout: 'conv2d', bias: false, groups: C })),
  ];
  const W = ck.take('model.output.weight', [CHANNELS.length, 3 * C, 1, 1]), b = ck.take('model.output.bias', [CHANNELS.length]);
  const out = [0, 1, 2].map((j) => {
    const w = new Float32Array(CHANNELS.length * C);
    for (let c = 0; c < CHANNELS.length; c++) w.set(W.subarray(c * 3 * C + j * C, c * 3 * C + (j + 1) * C), c * C);
    return loadConv(ck, t, 'model.output', { cout: CHANNELS.length, cin: 3 * C, k: 1, layout: 'conv2d', bias: j === 0 }, { w, b, shape: [CHANNELS.length, C, 1] });
  });
  const taps = ck.take('filter_kernel', ['T']);
  const sw = new Float32Array(CHANNELS.length * taps.length);
  for (let c = 0; c < CHANNELS.length; c++) sw.set(taps, c * taps.length);
  const smooth = loadConv(ck, t, 'filter_kernel', { cout: CHANNELS.length, cin: 1, k: 'T', layout: 'conv1d', bias: false, groups: CHANNELS.length }, { w: sw, shape: [CHANNELS.length, 1, taps.length] });
  return { blocks, out, smooth };
}

export const tmbedHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [topology.kind],
  predictions: [topology],
  files: TMBED_FILES,
  description: 'transmembrane segments, signal peptides and topology per residue (TMbed, 5 folds)',
  published: 'cv_0.pt ... cv_4.pt: https://github.com/BernhoferM/TMbed/tree/main/tmbed/models/cnn, also http://data.bioembeddings.com/public/embeddings/feature_models/tmbed/',
  async load(rt, { hiddenSize, files }) {
    const t = new HeadTensors(rt, NAME);
    try {
      const folds: Fold[] = [];
      for (const file of TMBED_FILES) folds.push(loadFold(await HeadCheckpoint.open(NAME, files, file), t, hiddenSize));
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const r = { start, inCount: count, outCount: count };
          const [B, L] = hidden.shape;
          const ens = s.empty([B, L, CHANNELS.length], topology.kind.key);
          const result = new Map([[topology.kind.key, ens]]);
          for (const [k, fold] of folds.entries()) {
            const xs: Tensor[] = [];
            for (const [j, blk] of fold.blocks.entries()) {
              const x = await applyConv(s, blk.conv, j === 0 ? hidden : xs[0], r, `tmbed.x${j}`); // [B, L, 64]
              await seqnormRelu(rt, x, blk.weight, blk.bias, start, count, blk.eps);
              xs.push(x);
            }
            const cnn = s.empty([B, L, CHANNELS.length], `tmbed.fold${k}.cnn`);
            for (const [j, conv] of fold.out.entries()) await applyConv(s, conv, xs[j], r, 'tmbed.cnn', 'none', cnn, j > 0);
            const logits = await applyConv(s, fold.smooth, cnn, r, `tmbed.fold${k}.logits`);
            await probabilities(rt, logits, ens, { accumulate: k > 0, scale: 1 / folds.length });
            result.set(`${NAME}.fold${k}.cnn`, cnn).set(`${NAME}.fold${k}.logits`, logits);
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
