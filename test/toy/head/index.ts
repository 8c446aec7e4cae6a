// A toy prediction head, registered from the test folder through the head registry alone. It
// reads its weights from toy_head.safetensors in the folder it is given and runs on the GPU on
// the hidden state [B, L, D] before anything is read back:
//   toyScore [L, 2] per residue: hidden · scoreᵀ
//   toyClass [3] per protein:   mean(hidden over the residue rows) · classᵀ
import { matmul } from '../../../kernels/matmul.js';
import { meanpool } from '../../../kernels/meanpool.js';
import { WeightsError } from '../../../src/errors.js';
import type { Tensor } from '../../../src/gpu/tensor.js';
import type { HeadSpec, OutputKind } from '../../../src/heads/head.js';
import { readSafetensors } from '../../../weights/safetensors.js';

export const TOY_HEAD_FILE = 'toy_head.safetensors';

export const TOY_SCORE: OutputKind = {
  key: 'toyScore', group: 'toy_score', per: 'residue', width: () => 2, dtype: 'f32', source: 'toy', cli: true, description: 'two scores per residue',
};
export const TOY_CLASS: OutputKind = {
  key: 'toyClass', group: 'toy_class', per: 'protein', width: () => 3, dtype: 'f32', source: 'toy', cli: true, description: 'three class scores per protein',
};

export const toyHead: HeadSpec = {
  name: 'toy',
  outputs: [TOY_SCORE, TOY_CLASS],
  description: 'a toy head for the registry test',
  async load(rt, { hiddenSize, files }) {
    const src = await files?.open(TOY_HEAD_FILE);
    if (!src) throw new WeightsError(`the toy head needs ${TOY_HEAD_FILE}`);
    const loaded: Tensor[] = [];
    try {
      const st = await readSafetensors(src);
      const get = async (name: string, rows: number): Promise<Tensor> => {
        const t = st.tensors.find((x) => x.name === name);
        if (!t || t.dtype !== 'F32' || t.shape.join() !== `${rows},${hiddenSize}`) throw new WeightsError(`${src.name}: "${name}" must be F32 [${rows}, ${hiddenSize}]`);
        const w = rt.upload(await t.read(), t.shape, 'f32', `toy.${name}`);
        loaded.push(w);
        return w;
      };
      const score = await get('score.weight', 2), cls = await get('class.weight', 3);
      return {
        name: 'toy',
        async run(hidden, rows) {
          const { B, L } = rows;
          const scores = rt.empty([B, L, 2], 'f32', 'toy_score'); // [B, L, 2]
          const pooled = rt.empty([B, hiddenSize], 'f32', 'toy_pooled'); // [B, D]
          const classes = rt.empty([B, 3], 'f32', 'toy_class'); // [B, 3]
          const starts = rt.upload(rows.residueStart, [B], 'u32', 'toy_starts');
          const counts = rt.upload(rows.residueCount, [B], 'u32', 'toy_counts');
          try {
            await matmul(rt, { x: hidden, w: score, y: scores });
            await meanpool(rt, hidden, starts, counts, pooled);
            await matmul(rt, { x: pooled, w: cls, y: classes });
          } finally {
            for (const t of [pooled, starts, counts]) t.release();
          }
          return new Map([[TOY_SCORE.key, scores], [TOY_CLASS.key, classes]]);
        },
        dispose() {
          for (const t of loaded) t.release();
        },
      };
    } catch (e) {
      for (const t of loaded) t.release();
      throw e;
    } finally {
      await src.close?.();
    }
  },
};
