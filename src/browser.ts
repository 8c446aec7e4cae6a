// The browser entry point of prott5-webgpu: the same engine as src/node.ts, with the device
// from navigator.gpu and weights from a URL (Range requests), picked files or a folder handle.
// Nothing here (or below it) may import a Node module or the Dawn binding `webgpu`; the build
// and a test check dist/browser.js for both.
import { DeviceError } from './errors.js';
import { createBrowserRuntime, webgpuUnavailableReason, type BrowserGpuOptions } from './gpu/browser-gpu.js';
import { CacheTuneStore } from './gpu/browser-tune-store.js';
import type { Runtime } from './gpu/runtime.js';
import { checkOptionKeys, EmbeddingModel, type LoadOptions } from './embed/model.js';
import { openCheckpoint } from './models/checkpoint.js';
import { BlobFiles, DEFAULT_CACHE_NAME, UrlFiles, type UrlFilesOptions } from '../weights/browser-files.js';
import type { ModelFiles } from '../weights/source.js';

export * from './api.js';
export { createBrowserRuntime, webgpuUnavailableReason, type BrowserGpuOptions } from './gpu/browser-gpu.js';
export { CacheTuneStore, LocalStorageTuneStore } from './gpu/browser-tune-store.js';
export {
  UrlFiles, UrlSource, BlobFiles, BlobSource, DirectoryHandleFiles, clearModelCache, DEFAULT_CACHE_NAME,
  type UrlFilesOptions, type DownloadProgress,
} from '../weights/browser-files.js';

export interface BrowserLoadOptions extends LoadOptions, BrowserGpuOptions, UrlFilesOptions {
  /** Use this runtime (device) instead of creating one; the model will not destroy it. */
  runtime?: Runtime;
}

/** Every option loadProtT5 takes in a browser (the compiler checks this list against BrowserLoadOptions). */
const BROWSER_LOAD_KEYS = Object.keys({
  onProgress: 1, signal: 1, warmup: 1, autotune: 1, tuneStore: 1, strict: 1, onWarning: 1,
  powerPreference: 1, hardwareOnly: 1, cache: 1, onDownload: 1, headers: 1, retries: 1, fetch: 1, runtime: 1,
} satisfies Record<keyof BrowserLoadOptions, 1>);

/**
 * Loads a ProtT5 (T5 encoder) model in the browser from:
 * - a URL (string or URL) of a model folder: config.json and model.safetensors, a sharded
 *   model.safetensors.index.json, or pytorch_model.bin, fetched tensor by tensor with Range
 *   requests (`cache`, `onDownload` and `headers` apply here);
 * - the files the user picked (a FileList or File[], e.g. from <input webkitdirectory>);
 * - any ModelFiles (DirectoryHandleFiles for showDirectoryPicker(), BlobFiles, your own).
 */
export async function loadProtT5(
  source: string | URL | FileList | File[] | ModelFiles,
  options: BrowserLoadOptions = {},
): Promise<EmbeddingModel> {
  checkOptionKeys('loadProtT5()', options, BROWSER_LOAD_KEYS);
  options.signal?.throwIfAborted();
  // Say "no WebGPU" before downloading anything.
  const noGpu = options.runtime ? null : webgpuUnavailableReason();
  if (noGpu) throw new DeviceError(`no WebGPU: ${noGpu}`, { reason: 'no-navigator-gpu' });
  let files: ModelFiles;
  if (typeof source === 'string' || source instanceof URL) files = new UrlFiles(source, options);
  else if (Array.isArray(source) || (typeof FileList !== 'undefined' && source instanceof FileList)) files = new BlobFiles(source);
  else files = source as ModelFiles;
  const ckpt = await openCheckpoint(files);
  const rt = options.runtime ?? (await createBrowserRuntime(options).catch(async (e) => {
    await ckpt.close();
    throw e;
  }));
  try {
    // Kernel choices are measured once per adapter and kept in the Cache API, beside the weights.
    const cacheName = typeof options.cache === 'string' ? options.cache : DEFAULT_CACHE_NAME;
    const tuneStore = options.tuneStore ?? (options.autotune === false ? undefined : new CacheTuneStore(cacheName));
    return await EmbeddingModel.fromCheckpoint(rt, ckpt, !options.runtime, { ...options, tuneStore }, files);
  } catch (e) {
    if (!options.runtime) rt.destroy();
    throw e;
  }
}
