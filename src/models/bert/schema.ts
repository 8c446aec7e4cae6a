// The tensors of the BERT-style encoders as transformers names them, in one place for BERT
// (BertForMaskedLM: bert.*), ELECTRA (ElectraForPreTraining: electra.*, embeddings_project) and
// ALBERT (AlbertForMaskedLM: albert.*, embedding_hidden_mapping_in, shared layer groups): the
// one list of names and shapes, read by the loader, `prott5 convert` and the benches.
import type { TensorNames } from '../family.js';
import type { BertKind, BertStyleConfig } from './config.js';

/** A linear layer's or a LayerNorm's name without `.weight` / `.bias`. */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attnOut: string;
  attnNorm: string;
  inter: string;
  out: string;
  outNorm: string;
}

const BERT_LAYER = {
  query: 'attention.self.query', key: 'attention.self.key', value: 'attention.self.value',
  attnOut: 'attention.output.dense', attnNorm: 'attention.output.LayerNorm',
  inter: 'intermediate.dense', out: 'output.dense', outNorm: 'output.LayerNorm',
} as const satisfies LayerNames;

const ALBERT_LAYER = {
  query: 'attention.query', key: 'attention.key', value: 'attention.value',
  attnOut: 'attention.dense', attnNorm: 'attention.LayerNorm',
  inter: 'ffn', out: 'ffn_output', outNorm: 'full_layer_layer_norm',
} as const satisfies LayerNames;

function prefixed(prefix: string, names: LayerNames): LayerNames {
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, prefix + v])) as unknown as LayerNames;
}

/** The stored layers (ALBERT: one per group and inner index), in order. */
export function storedLayers(c: BertStyleConfig): LayerNames[] {
  if (c.kind === 'albert') {
    const out: LayerNames[] = [];
    for (let g = 0; g < c.num_hidden_groups; g++) {
      for (let j = 0; j < c.inner_group_num; j++) out.push(prefixed(`albert.encoder.albert_layer_groups.${g}.albert_layers.${j}.`, ALBERT_LAYER));
    }
    return out;
  }
  return Array.from({ length: c.num_hidden_layers }, (_, i) => prefixed(`${c.kind}.encoder.layer.${i}.`, BERT_LAYER));
}

/**
 * Which stored layer runs at each step of the forward pass. BERT, ELECTRA: each once, in order.
 * ALBERT (AlbertTransformer): layer i runs group ⌊i / (layers / groups)⌋, each of its inner layers.
 */
export function layerSchedule(c: BertStyleConfig): number[] {
  if (c.kind !== 'albert') return Array.from({ length: c.num_hidden_layers }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const g = Math.floor(i / (c.num_hidden_layers / c.num_hidden_groups));
    for (let j = 0; j < c.inner_group_num; j++) out.push(g * c.inner_group_num + j);
  }
  return out;
}

/** The embeddings' names (word, position, token type, LayerNorm) under `<kind>.embeddings.`. */
export function embeddingNames(kind: BertKind) {
  const e = `${kind}.embeddings.`;
  return { word: `${e}word_embeddings.weight`, position: `${e}position_embeddings.weight`, tokenType: `${e}token_type_embeddings.weight`, norm: `${e}LayerNorm` };
}

/**
 * The projection from embedding_size to hidden_size: ALBERT's embedding_hidden_mapping_in
 * (always), ELECTRA's embeddings_project (only when the sizes differ, as ElectraModel makes it);
 * none for BERT.
 */
export function projectionName(c: BertStyleConfig): string | undefined {
  if (c.kind === 'albert') return 'albert.encoder.embedding_hidden_mapping_in';
  return c.kind === 'electra' && c.embedding_size !== c.hidden_size ? 'electra.embeddings_project' : undefined;
}

/**
 * Stored names never read: the pre-training heads (cls., discriminator_predictions.,
 * generator_*, predictions., sop_classifier.), the pooler, and the position_ids buffer older
 * checkpoints carry.
 */
export const BERT_STYLE_NAMES: Record<BertKind, TensorNames> = {
  bert: { ignore: /^(cls\.|bert\.pooler\.|bert\.embeddings\.position_ids$)/, aliases: {}, keep: /^bert\.(embeddings|encoder)\./ },
  electra: {
    ignore: /^(discriminator_predictions\.|generator_|electra\.embeddings\.position_ids$)/,
    aliases: {},
    keep: /^electra\.(embeddings|embeddings_project|encoder)\./,
  },
  albert: {
    ignore: /^(predictions\.|sop_classifier\.|albert\.pooler\.|albert\.embeddings\.position_ids$)/,
    aliases: {},
    keep: /^albert\.(embeddings|encoder)\./,
  },
};

/** Names and shapes of every tensor the encoder needs with this config. */
export function bertStyleShapes(c: BertStyleConfig): Map<string, number[]> {
  const D = c.hidden_size, E = c.embedding_size, I = c.intermediate_size;
  const m = new Map<string, number[]>();
  const linear = (name: string, out: number, inp: number) => {
    m.set(`${name}.weight`, [out, inp]);
    m.set(`${name}.bias`, [out]);
  };
  const norm = (name: string, n: number) => {
    m.set(`${name}.weight`, [n]);
    m.set(`${name}.bias`, [n]);
  };
  const e = embeddingNames(c.kind);
  m.set(e.word, [c.vocab_size, E]);
  m.set(e.position, [c.max_position_embeddings, E]);
  m.set(e.tokenType, [c.type_vocab_size, E]);
  norm(e.norm, E);
  const proj = projectionName(c);
  if (proj) linear(proj, D, E);
  for (const l of storedLayers(c)) {
    for (const k of [l.query, l.key, l.value, l.attnOut]) linear(k, D, D);
    norm(l.attnNorm, D);
    linear(l.inter, I, D);
    linear(l.out, D, I);
    norm(l.outNorm, D);
  }
  return m;
}
