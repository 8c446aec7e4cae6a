// One Family object per BERT-style kind (bert, electra, albert): the config parser, schema,
// tokenizer recipe and encoder are shared; each family's index.ts names its own.
import type { Recipe } from '../../tokenizers/recipe.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { Family } from '../family.js';
import { limitTokens } from '../token-limit.js';
import { parseBertStyleConfig, type BertKind, type BertStyleConfig } from './config.js';
import { BertStyleEncoder } from './encoder.js';
import { BERT_STYLE_NAMES, bertStyleShapes, storedLayers } from './schema.js';

export function bertStyleFamily(kind: BertKind, f: { modelTypes: string[]; architectures: string[]; recipe: Recipe; title: string }): Family<BertStyleConfig> {
  return {
    name: kind,
    modelTypes: f.modelTypes,
    architectures: f.architectures,
    parseConfig: (raw, file) => parseBertStyleConfig(kind, raw, file),
    names: BERT_STYLE_NAMES[kind],
    shapes: bertStyleShapes,
    describe: (c) => `${f.title} with ${storedLayers(c).length} stored layer${storedLayers(c).length === 1 ? '' : 's'}`,
    summary: (c) =>
      `${c.num_hidden_layers} layers${kind === 'albert' ? ` (${storedLayers(c).length} stored, shared)` : ''}, hidden ${c.hidden_size}` +
      `${c.embedding_size !== c.hidden_size ? `, embedding ${c.embedding_size}` : ''}, ${c.num_attention_heads} heads, intermediate ${c.intermediate_size}`,
    hiddenSize: (c) => c.hidden_size,
    tokenizer: async (files, c) => limitTokens(await Tokenizer.fromFolder(files, f.recipe), c.max_position_embeddings, 'positions of the model (max_position_embeddings)'),
    load: (rt, ckpt, ctx) => BertStyleEncoder.load(rt, ckpt, ctx),
  };
}
