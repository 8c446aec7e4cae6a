// The T5 family: transformers' T5 encoder. ProtT5-XL / XXL (ReLU feed-forward), ProstT5 (the
// same, vocabulary 150, amino-acid and 3Di input) and Ankh (T5 v1.1: gated-GELU feed-forward,
// 64 buckets). The variant is named from the config (variant.ts).
import type { Family } from '../family.js';
import type { ModelFiles } from '../../../weights/source.js';
import { ANKH, PROSTT5, PROTT5 } from '../../tokenizers/recipe.js';
import { loadVocabulary } from '../../tokenizers/files.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import { isGated, parseT5Config, type T5Config } from './config.js';
import { T5Encoder } from './encoder.js';
import { encoderTensorShapes, T5_NAMES } from './schema.js';
import { t5Variant } from './variant.js';

/**
 * The folder's tokenizer: Ankh's recipe for a gated config; ProstT5's (aa and 3di modes) when
 * the vocabulary has its prefixes <AA2fold> and <fold2AA> (added_tokens.json); else ProtT5's
 * (the package's ProtT5 spiece.model for a folder without one).
 */
async function t5Tokenizer(files: ModelFiles, c: T5Config): Promise<Tokenizer> {
  if (isGated(c)) return Tokenizer.fromFolder(files, ANKH);
  const vocab = await loadVocabulary(files, PROTT5);
  const prost = vocab.id('<AA2fold>') !== undefined && vocab.id('<fold2AA>') !== undefined;
  return Tokenizer.fromVocabulary(vocab, prost ? PROSTT5 : PROTT5);
}

export const t5: Family<T5Config> = {
  name: 't5',
  modelTypes: ['t5'],
  architectures: ['T5EncoderModel', 'T5ForConditionalGeneration', 'T5Model'],
  parseConfig: parseT5Config,
  names: T5_NAMES,
  shapes: encoderTensorShapes,
  describe: (c) => `a T5 encoder with ${c.num_layers} layers`,
  summary: (c) => `${c.num_layers} layers, d_model ${c.d_model}, ${c.num_heads} heads, d_ff ${c.d_ff}${isGated(c) ? ' (gated GELU)' : ''}`,
  hiddenSize: (c) => c.d_model,
  tokenizer: t5Tokenizer,
  variant: (c, name) => t5Variant(c, name),
  load: (rt, ckpt, ctx) => T5Encoder.load(rt, ckpt, ctx),
};
