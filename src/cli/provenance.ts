// What an output file says about how it was made (HDF5 root attributes): the model's identity,
// the outputs and their dtype, the shard and the input. `embed` writes them, `--resume` and
// `merge` compare them. Node only (reads the model folder).
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IOError } from '../errors.js';
import { DEFAULT_REVISION, isHubId, parseHubId } from '../../weights/hub.js';
import { CONFIG_FILE, SHARD_INDEX } from '../../weights/model-folder.js';

/** The root attributes `prott5 embed` writes (all strings). */
export interface Provenance {
  /** The folder the model was loaded from (absolute; for a hub id, its cache folder). */
  prott5_model: string;
  /** --model as given: a hub id (owner/name[@revision]) or a folder. */
  prott5_model_id: string;
  /** The hub revision asked for ('main' unless @revision), or '' for a folder. */
  prott5_model_revision: string;
  /** sha256 of the weights' description: model.safetensors.index.json, else model.safetensors' header, else pytorch_model.bin's size and last 64 KiB (its zip directory, with every entry's CRC). */
  prott5_weights_sha256: string;
  /** sha256 of config.json's bytes. */
  prott5_config_sha256: string;
  /** The output kinds, comma-separated, in file order. */
  prott5_outputs: string;
  /** 'float32' or 'float16' (--half: per-residue and per-protein datasets). */
  prott5_dtype: string;
  /** The input's file name. */
  prott5_input: string;
  /** sha256 over the whole input's records (ids and residues, and a non-default input kind), whatever the shard. */
  prott5_input_sha256: string;
  /** The input kind when it is not amino acids ('3di' for ProstT5's structure states); absent for 'aa'. */
  prott5_input_kind?: string;
  /** 'I/N' for `embed --shard I/N`; absent otherwise (and in a merged file). */
  prott5_shard?: string;
}

/** The attributes that say which model made a file (what `merge` requires to be equal). */
export const MODEL_IDENTITY = ['prott5_weights_sha256', 'prott5_config_sha256'] as const;

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

async function readPart(path: string, what: (size: number) => { start: number; length: number } | 'header'): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let part = what(size);
    if (part === 'header') {
      const len = Buffer.alloc(8);
      await fh.read(len, 0, 8, 0);
      const n = Number(len.readBigUInt64LE(0));
      part = { start: 0, length: Math.min(size, 8 + n) };
    }
    const buf = Buffer.alloc(part.length);
    await fh.read(buf, 0, part.length, part.start);
    return Buffer.concat([Buffer.from(`${size}\n`), buf]);
  } finally {
    await fh.close();
  }
}

/** sha256 of what identifies the weights in `dir` (see Provenance.prott5_weights_sha256). */
export async function weightsDigest(dir: string): Promise<string> {
  const tries: Array<[string, () => Promise<Uint8Array>]> = [
    [SHARD_INDEX, () => readFile(join(dir, SHARD_INDEX))],
    ['model.safetensors', () => readPart(join(dir, 'model.safetensors'), () => 'header')],
    ['pytorch_model.bin', () => readPart(join(dir, 'pytorch_model.bin'), (size) => ({ start: Math.max(0, size - 65536), length: Math.min(size, 65536) }))],
  ];
  for (const [name, read] of tries) {
    try {
      return `${name}:${sha256(await read())}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new IOError(`cannot read ${join(dir, name)}: ${(e as Error).message}`, { file: join(dir, name) }, { cause: e });
    }
  }
  throw new IOError(`${dir}: no weights to describe`, { file: dir });
}

/** The model part of the provenance, for `--model model` loaded from `dir`. */
export async function modelProvenance(model: string, dir: string): Promise<Pick<Provenance, 'prott5_model' | 'prott5_model_id' | 'prott5_model_revision' | 'prott5_weights_sha256' | 'prott5_config_sha256'>> {
  const hub = isHubId(model) ? parseHubId(model) : null;
  let config: Uint8Array;
  try {
    config = await readFile(join(dir, CONFIG_FILE));
  } catch (e) {
    throw new IOError(`cannot read ${join(dir, CONFIG_FILE)}: ${(e as Error).message}`, { file: join(dir, CONFIG_FILE) }, { cause: e });
  }
  return {
    prott5_model: resolve(dir),
    prott5_model_id: model,
    prott5_model_revision: hub ? (hub.revision ?? DEFAULT_REVISION) : '',
    prott5_weights_sha256: await weightsDigest(dir),
    prott5_config_sha256: sha256(config),
  };
}

/** A fingerprint of input records (ids and residues), so --resume and merge refuse another input. */
export function recordsDigest(records: ReadonlyArray<{ id: string; sequence: string }>, inputKind?: string): string {
  const h = createHash('sha256');
  // A non-default input kind (ProstT5's 3di) is part of what was embedded: --resume and merge tell them apart.
  if (inputKind !== undefined && inputKind !== 'aa') h.update(`input ${inputKind}\n`);
  for (const r of records) h.update(`${r.id}\n${r.sequence}\n`);
  return h.digest('hex');
}
