// `prott5 info --model X`: what a model folder (or hub id, fetched into the cache as embed does)
// holds, read from config.json and the weight files' headers only — no GPU, no weights read:
// its family (picked from config.json by the registry), dims, parameter count and weight dtypes.
import { openCheckpoint } from '../models/checkpoint.js';
import { resolveModel, type HubOptions } from '../../weights/hub.js';
import { DirectoryFiles } from '../../weights/node-files.js';

export interface ModelInfo {
  model: string;
  folder: string;
  family: string;
  description: string;
  summary: string;
  hiddenSize: number;
  /** Elements of every tensor the encoder reads (each stored tensor once: ALBERT's shared layer once). */
  parameters: number;
  /** Tensors per stored dtype ('F16': 201). */
  dtypes: Record<string, number>;
  files: string[];
}

export async function modelInfo(model: string, hub: HubOptions = {}): Promise<ModelInfo> {
  const folder = await resolveModel(model, hub);
  const ckpt = await openCheckpoint(new DirectoryFiles(folder));
  try {
    const f = ckpt.family;
    let parameters = 0;
    const dtypes: Record<string, number> = {};
    for (const t of ckpt.tensors.values()) {
      parameters += t.shape.reduce((a, b) => a * b, 1);
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    }
    return { model, folder, family: f.name, description: f.describe(ckpt.config), summary: f.summary(ckpt.config), hiddenSize: f.hiddenSize(ckpt.config), parameters, dtypes, files: ckpt.files };
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
    `dims:         ${m.summary}; embeddings ${m.hiddenSize} wide`,
    `parameters:   ${count(m.parameters)} in the encoder's tensors`,
    `weights:      ${Object.entries(m.dtypes).map(([d, n]) => `${d} (${n} tensor${n === 1 ? '' : 's'})`).join(', ')} in ${m.files.join(', ')}`,
  ].join('\n');
}
