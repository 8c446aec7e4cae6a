// config.json of ESM-2 (EsmForMaskedLM): the hyper-parameters the engine uses, names and
// defaults as transformers' EsmConfig. Only ESM-2's shape runs: rotary positions, no LayerNorm
// before the layers (emb_layer_norm_before false), erf GELU.
import { ConfigError } from '../../errors.js';
import { checkHeadsAndLayers, configFields } from '../config-fields.js';

export interface EsmConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  layer_norm_eps: number;
  /** ESM-2: embeddings of <mask> zeroed and every row scaled by 0.88 / (1 − masked fraction), also at inference. */
  token_dropout: boolean;
  /** Its <mask> id (read with token_dropout). */
  mask_token_id: number;
  /** Rotary base (10000). */
  rope_theta: number;
}

export function parseEsmConfig(raw: unknown, file: string): EsmConfig {
  const f = configFields(raw, file);
  // EsmConfig defaults to absolute positions (ESM-1b); every ESM-2 config says rotary.
  f.oneOf('position_embedding_type', ['rotary'], 'absolute' as 'rotary', 'ESM-2 uses "rotary"; ESM-1 models with absolute positions are not supported');
  if (f.bool('emb_layer_norm_before', false)) {
    throw new ConfigError(`${file}: "emb_layer_norm_before" true (ESM-1b) is not supported; ESM-2 has false`, { file, key: 'emb_layer_norm_before' });
  }
  if (f.bool('is_folding_model', false)) throw new ConfigError(`${file}: ESMFold (is_folding_model) is not supported; use an ESM-2 language model`, { file, key: 'is_folding_model' });
  f.oneOf('hidden_act', ['gelu'], 'gelu', 'ESM-2 uses erf GELU, "gelu"');
  const theta = f.raw.rope_theta ?? 10000;
  if (typeof theta !== 'number' || !(theta > 1)) throw new ConfigError(`${file}: "rope_theta" must be a number > 1, got ${JSON.stringify(theta)}`, { file, key: 'rope_theta' });
  const tokenDropout = f.bool('token_dropout', false);
  const c: EsmConfig = {
    vocab_size: f.int('vocab_size'),
    hidden_size: f.int('hidden_size', 768),
    num_hidden_layers: f.int('num_hidden_layers', 12),
    num_attention_heads: f.int('num_attention_heads', 12),
    intermediate_size: f.int('intermediate_size', 3072),
    layer_norm_eps: f.eps('layer_norm_eps', 1e-12),
    token_dropout: tokenDropout,
    mask_token_id: tokenDropout ? f.int('mask_token_id', undefined, 0) : -1,
    rope_theta: theta,
  };
  checkHeadsAndLayers(file, c.hidden_size, c.num_attention_heads, c.num_hidden_layers);
  if ((c.hidden_size / c.num_attention_heads) % 2 !== 0) {
    throw new ConfigError(`${file}: the head size ${c.hidden_size / c.num_attention_heads} must be even for rotary positions`, { file, key: 'num_attention_heads' });
  }
  return c;
}
