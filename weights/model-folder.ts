// The model folder: which files hold the weights and how they are found, for every reader of a
// folder (the loader, `prott5 convert`, the hub download). Layouts, in the order a folder is
// read (the order the hub download tries them): model.safetensors, model.safetensors.index.json
// with its shards, pytorch_model.bin. A folder of one model.safetensors is opened without asking
// for the others (no 404 in a browser's console).
// Names that come from files (shard names) are checked to be plain file names before any is
// opened: a ModelFiles over URLs or picked files need not refuse "../x" or "/etc/x" itself.
import { ConfigError, IOError, WeightsError } from '../src/errors.js';
import { describeValue } from './describe.js';
import { readPytorchBin } from './pytorch.js';
import { readSafetensors } from './safetensors.js';
import type { ByteSource, ModelFiles } from './source.js';
import type { TensorEntry } from './tensor-entry.js';

export const CONFIG_FILE = 'config.json';
export const SHARD_INDEX = 'model.safetensors.index.json';
/** The weight layouts a download tries, in order (one file where the hub has it, then shards). */
export const WEIGHT_FILES = ['model.safetensors', SHARD_INDEX, 'pytorch_model.bin'] as const;
/** Tokenizer files a model folder may hold (src/tokenizers reads them); a download fetches those the hub has. */
export const TOKENIZER_FILES = ['spiece.model', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'added_tokens.json'] as const;
/** What a folder must hold besides config.json, in words. */
export const WEIGHTS_TEXT = `model.safetensors, ${SHARD_INDEX} with its shards, or pytorch_model.bin`;

/** A name that stays inside its folder: not empty, not . or .., no / \ ? # or NUL. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !/[/\\?#\0]/.test(name);
}

/** What every ModelFiles does before opening `file` in `folder`. */
export function refuseUnlessPlain(folder: string, file: string): void {
  if (!isPlainFileName(file)) throw new IOError(`${folder}: refusing to open "${file}": not a plain file name inside the model folder`, { file });
}

/** A JSON file of the folder, parsed, or null when the folder has none. */
export async function readJsonFile(files: ModelFiles, name: string): Promise<unknown | null> {
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

export interface ShardIndex {
  /** Tensor name → the shard that holds it. */
  map: Record<string, string>;
  /** The shards, each once, in the order the index names them. */
  shards: string[];
}

/** Checks a parsed model.safetensors.index.json (`where` names it): a weight_map of plain shard names. */
export function parseShardIndex(index: unknown, where: string): ShardIndex {
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new WeightsError(`${where}: no "weight_map" object`, { file: where });
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const shard of shards) {
    if (typeof shard !== 'string') throw new WeightsError(`${where}: shard name ${describeValue(shard)} is not a string`, { file: where, shard: describeValue(shard) });
    if (!isPlainFileName(shard)) {
      throw new WeightsError(`${where}: shard name ${describeValue(shard, 300)} is not a plain file name inside the model folder`, { file: where, shard });
    }
  }
  return { map: map as Record<string, string>, shards: shards as string[] };
}

/** Every float tensor of a folder's weights, not yet read, and the sources to close. */
export interface FolderWeights {
  tensors: TensorEntry[];
  /** Tensors present in a dtype the engine does not read: name → dtype. */
  unsupported: Map<string, string>;
  /** The weight files opened (for messages). */
  files: string[];
  /** The safetensors files' `__metadata__` entries, merged in file order ({} for PyTorch files). */
  metadata: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Opens the weights of a model folder in its layout (model.safetensors, else shards per the
 * index, else pytorch_model.bin) and lists their tensors. A tensor that appears twice,
 * an index entry missing from its shard, or a folder with no weights is a WeightsError.
 */
export async function openFolderWeights(files: ModelFiles): Promise<FolderWeights> {
  const sources: ByteSource[] = [];
  const tensors: TensorEntry[] = [];
  const unsupported = new Map<string, string>();
  const metadata: Record<string, string> = {};
  const close = async () => void (await Promise.all(sources.map((s) => s.close?.())));
  const add = async (src: ByteSource, format: 'safetensors' | 'pytorch', keep: (name: string) => boolean = () => true) => {
    sources.push(src);
    const f = format === 'safetensors' ? await readSafetensors(src) : await readPytorchBin(src);
    if ('metadata' in f) Object.assign(metadata, f.metadata);
    tensors.push(...f.tensors.filter((t) => keep(t.name)));
    for (const [n, d] of f.unsupported) if (keep(n)) unsupported.set(n, d);
  };
  try {
    const single = await files.open('model.safetensors');
    const rawIndex = single ? null : await readJsonFile(files, SHARD_INDEX);
    if (single) await add(single, 'safetensors');
    else if (rawIndex !== null) {
      const { map, shards } = parseShardIndex(rawIndex, `${files.name}/${SHARD_INDEX}`);
      for (const shard of shards) {
        const src = await files.open(shard);
        if (!src) throw new WeightsError(`${files.name}: shard "${shard}" named in ${SHARD_INDEX} is missing`, { file: shard });
        // The index decides which shard holds a tensor; a tensor in a shard the index does not point to is ignored.
        await add(src, 'safetensors', (n) => map[n] === shard);
      }
      const found = new Set([...tensors.map((t) => t.name), ...unsupported.keys()]);
      for (const name of Object.keys(map)) {
        if (!found.has(name)) throw new WeightsError(`${files.name}: tensor "${name}" is listed in ${SHARD_INDEX} but not found in its shard`, { tensor: name });
      }
    } else {
      const src = await files.open('pytorch_model.bin');
      if (src) await add(src, 'pytorch');
      else throw new WeightsError(`${files.name}: no weights found: expected ${WEIGHTS_TEXT}`, { file: files.name });
    }
    const seen = new Set<string>();
    for (const t of tensors) {
      if (seen.has(t.name)) throw new WeightsError(`${t.file}: tensor "${t.name}" appears twice`, { file: t.file, tensor: t.name });
      seen.add(t.name);
    }
    return { tensors, unsupported, files: sources.map((s) => s.name), metadata, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** True when the folder holds config.json and one complete set of weights (nothing to download). */
export async function isCompleteModelFolder(files: ModelFiles): Promise<boolean> {
  const has = async (name: string) => {
    const src = await files.open(name).catch(() => null);
    await src?.close?.();
    return src !== null;
  };
  if (!(await has(CONFIG_FILE))) return false;
  if ((await has('model.safetensors')) || (await has('pytorch_model.bin'))) return true;
  try {
    const index = await readJsonFile(files, SHARD_INDEX);
    if (index === null) return false;
    for (const shard of parseShardIndex(index, SHARD_INDEX).shards) if (!(await has(shard))) return false;
    return true;
  } catch {
    return false;
  }
}
