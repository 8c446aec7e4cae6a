// The ESM family (ESM-2, facebook/esm2_t6_8M_UR50D … esm2_t48_15B_UR50D): EsmForMaskedLM
// checkpoints, esm.* (lm_head.* and the contact head ignored).
import { ESM2 } from '../../tokenizers/recipe.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { Family } from '../family.js';
import { parseEsmConfig, type EsmConfig } from './config.js';
import { EsmEncoder } from './encoder.js';
import { ESM_NAMES, esmShapes } from './schema.js';

export const esm: Family<EsmConfig> = {
  name: 'esm',
  modelTypes: ['esm'],
  architectures: ['EsmForMaskedLM', 'EsmModel'],
  parseConfig: parseEsmConfig,
  names: ESM_NAMES,
  shapes: esmShapes,
  describe: (c) => `an ESM-2 encoder with ${c.num_hidden_layers} layers`,
  summary: (c) => `${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${c.num_attention_heads} heads, intermediate ${c.intermediate_size}, rotary${c.token_dropout ? ', token dropout' : ''}`,
  hiddenSize: (c) => c.hidden_size,
  tokenizer: (files) => Tokenizer.fromFolder(files, ESM2),
  load: (rt, ckpt, ctx) => EsmEncoder.load(rt, ckpt, ctx),
};
