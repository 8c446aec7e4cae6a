// prott5 info --model X: what a model folder (or hub id) is — its family, the published variant
// it matches (ProtT5-XL-U50, ProstT5, Ankh base, ...), its shapes, input kinds, vocabulary and
// stored dtypes — read from config.json, the tokenizer files and the weight files' headers. No GPU.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TokenizerError } from '../errors.js';
import { openCheckpoint } from '../models/checkpoint.js';
import { isHubId, resolveModel } from '../../weights/hub.js';
import { readJsonFile } from '../../weights/model-folder.js';
import { DirectoryFiles } from '../../weights/node-files.js';
import { downloadProgressLine } from './progress.js';

export interface ModelInfo {
  folder: string;
  family: string;
  variant: string;
  note?: string;
  summary: string;
  /** The input kinds its tokenizer reads ('aa', ProstT5's '3di'); none when the folder's tokenizer cannot be read. */
  inputs: readonly string[];
  /** Why there is no tokenizer (an Ankh folder without tokenizer.json or spiece.model). */
  tokenizerError?: string;
  dtypes: string[];
  tensors: number;
  files: string[];
}

/** Reads what `prott5 info --model` shows; `model` is a folder or a hub id (downloaded into the cache once). */
export async function modelInfo(model: string, quiet = false): Promise<ModelInfo> {
  const folder = !existsSync(model) && isHubId(model) ? await resolveModel(model, { onProgress: quiet ? undefined : downloadProgressLine(process.stderr) }) : resolve(model);
  const files = new DirectoryFiles(folder);
  const ckpt = await openCheckpoint(files);
  try {
    const raw = (await readJsonFile(files, 'config.json')) as { _name_or_path?: unknown } | null;
    const hint = [model, folder, typeof raw?._name_or_path === 'string' ? raw._name_or_path : ''].join(' ');
    const v = ckpt.family.variant?.(ckpt.config, hint) ?? { name: ckpt.family.name };
    const tok = await ckpt.family.tokenizer(files, ckpt.config).catch((e: Error) => {
      if (e instanceof TokenizerError) return e;
      throw e;
    });
    return {
      folder,
      family: ckpt.family.name,
      variant: v.name,
      ...(v.note ? { note: v.note } : {}),
      summary: ckpt.family.summary(ckpt.config),
      inputs: tok instanceof TokenizerError ? [] : (tok.modes ?? ['aa']),
      ...(tok instanceof TokenizerError ? { tokenizerError: tok.message } : {}),
      dtypes: [...new Set([...ckpt.tensors.values()].map((t) => t.dtype))],
      tensors: ckpt.tensors.size,
      files: ckpt.files,
    };
  } finally {
    await ckpt.close();
  }
}

export function printModelInfo(m: ModelInfo): void {
  console.log(`model:        ${m.folder}`);
  console.log(`variant:      ${m.variant}${m.note ? ` (${m.note})` : ''}`);
  console.log(`family:       ${m.family}: ${m.summary}`);
  if (m.tokenizerError) console.log(`input:        none: ${m.tokenizerError}`);
  else console.log(`input:        ${m.inputs.join(', ')}${m.inputs.length > 1 ? ` (embed --input; default ${m.inputs[0]})` : ''}`);
  console.log(`weights:      ${m.tensors} encoder tensors, ${m.dtypes.join('/')}, in ${m.files.join(', ')}`);
}
