// A model folder to named encoder tensors: config.json, then model.safetensors.index.json
// (shards), model.safetensors, or pytorch_model.bin. Every tensor the encoder needs is checked
// against the config by name and shape; decoder tensors of a whole seq2seq checkpoint are
// ignored (never read); anything else unexpected is an error that names it.
import { ConfigError, WeightsError } from '../src/errors.js';
import { parseT5Config, type T5Config } from '../src/models/t5/config.js';
import { readPytorchBin } from './pytorch.js';
import { describeValue } from './describe.js';
import { readSafetensors } from './safetensors.js';
import type { ByteSource, ModelFiles } from './source.js';
import type { TensorEntry } from './tensor-entry.js';

export interface Checkpoint {
  config: T5Config;
  /** Encoder tensors by Hugging Face name; the embedding is always under `shared.weight`. */
  tensors: Map<string, TensorEntry>;
  /** The weight files read (for messages). */
  files: string[];
  close(): Promise<void>;
}

/** Names and shapes of every tensor a T5 encoder with this config needs. */
export function encoderTensorShapes(c: T5Config): Map<string, number[]> {
  const inner = c.num_heads * c.d_kv;
  const m = new Map<string, number[]>();
  m.set('shared.weight', [c.vocab_size, c.d_model]);
  for (let i = 0; i < c.num_layers; i++) {
    const a = `encoder.block.${i}.layer.0.`;
    m.set(`${a}SelfAttention.q.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.k.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.v.weight`, [inner, c.d_model]);
    m.set(`${a}SelfAttention.o.weight`, [c.d_model, inner]);
    if (i === 0) m.set(`${a}SelfAttention.relative_attention_bias.weight`, [c.relative_attention_num_buckets, c.num_heads]);
    m.set(`${a}layer_norm.weight`, [c.d_model]);
    const f = `encoder.block.${i}.layer.1.`;
    m.set(`${f}DenseReluDense.wi.weight`, [c.d_ff, c.d_model]);
    m.set(`${f}DenseReluDense.wo.weight`, [c.d_model, c.d_ff]);
    m.set(`${f}layer_norm.weight`, [c.d_model]);
  }
  m.set('encoder.final_layer_norm.weight', [c.d_model]);
  return m;
}

/** Tensors of a whole encoder-decoder checkpoint that the encoder does not use. */
const IGNORED = /^(decoder\.|lm_head\.)/;

async function readJson(files: ModelFiles, name: string): Promise<unknown | null> {
  const src = await files.open(name);
  if (!src) return null;
  try {
    if (src.size > 64 * 1024 * 1024) throw new ConfigError(`${src.name}: ${src.size} bytes is too large for a JSON file here`, { file: src.name });
    const text = new TextDecoder().decode(await src.read(0, src.size));
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${src.name}: not valid JSON (${(e as Error).message})`, { file: src.name });
    }
  } finally {
    await src.close?.();
  }
}

export async function openCheckpoint(files: ModelFiles): Promise<Checkpoint> {
  const rawConfig = await readJson(files, 'config.json');
  if (rawConfig === null) throw new ConfigError(`${files.name}: no config.json in the model folder`, { file: `${files.name}/config.json` });
  const config = parseT5Config(rawConfig, `${files.name}/config.json`);

  const sources: ByteSource[] = [];
  const all: TensorEntry[] = [];
  const unsupported = new Map<string, string>();
  const close = async () => {
    await Promise.all(sources.map((s) => s.close?.()));
  };
  try {
    const index = await readJson(files, 'model.safetensors.index.json');
    if (index !== null) {
      const map = (index as { weight_map?: unknown }).weight_map;
      if (typeof map !== 'object' || map === null) throw new WeightsError(`${files.name}/model.safetensors.index.json: no "weight_map" object`, { file: 'model.safetensors.index.json' });
      const shards = [...new Set(Object.values(map as Record<string, unknown>))];
      // Shard names come from the file: only plain names inside the folder, checked before any is opened
      // (a ModelFiles over URLs or picked files need not refuse "../x" or "/etc/x" itself).
      for (const shard of shards) {
        if (typeof shard !== 'string') throw new WeightsError(`${files.name}/model.safetensors.index.json: shard name ${describeValue(shard)} is not a string`);
        if (shard === '' || shard === '.' || shard === '..' || /[/\\]/.test(shard)) {
          throw new WeightsError(`${files.name}/model.safetensors.index.json: shard name ${describeValue(shard, 300)} is not a plain file name inside the model folder`, {
            file: 'model.safetensors.index.json',
            shard,
          });
        }
      }
      for (const shard of shards) {
        if (typeof shard !== 'string') throw new WeightsError(`${files.name}/model.safetensors.index.json: shard name ${describeValue(shard)} is not a string`);
        const src = await files.open(shard);
        if (!src) throw new WeightsError(`${files.name}: shard "${shard}" named in model.safetensors.index.json is missing`, { file: shard });
        sources.push(src);
        const st = await readSafetensors(src);
        // The index decides which shard holds a tensor; a tensor in a shard the index does not point to is ignored.
        all.push(...st.tensors.filter((t) => (map as Record<string, unknown>)[t.name] === shard));
        for (const [n, d] of st.unsupported) unsupported.set(n, d);
      }
      for (const name of Object.keys(map as object)) {
        if (!all.some((t) => t.name === name) && !unsupported.has(name)) {
          throw new WeightsError(`${files.name}: tensor "${name}" is listed in model.safetensors.index.json but not found in its shard`, { tensor: name });
        }
      }
    } else {
      let src = await files.open('model.safetensors');
      if (src) {
        sources.push(src);
        const st = await readSafetensors(src);
        all.push(...st.tensors);
        for (const [n, d] of st.unsupported) unsupported.set(n, d);
      } else if ((src = await files.open('pytorch_model.bin'))) {
        sources.push(src);
        const pt = await readPytorchBin(src);
        all.push(...pt.tensors);
        for (const [n, d] of pt.unsupported) unsupported.set(n, d);
      } else {
        throw new WeightsError(
          `${files.name}: no weights found: expected model.safetensors, model.safetensors.index.json with its shards, or pytorch_model.bin`,
          { file: files.name },
        );
      }
    }

    const want = encoderTensorShapes(config);
    const tensors = new Map<string, TensorEntry>();
    for (const t of all) {
      let name = t.name;
      if (name === 'encoder.embed_tokens.weight') {
        if (tensors.has('shared.weight') || all.some((o) => o.name === 'shared.weight')) continue; // tied copy
        name = 'shared.weight';
      }
      if (IGNORED.test(name)) continue;
      const shape = want.get(name);
      if (!shape) throw new WeightsError(`${t.file}: unexpected tensor "${t.name}" ${describeValue(t.shape, 200)}: not part of a T5 encoder with ${config.num_layers} layers`, { file: t.file, tensor: t.name });
      if (tensors.has(name)) throw new WeightsError(`${t.file}: tensor "${t.name}" appears twice`, { file: t.file, tensor: t.name });
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new WeightsError(`${t.file}: tensor "${t.name}" has shape ${describeValue(t.shape, 200)}, config.json implies ${describeValue(shape)}`, {
          file: t.file,
          tensor: t.name,
        });
      }
      tensors.set(name, name === t.name ? t : { ...t, name, read: () => t.read() });
    }
    for (const name of want.keys()) {
      if (tensors.has(name)) continue;
      const alt = name === 'shared.weight' ? ' (or encoder.embed_tokens.weight)' : '';
      const why = unsupported.has(name) ? ` (present with unsupported dtype ${unsupported.get(name)}; F32, F16 and BF16 are read)` : '';
      throw new WeightsError(`${files.name}: tensor "${name}"${alt} is missing${why}`, { tensor: name });
    }
    return { config, tensors, files: sources.map((s) => s.name), close };
  } catch (e) {
    await close();
    throw e;
  }
}
