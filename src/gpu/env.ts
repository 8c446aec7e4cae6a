// The one environment module: every PROTT5_* variable, the cache root, which adapter to ask
// for, where the CPU Vulkan drivers live, and what kind of adapter a device turned out to be.
// It reads the environment it is given (default: the process's, where there is one) and
// changes nothing: no write to process.env, no global. No Node import (the browser bundles it).

export type Env = Readonly<Record<string, string | undefined>>;

/** The process's environment in Node; empty in a browser. */
export function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {};
}

/** Every variable the engine reads, and what it does. */
export const VARIABLES = {
  PROTT5_ADAPTER: "adapter choice in Node: 'auto' (hardware, then SwiftShader), 'hardware', 'swiftshader'",
  PROTT5_MAX_BUFFER_BYTES: "caps any one GPU buffer below the device's limit (to share a GPU, or to test the limits)",
  PROTT5_CACHE: 'cache root for hub downloads and tuning choices (else $XDG_CACHE_HOME/prott5-webgpu, else ~/.cache/prott5-webgpu)',
  PROTT5_DOWNLOAD_WAIT: 'seconds a process waits for another one downloading the same model into the cache (default 3600)',
  HF_ENDPOINT: 'the hub to download from (default https://huggingface.co)',
  HF_TOKEN: 'sent as a bearer token to the hub',
} as const;

export type AdapterMode = 'auto' | 'hardware' | 'swiftshader';
const MODES: readonly AdapterMode[] = ['auto', 'hardware', 'swiftshader'];

export interface Settings {
  adapter: AdapterMode;
  maxBufferBytes?: number;
}

/** The engine's settings from `env`; a malformed value is ignored for the default, as shells leave stray values. */
export function readSettings(env: Env = processEnv()): Settings {
  const adapter = MODES.find((m) => m === env.PROTT5_ADAPTER) ?? 'auto';
  const cap = Number(env.PROTT5_MAX_BUFFER_BYTES);
  return { adapter, maxBufferBytes: Number.isFinite(cap) && cap > 0 ? cap : undefined };
}

/** The cache root: $PROTT5_CACHE, else $XDG_CACHE_HOME/prott5-webgpu, else <home>/.cache/prott5-webgpu. */
export function cacheRoot(env: Env = processEnv(), home: string = env.HOME ?? env.USERPROFILE ?? '.'): string {
  if (env.PROTT5_CACHE) return env.PROTT5_CACHE;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME.replace(/\/+$/, '')}/prott5-webgpu`;
  return `${home.replace(/\/+$/, '')}/.cache/prott5-webgpu`;
}

/** How long to wait for another process's download of the same model: $PROTT5_DOWNLOAD_WAIT seconds, default an hour. */
export function downloadWaitMs(env: Env = processEnv()): number {
  const s = Number(env.PROTT5_DOWNLOAD_WAIT);
  return (env.PROTT5_DOWNLOAD_WAIT !== undefined && env.PROTT5_DOWNLOAD_WAIT !== '' && Number.isFinite(s) && s >= 0 ? s : 3600) * 1000;
}

/** Where Debian/Ubuntu packages put SwiftShader's Vulkan ICD (from the chromium package). */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'] as const;

/** The Vulkan driver list the user set, if any (the loader's own variables). */
export function userIcds(env: Env = processEnv()): string | undefined {
  return env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
}

/**
 * The Vulkan loader variables that point it at the first SwiftShader ICD that `exists` (for the
 * fallback adapter request only), or null if none is installed.
 */
export function swiftShaderEnv(exists: (path: string) => boolean): Record<string, string | undefined> | null {
  const icd = SWIFTSHADER_ICDS.find(exists);
  return icd ? { VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: undefined } : null;
}

/** What kind of adapter this is, from its description: a CPU driver (named) or a GPU. */
export function softwareDriver(a: { architecture: string; description: string; backend: string; vendor?: string }): 'swiftshader' | 'llvmpipe' | null {
  const text = `${a.architecture} ${a.description} ${a.backend}`;
  if (/swiftshader/i.test(text)) return 'swiftshader';
  if (/llvmpipe|lavapipe/i.test(text)) return 'llvmpipe';
  return null;
}
