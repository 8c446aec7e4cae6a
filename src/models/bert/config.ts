// config.json of the BERT-style families (BERT, ELECTRA, ALBERT): the hyper-parameters the
// engine uses, names as in transformers' BertConfig / ElectraConfig / AlbertConfig, defaults as
// there. Each family's activation must be erf GELU ("gelu"), positions absolute.
import { ConfigError } from '../../errors.js';
import { checkHeadsAndLayers, configFields } from '../config-fields.js';

export type BertKind = 'bert' | 'electra' | 'albert';

export interface BertStyleConfig {
  kind: BertKind;
  vocab_size: number;
  /** Width of the embeddings (= hidden_size for BERT; ELECTRA and ALBERT project it up). */
  embedding_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  /** ALBERT: groups of shared layers and layers per group (1 and 1 elsewhere). */
  num_hidden_groups: number;
  inner_group_num: number;
}

/** transformers' defaults per config class (read only where config.json omits a key). */
const DEFAULTS: Record<BertKind, { vocab: number; emb?: number; hidden: number; layers: number; heads: number; ff: number; act: string }> = {
  bert: { vocab: 30522, hidden: 768, layers: 12, heads: 12, ff: 3072, act: 'gelu' },
  electra: { vocab: 30522, emb: 128, hidden: 256, layers: 12, heads: 4, ff: 1024, act: 'gelu' },
  albert: { vocab: 30000, emb: 128, hidden: 4096, layers: 12, heads: 64, ff: 16384, act: 'gelu_new' },
};

export function parseBertStyleConfig(kind: BertKind, raw: unknown, file: string): BertStyleConfig {
  const f = configFields(raw, file);
  const d = DEFAULTS[kind];
  f.oneOf('hidden_act', ['gelu'], d.act as 'gelu', 'the engine runs erf GELU, "gelu", as ProtBert, ProtElectra and ProtAlbert use');
  f.oneOf('position_embedding_type', ['absolute'], 'absolute', 'absolute positions only');
  const hidden = f.int('hidden_size', d.hidden);
  const c: BertStyleConfig = {
    kind,
    vocab_size: f.int('vocab_size', d.vocab),
    embedding_size: kind === 'bert' ? hidden : f.int('embedding_size', d.emb),
    hidden_size: hidden,
    num_hidden_layers: f.int('num_hidden_layers', d.layers),
    num_attention_heads: f.int('num_attention_heads', d.heads),
    intermediate_size: f.int('intermediate_size', d.ff),
    max_position_embeddings: f.int('max_position_embeddings', 512),
    type_vocab_size: f.int('type_vocab_size', 2),
    layer_norm_eps: f.eps('layer_norm_eps', 1e-12),
    num_hidden_groups: kind === 'albert' ? f.int('num_hidden_groups', 1) : 1,
    inner_group_num: kind === 'albert' ? f.int('inner_group_num', 1) : 1,
  };
  checkHeadsAndLayers(file, c.hidden_size, c.num_attention_heads, c.num_hidden_layers * c.inner_group_num);
  if (c.num_hidden_groups > c.num_hidden_layers) {
    throw new ConfigError(`${file}: "num_hidden_groups" ${c.num_hidden_groups} is more than "num_hidden_layers" ${c.num_hidden_layers}`, { file, key: 'num_hidden_groups' });
  }
  return c;
}
