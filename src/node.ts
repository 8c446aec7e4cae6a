// The Node entry point of prott5-webgpu. Only this module (and src/cli) may import Node
// modules or the Dawn binding `webgpu`.
import { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
import { FileTuneStore } from './gpu/node-tune-store.js';
import type { Runtime } from './gpu/runtime.js';
import { ProtT5Model, type LoadOptions } from './embed/model.js';
import { openCheckpoint } from '../weights/checkpoint.js';
import { DirectoryFiles } from '../weights/node-files.js';
import type { ModelFiles } from '../weights/source.js';

export * from './errors.js';
export { ProtT5Model } from './embed/model.js';
export type { EmbedOptions, EmbedProgress, Embedding, EmbeddingTensor, SequenceInput, LoadOptions } from './embed/model.js';
export type { T5Config } from './models/t5/config.js';
export { PROT_T5_XL, parseT5Config } from './models/t5/config.js';
export { tokenize } from './tokenizers/prott5.js';
export { PROTTRANS_LIMITS, planBatches, type BatchLimits } from './embed/batching.js';
export { Runtime } from './gpu/runtime.js';
export { Autotuner, MemoryTuneStore, type TuneStore } from './gpu/tuner.js';
export { FileTuneStore } from './gpu/node-tune-store.js';
export { createNodeRuntime, type NodeGpuOptions } from './gpu/node-gpu.js';
export { parseFasta, readFasta, type FastaRecord } from './embed/fasta.js';
export type { ByteSource, ModelFiles } from '../weights/source.js';

export interface NodeLoadOptions extends LoadOptions, NodeGpuOptions {
  /** Use this runtime (device) instead of creating one; the model will not destroy it. */
  runtime?: Runtime;
}

/**
 * Loads a ProtT5 (T5 encoder) model from a folder holding config.json and model.safetensors,
 * a sharded model.safetensors.index.json, or pytorch_model.bin, or from any ModelFiles.
 */
export async function loadProtT5(dirOrFiles: string | ModelFiles, options: NodeLoadOptions = {}): Promise<ProtT5Model> {
  const files = typeof dirOrFiles === 'string' ? new DirectoryFiles(dirOrFiles) : dirOrFiles;
  const ckpt = await openCheckpoint(files);
  const rt = options.runtime ?? (await createNodeRuntime(options).catch(async (e) => {
    await ckpt.close();
    throw e;
  }));
  try {
    const tuneStore = options.tuneStore ?? (options.autotune === false ? undefined : new FileTuneStore());
    return await ProtT5Model.fromCheckpoint(rt, ckpt, !options.runtime, { ...options, tuneStore });
  } catch (e) {
    if (!options.runtime) rt.destroy();
    throw e;
  }
}
