// ESM-2's tensors as transformers names them (EsmForMaskedLM: esm.*): the one list of names and
// shapes, read by the loader, `prott5 convert` and the benches.
import type { TensorNames } from '../family.js';
import type { EsmConfig } from './config.js';

export const ESM_WORD_EMBEDDINGS = 'esm.embeddings.word_embeddings.weight';
export const ESM_FINAL_NORM = 'esm.encoder.emb_layer_norm_after';

/** Names (without .weight / .bias) of layer i's linear layers and LayerNorms. */
export function esmLayerNames(i: number) {
  const p = `esm.encoder.layer.${i}.`;
  return {
    attnNorm: `${p}attention.LayerNorm`,
    query: `${p}attention.self.query`,
    key: `${p}attention.self.key`,
    value: `${p}attention.self.value`,
    attnOut: `${p}attention.output.dense`,
    ffNorm: `${p}LayerNorm`,
    inter: `${p}intermediate.dense`,
    out: `${p}output.dense`,
  };
}

export const ESM_NAMES: TensorNames = {
  // The LM and contact heads; the rotary inv_freq buffers (1/θ^(2i/d), computed from the config:
  // checkpoints store one per layer, one per model, or none, depending on who saved them); the
  // position_ids buffer.
  ignore: /^(lm_head\.|esm\.contact_head\.|esm\.embeddings\.position_ids$)|rotary_embeddings\.inv_freq$/,
  aliases: {},
  keep: /^esm\.(embeddings|encoder)\./,
};

export function esmShapes(c: EsmConfig): Map<string, number[]> {
  const D = c.hidden_size, I = c.intermediate_size;
  const m = new Map<string, number[]>();
  const linear = (name: string, out: number, inp: number) => {
    m.set(`${name}.weight`, [out, inp]);
    m.set(`${name}.bias`, [out]);
  };
  const norm = (name: string) => {
    m.set(`${name}.weight`, [D]);
    m.set(`${name}.bias`, [D]);
  };
  m.set(ESM_WORD_EMBEDDINGS, [c.vocab_size, D]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const n = esmLayerNames(i);
    norm(n.attnNorm);
    for (const k of [n.query, n.key, n.value, n.attnOut]) linear(k, D, D);
    norm(n.ffNorm);
    linear(n.inter, I, D);
    linear(n.out, D, I);
  }
  norm(ESM_FINAL_NORM);
  return m;
}
