// The Node entry point of prott5-webgpu. Only this module (and src/cli) may import Node
// modules or the Dawn binding `webgpu` (an optional dependency, imported on first use).
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IOError } from './errors.js';
import { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
import { FileTuneStore } from './gpu/node-tune-store.js';
import type { Runtime } from './gpu/runtime.js';
import { checkOptionKeys, EmbeddingModel, type LoadOptions } from './embed/model.js';
import { openCheckpoint } from './models/checkpoint.js';
import { UrlFiles } from '../weights/browser-files.js';
import { downloadModel, parseHubId, type HubOptions } from '../weights/hub.js';
import { DirectoryFiles } from '../weights/node-files.js';
import type { ModelFiles } from '../weights/source.js';

export * from './api.js';
export { FileTuneStore } from './gpu/node-tune-store.js';
export { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
export { DirectoryFiles, FileSource } from '../weights/node-files.js';
export { downloadModel, type HubOptions } from '../weights/hub.js';

export interface NodeLoadOptions extends LoadOptions, NodeGpuOptions {
  /** Use this runtime (device) instead of creating one; the model will not destroy it. */
  runtime?: Runtime;
  /** For a hub id: the revision, endpoint ($HF_ENDPOINT), cache folder ($PROTT5_CACHE), token ($HF_TOKEN), retries, timeout. */
  hub?: Pick<HubOptions, 'revision' | 'endpoint' | 'cacheDir' | 'token' | 'retries' | 'timeoutMs'>;
}

/** Every option loadProtT5 takes in Node (the compiler checks this list against NodeLoadOptions). */
const NODE_LOAD_KEYS = Object.keys({
  onProgress: 1, signal: 1, warmup: 1, autotune: 1, tuneStore: 1, strict: 1, onWarning: 1,
  adapter: 1, powerPreference: 1, quietDrivers: 1, maxBufferBytes: 1, runtime: 1, hub: 1,
} satisfies Record<keyof NodeLoadOptions, 1>);

/**
 * The folder of the random-weight demo model shipped in the package (examples/demo-model): a
 * 2-layer ProtT5-shaped model for trying the API and for tests. Its embeddings mean nothing.
 */
export function demoModel(): string {
  // From dist/node.js (or a bundle of it elsewhere): the nearest folder above holding it.
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'examples', 'demo-model');
    if (existsSync(join(candidate, 'config.json'))) return candidate;
    if (dir === dirname(dir)) throw new IOError(`the demo model (examples/demo-model) is not in the installed package above ${fileURLToPath(import.meta.url)}`);
  }
}

/** A string source: a URL, an existing folder, a hub id (downloaded into the cache), or a folder that is missing (an IOError). */
async function resolveSource(source: string, options: NodeLoadOptions): Promise<ModelFiles> {
  if (/^https?:\/\//i.test(source)) return new UrlFiles(source);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(source);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return new DirectoryFiles(source);
  if (st) throw new IOError(`${resolve(source)} is a file, not a model folder: pass the folder that holds config.json and the weights`, { file: resolve(source) });
  if (parseHubId(source)) {
    const onProgress = options.onProgress;
    const dir = await downloadModel(source, {
      ...options.hub,
      signal: options.signal,
      onProgress: onProgress && ((d) => onProgress({ phase: 'download', file: d.file, loaded: d.done, total: d.total, finished: d.finished })),
    });
    return new DirectoryFiles(dir);
  }
  throw new IOError(`the model folder ${resolve(source)} does not exist (pass a folder holding config.json and the weights, a hub id such as Rostlab/prot_t5_xl_half_uniref50-enc, or an http(s) URL)`, {
    file: resolve(source),
  });
}

/**
 * Loads a ProtT5 (T5 encoder) model from a folder holding config.json and model.safetensors,
 * a sharded model.safetensors.index.json, or pytorch_model.bin; from a hub id
 * (`owner/name[@revision]`, downloaded once into the cache, resumed and sha256-checked like the
 * CLI's `--model`); from an http(s) URL of such a folder (Range requests); or from any ModelFiles.
 */
export async function loadProtT5(source: string | URL | ModelFiles, options: NodeLoadOptions = {}): Promise<EmbeddingModel> {
  checkOptionKeys('loadProtT5()', options, NODE_LOAD_KEYS);
  options.signal?.throwIfAborted();
  const files = source instanceof URL ? new UrlFiles(source) : typeof source === 'string' ? await resolveSource(source, options) : source;
  const ckpt = await openCheckpoint(files);
  const rt = options.runtime ?? (await createNodeRuntime(options).catch(async (e) => {
    await ckpt.close();
    throw e;
  }));
  try {
    const tuneStore = options.tuneStore ?? (options.autotune === false ? undefined : new FileTuneStore());
    return await EmbeddingModel.fromCheckpoint(rt, ckpt, !options.runtime, { ...options, tuneStore }, files);
  } catch (e) {
    if (!options.runtime) rt.destroy();
    throw e;
  }
}
