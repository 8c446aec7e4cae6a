// config.json of XLNet (XLNetLMHeadModel, ProtXLNet): the hyper-parameters the engine uses, names
// and defaults as transformers' XLNetConfig. Only what ProtTrans and bio_embeddings run is
// supported: bidirectional attention (attn_type "bi"), one position table (bi_data false), erf
// GELU; memories (mem_len, reuse_len) do not enter a single forward pass and are not read.
import { ConfigError } from '../../errors.js';
import { checkHeadsAndLayers, configFields } from '../config-fields.js';

export interface XLNetConfig {
  vocab_size: number;
  d_model: number;
  n_layer: number;
  n_head: number;
  d_head: number;
  d_inner: number;
  layer_norm_eps: number;
  /** Relative positions beyond ±clamp_len use ±clamp_len's row; -1 (or 0): no clamping. */
  clamp_len: number;
}

export function parseXLNetConfig(raw: unknown, file: string): XLNetConfig {
  const f = configFields(raw, file);
  f.oneOf('attn_type', ['bi'], 'bi', 'ProtXLNet embeds with bidirectional attention, "bi"; the Transformer-XL style "uni" is not supported');
  f.oneOf('ff_activation', ['gelu'], 'gelu', 'ProtXLNet uses erf GELU, "gelu"');
  if (f.bool('bi_data', false)) throw new ConfigError(`${file}: "bi_data" true (two position tables, a pre-training setting) is not supported; ProtXLNet has false`, { file, key: 'bi_data' });
  const clamp = f.raw.clamp_len ?? -1;
  if (typeof clamp !== 'number' || !Number.isInteger(clamp)) throw new ConfigError(`${file}: "clamp_len" must be an integer, got ${JSON.stringify(clamp)}`, { file, key: 'clamp_len' });
  const c: XLNetConfig = {
    vocab_size: f.int('vocab_size', 32000),
    d_model: f.int('d_model', 1024),
    n_layer: f.int('n_layer', 24),
    n_head: f.int('n_head', 16),
    d_head: 0,
    d_inner: f.int('d_inner', 4096),
    layer_norm_eps: f.eps('layer_norm_eps', 1e-12),
    clamp_len: clamp > 0 ? clamp : -1,
  };
  checkHeadsAndLayers(file, c.d_model, c.n_head, c.n_layer, { hidden: 'd_model', heads: 'n_head', layers: 'n_layer' });
  // XLNetConfig derives d_head = d_model / n_head and refuses a config.json that says otherwise.
  c.d_head = f.int('d_head', c.d_model / c.n_head);
  if (c.d_head !== c.d_model / c.n_head) {
    throw new ConfigError(`${file}: "d_head" ${c.d_head} must be "d_model" / "n_head" = ${c.d_model / c.n_head}`, { file, key: 'd_head' });
  }
  return c;
}
