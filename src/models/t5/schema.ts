// The T5 encoder's tensors, as transformers names them (T5EncoderModel / T5ForConditionalGeneration):
// the one list of names and shapes, read by the loader, `prott5 convert` and the benches.
import type { TensorNames } from '../family.js';
import { isGated, type T5Config } from './config.js';

/** Block 0's relative-position bias, shared by every block. */
export const RELATIVE_BIAS = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';

/** Name prefixes of block `i`'s attention (layer.0) and feed-forward (layer.1) sublayers. */
export function blockPrefixes(i: number): { attn: string; ff: string } {
  return { attn: `encoder.block.${i}.layer.0.`, ff: `encoder.block.${i}.layer.1.` };
}

export const T5_NAMES: TensorNames = {
  // Tensors of a whole encoder-decoder checkpoint that the encoder does not use.
  ignore: /^(decoder\.|lm_head\.)/,
  // The encoder's embedding is tied to the shared one; some files store only this copy.
  aliases: { 'encoder.embed_tokens.weight': 'shared.weight' },
  keep: /^(shared\.weight$|encoder\.)/,
};

/** Names and shapes of every tensor a T5 encoder with this config needs. */
export function encoderTensorShapes(c: T5Config): Map<string, number[]> {
  const inner = c.num_heads * c.d_kv;
  const m = new Map<string, number[]>();
  m.set('shared.weight', [c.vocab_size, c.d_model]);
  for (let i = 0; i < c.num_layers; i++) {
    const { attn: a, ff: f } = blockPrefixes(i);
    m.set(`${a}SelfAttention.q.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.k.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.v.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.o.weight`, [c.d_model, inner]);
    if (i === 0) m.set(RELATIVE_BIAS, [c.relative_attention_num_buckets, c.num_heads]);
    m.set(`${a}layer_norm.weight`, [c.d_model]);
    // T5 v1.1 / Ankh: the gated pair wi_0 (through GELU) and wi_1; ProtT5: one wi (through ReLU).
    for (const wi of isGated(c) ? ['wi_0', 'wi_1'] : ['wi']) m.set(`${f}DenseReluDense.${wi}.weight`, [c.d_ff, c.d_model]);
    m.set(`${f}DenseReluDense.wo.weight`, [c.d_model, c.d_ff]);
    m.set(`${f}layer_norm.weight`, [c.d_model]);
  }
  m.set('encoder.final_layer_norm.weight', [c.d_model]);
  return m;
}
