// The XLNet family (ProtXLNet, Rostlab/prot_xlnet): XLNetLMHeadModel checkpoints, transformer.*
// (lm_loss.*, mask_emb and the segment terms ignored). The tokenizer pads on the left as
// XLNetTokenizer does; the encoder is shift-invariant (relative positions only, padded keys
// masked), so the batching runs each sequence at the start of its row with the same result.
import { PROTXLNET } from '../../tokenizers/recipe.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { Family } from '../family.js';
import { parseXLNetConfig, type XLNetConfig } from './config.js';
import { XLNetEncoder } from './encoder.js';
import { XLNET_NAMES, xlnetShapes } from './schema.js';

export const xlnet: Family<XLNetConfig> = {
  name: 'xlnet',
  modelTypes: ['xlnet'],
  architectures: ['XLNetLMHeadModel', 'XLNetModel'],
  parseConfig: parseXLNetConfig,
  names: XLNET_NAMES,
  shapes: xlnetShapes,
  describe: (c) => `an XLNet encoder with ${c.n_layer} layers`,
  summary: (c) => `${c.n_layer} layers, d_model ${c.d_model}, ${c.n_head} heads, d_inner ${c.d_inner}, relative positions (bi)${c.clamp_len > 0 ? `, clamp_len ${c.clamp_len}` : ''}`,
  hiddenSize: (c) => c.d_model,
  shiftInvariant: true,
  tokenizer: (files) => Tokenizer.fromFolder(files, PROTXLNET),
  load: (rt, ckpt, ctx) => XLNetEncoder.load(rt, ckpt, ctx),
};
