// XLNet's tensors as transformers names them (XLNetLMHeadModel: transformer.*, lm_loss.*): the one
// list of names and shapes, read by the loader, `prott5 convert` and the benches. The attention's
// q, k, v, o, r are Parameters [d_model, n_head, d_head], not Linear layers.
import type { TensorNames } from '../family.js';
import type { XLNetConfig } from './config.js';

export const XLNET_WORD_EMBEDDING = 'transformer.word_embedding.weight';

/** Names of layer i's tensors (the norms and linear layers without .weight / .bias). */
export function xlnetLayerNames(i: number) {
  const a = `transformer.layer.${i}.rel_attn.`, f = `transformer.layer.${i}.ff.`;
  return {
    q: `${a}q`, k: `${a}k`, v: `${a}v`, o: `${a}o`, r: `${a}r`,
    rwBias: `${a}r_w_bias`, rrBias: `${a}r_r_bias`,
    attnNorm: `${a}layer_norm`,
    layer1: `${f}layer_1`, layer2: `${f}layer_2`, ffNorm: `${f}layer_norm`,
  };
}

export const XLNET_NAMES: TensorNames = {
  // The LM head (lm_loss.bias; its weight is the tied word embedding), the permutation-LM mask
  // embedding, and the segment terms: ProtTrans and bio_embeddings pass no token_type_ids, so
  // r_s_bias and seg_embed never enter.
  ignore: /^(lm_loss\.|transformer\.mask_emb$)|\.rel_attn\.(r_s_bias|seg_embed)$/,
  aliases: {},
  keep: /^transformer\.(word_embedding|layer)\./,
};

export function xlnetShapes(c: XLNetConfig): Map<string, number[]> {
  const D = c.d_model, H = c.n_head, DK = c.d_head, I = c.d_inner;
  const m = new Map<string, number[]>();
  const vec = (name: string, n: number) => {
    m.set(`${name}.weight`, [n]);
    m.set(`${name}.bias`, [n]);
  };
  m.set(XLNET_WORD_EMBEDDING, [c.vocab_size, D]);
  for (let i = 0; i < c.n_layer; i++) {
    const n = xlnetLayerNames(i);
    for (const w of [n.q, n.k, n.v, n.o, n.r]) m.set(w, [D, H, DK]);
    m.set(n.rwBias, [H, DK]);
    m.set(n.rrBias, [H, DK]);
    vec(n.attnNorm, D);
    m.set(`${n.layer1}.weight`, [I, D]);
    m.set(`${n.layer1}.bias`, [I]);
    m.set(`${n.layer2}.weight`, [D, I]);
    m.set(`${n.layer2}.bias`, [D]);
    vec(n.ffNorm, D);
  }
  return m;
}
