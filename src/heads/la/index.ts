// Light attention (bio_embeddings LightAttention), two models: localization (10) and
// membrane (2: 0 Membrane bound, 1 Soluble — the reverse of subcell's order). On the residue
// rows: features = conv9(emb), attention = conv9(emb) [B, L, E]; o = [Σ softmax_L(attention) ·
// features | max_L features] [B, 2E] (masked to each protein's rows); relu(Linear 2E → 32) →
// BatchNorm (eval) → Linear 32 → C, the batch norm folded into the last Linear at load.
// Upstream takes the argmax of the logits; the probabilities here are their softmax.
import { lengthpool } from '../../../kernels/lengthpool.js';
import { HeadCheckpoint, HeadTensors } from '../checkpoint.js';
import { applyConv, loadConv, type Conv, classOutputs } from '../cnn.js';
import { argmaxClass, headKind, residueRows, scoped, type HeadOutput, type PredictingHeadSpec } from '../prediction.js';
import { LOCATIONS } from '../subcell/labels.js';

const NAME = 'la';
export const LA_FILES = { loc: 'la_prott5_subcellular_localization.pt', mem: 'la_prott5_subcellular_solubility.pt' } as const;
const MEMBRANE = ['Membrane bound', 'Soluble'];
const BN_EPS = 1e-5;

const loc: HeadOutput = {
  name: 'loc', kind: headKind(NAME, 'loc', 'protein', 10, '[10] subcellular localization probabilities (light attention)'), labels: LOCATIONS, decode: argmaxClass(LOCATIONS),
};
const mem: HeadOutput = {
  name: 'mem', kind: headKind(NAME, 'mem', 'protein', 2, '[2] membrane-bound vs soluble probabilities (0 Membrane bound, 1 Soluble)'), labels: MEMBRANE, decode: argmaxClass(MEMBRANE),
};

interface LaModel { feat: Conv; att: Conv; l0: Conv; out: Conv; E: number }

async function loadModel(ck: HeadCheckpoint, t: HeadTensors, C: number, hiddenSize: number): Promise<LaModel> {
  const feat = loadConv(ck, t, 'feature_convolution', { cout: 'E', cin: 'E', k: 'K', layout: 'conv1d', bias: true });
  ck.expectInput('feature_convolution.weight', 'E', hiddenSize);
  const att = loadConv(ck, t, 'attention_convolution', { cout: 'E', cin: 'E', k: 'K', layout: 'conv1d', bias: true });
  const E = ck.dim('E');
  ck.take('linear.0.weight', ['H', 2 * E]);
  const l0 = loadConv(ck, t, 'linear.0', { cout: 'H', cin: 2 * E, k: 1, layout: 'linear', bias: true });
  // BatchNorm1d in eval: z' = z·s + u, s = γ / sqrt(var + eps), u = β − mean·s; folded into
  // the output Linear: W' = W·diag(s), b' = b + W·u (in float64, then rounded once).
  const g = ck.take('linear.3.weight', ['H']), beta = ck.take('linear.3.bias', ['H']);
  const mean = ck.take('linear.3.running_mean', ['H']), vr = ck.take('linear.3.running_var', ['H']);
  const W = ck.take('output.weight', [C, 'H']), b = ck.take('output.bias', [C]);
  const H = ck.dim('H');
  const w2 = new Float32Array(C * H), b2 = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let acc = b[c];
    for (let j = 0; j < H; j++) {
      const sc = g[j] / Math.sqrt(vr[j] + BN_EPS);
      w2[c * H + j] = W[c * H + j] * sc;
      acc += W[c * H + j] * (beta[j] - mean[j] * sc);
    }
    b2[c] = acc;
  }
  const out = loadConv(ck, t, 'output', { cout: C, cin: 'H', k: 1, layout: 'linear', bias: true }, { w: w2, b: b2, shape: [C, H, 1] });
  return { feat, att, l0, out, E };
}

export const laHead: PredictingHeadSpec = {
  name: NAME,
  outputs: [loc.kind, mem.kind],
  predictions: [loc, mem],
  files: Object.values(LA_FILES),
  description: 'subcellular localization (10) and membrane/soluble per protein (light attention)',
  published: `${LA_FILES.loc}, ${LA_FILES.mem}: http://data.bioembeddings.com/public/embeddings/feature_models/light_attention/`,
  async load(rt, { hiddenSize, files }) {
    const t = new HeadTensors(rt, NAME);
    try {
      const models: Array<[HeadOutput, LaModel]> = [];
      for (const p of [loc, mem]) {
        const ck = await HeadCheckpoint.open(NAME, files, LA_FILES[p.name as 'loc' | 'mem']);
        models.push([p, await loadModel(ck, t, p.labels.length, hiddenSize)]);
      }
      return {
        name: NAME,
        run: (hidden, rows) => scoped(rt, async (s) => {
          const { start, count } = residueRows(s, rows);
          const r = { start, inCount: count, outCount: count };
          const B = rows.B;
          const zero = s.u32(new Uint32Array(B), 'zero'), one = s.u32(new Uint32Array(B).fill(1), 'one');
          const r1 = { start: zero, inCount: one, outCount: one };
          const out = new Map();
          for (const [p, m] of models) {
            const f = await applyConv(s, m.feat, hidden, r, 'la.features'); // [B, L, E]
            const a = await applyConv(s, m.att, hidden, r, 'la.attention'); // [B, L, E]
            const o = s.empty([B, 1, 2 * m.E], 'la.pooled'); // [B, 1, 2E]
            await lengthpool(rt, f, a, start, count, o);
            const z = await applyConv(s, m.l0, o, r1, 'la.hidden', 'relu'); // [B, 1, 32]
            await classOutputs(s, out, p.kind.key, await applyConv(s, m.out, z, r1, `${p.kind.key}.logits`)); // [B, 1, C]
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
