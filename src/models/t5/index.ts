// The T5 family (ProtT5): transformers' T5 encoder with ReLU feed-forward.
import type { Family } from '../family.js';
import { PROTT5 } from '../../tokenizers/recipe.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import { parseT5Config, type T5Config } from './config.js';
import { T5Encoder } from './encoder.js';
import { encoderTensorShapes, T5_NAMES } from './schema.js';

export const t5: Family<T5Config> = {
  name: 't5',
  modelTypes: ['t5'],
  architectures: ['T5EncoderModel', 'T5ForConditionalGeneration', 'T5Model'],
  parseConfig: parseT5Config,
  names: T5_NAMES,
  shapes: encoderTensorShapes,
  describe: (c) => `a T5 encoder with ${c.num_layers} layers`,
  summary: (c) => `${c.num_layers} layers, d_model ${c.d_model}, ${c.num_heads} heads, d_ff ${c.d_ff}`,
  hiddenSize: (c) => c.d_model,
  // The folder's spiece.model; ProtT5 folders without one get the package's ProtT5 spiece.model.
  tokenizer: (files) => Tokenizer.fromFolder(files, PROTT5),
  load: (rt, ckpt, ctx) => T5Encoder.load(rt, ckpt, ctx),
};
