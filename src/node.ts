// The Node entry point of prott5-webgpu. Only this module (and src/cli) may import Node
// modules or the Dawn binding `webgpu`.
import { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
import { FileTuneStore } from './gpu/node-tune-store.js';
import type { Runtime } from './gpu/runtime.js';
import { EmbeddingModel, type LoadOptions } from './embed/model.js';
import { openCheckpoint } from './models/checkpoint.js';
import { DirectoryFiles } from '../weights/node-files.js';
import type { ModelFiles } from '../weights/source.js';

export * from './api.js';
export { FileTuneStore } from './gpu/node-tune-store.js';
export { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
export { DirectoryFiles, FileSource } from '../weights/node-files.js';

export interface NodeLoadOptions extends LoadOptions, NodeGpuOptions {
  /** Use this runtime (device) instead of creating one; the model will not destroy it. */
  runtime?: Runtime;
}

/**
 * Loads a ProtT5 (T5 encoder) model from a folder holding config.json and model.safetensors,
 * a sharded model.safetensors.index.json, or pytorch_model.bin, or from any ModelFiles.
 */
export async function loadProtT5(dirOrFiles: string | ModelFiles, options: NodeLoadOptions = {}): Promise<EmbeddingModel> {
  const files = typeof dirOrFiles === 'string' ? new DirectoryFiles(dirOrFiles) : dirOrFiles;
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
