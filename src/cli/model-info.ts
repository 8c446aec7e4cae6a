// `prott5 info --model X`: what a model folder (or hub id, fetched into the cache as embed does)
// holds, read from config.json, the tokenizer files and the weight files' headers only (no GPU, no
// weights read): its family (picked from config.json by the registry), the published variant it
// matches (ProtT5-XL-U50, ProstT5, Ankh base, ...), dims, parameter count, input kinds and dtypes.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TokenizerError } from '../errors.js';
import { openCheckpoint } from '../models/checkpoint.js';
import { isHubId, resolveModel, type HubOptions } from '../../weights/hub.js';
import { readJsonFile } from '../../weights/model-folder.js';
import { DirectoryFiles } from '../../weights/node-files.js';

export interface ModelInfo {
  model: string;
  folder: string;
  family: string;
  /** The published checkpoint it matches, or e.g. "unknown T5". */
  variant: string;
  note?: string;
  description: string;
  summary: string;
  hiddenSize: number;
  /** Elements of every tensor the encoder reads (each stored tensor once: ALBERT's shared layer once). */
  parameters: number;
  /** Tensors per stored dtype ('F16': 201). */
  dtypes: Record<string, number>;
  tensors: number;
  /** The input kinds its tokenizer reads ('aa', ProstT5's '3di'); none when the folder's tokenizer cannot be read. */
  inputs: readonly string[];
  /** Why there is no tokenizer (an Ankh folder without tokenizer.json or spiece.model). */
  tokenizerError?: string;
  files: string[];
}

/** Reads what `prott5 info --model` shows; `model` is a folder or a hub id (downloaded into the cache once). */
export async function modelInfo(model: string, hub: HubOptions = {}): Promise<ModelInfo> {
  const folder = !existsSync(model) && isHubId(model) ? await resolveModel(model, hub) : resolve(model);
  const files = new DirectoryFiles(folder);
  const ckpt = await openCheckpoint(files);
  try {
    const f = ckpt.family;
    let parameters = 0;
    const dtypes: Record<string, number> = {};
    for (const t of ckpt.tensors.values()) {
      parameters += t.shape.reduce((a, b) => a * b, 1);
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    }
    const raw = (await readJsonFile(files, 'config.json')) as { _name_or_path?: unknown } | null;
    const hint = [model, folder, typeof raw?._name_or_path === 'string' ? raw._name_or_path : ''].join(' ');
    const v = f.variant?.(ckpt.config, hint) ?? { name: f.name };
    const tok = await f.tokenizer(files, ckpt.config).catch((e: Error) => {
      if (e instanceof TokenizerError) return e;
      throw e;
    });
    return {
      model,
      folder,
      family: f.name,
      variant: v.name,
      ...(v.note ? { note: v.note } : {}),
      description: f.describe(ckpt.config),
      summary: f.summary(ckpt.config),
      hiddenSize: f.hiddenSize(ckpt.config),
      parameters,
      dtypes,
      tensors: ckpt.tensors.size,
      inputs: tok instanceof TokenizerError ? [] : (tok.modes ?? ['aa']),
      ...(tok instanceof TokenizerError ? { tokenizerError: tok.message } : {}),
      files: ckpt.files,
    };
  } finally {
    await ckpt.close();
  }
}

/** "1.2 M" style, with the exact count beside it. */
function count(n: number): string {
  const short = n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n}`;
  return `${short} (${n.toLocaleString('en-US')})`;
}

export function formatModelInfo(m: ModelInfo): string {
  return [
    `model:        ${m.model}${m.folder !== m.model ? ` (${m.folder})` : ''}`,
    `family:       ${m.family} — ${m.description}`,
    `variant:      ${m.variant}${m.note ? ` (${m.note})` : ''}`,
    `dims:         ${m.summary}; embeddings ${m.hiddenSize} wide`,
    `parameters:   ${count(m.parameters)} in the encoder's tensors`,
    m.tokenizerError ? `input:        none: ${m.tokenizerError}` : `input:        ${m.inputs.join(', ')}${m.inputs.length > 1 ? ` (embed --input; default ${m.inputs[0]})` : ''}`,
    `weights:      ${Object.entries(m.dtypes).map(([d, n]) => `${d} (${n} tensor${n === 1 ? '' : 's'})`).join(', ')} in ${m.files.join(', ')}`,
  ].join('\n');
}
