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
  PROTT5_ADAPTER: "adapter choice in Node: 'auto' (a GPU, then llvmpipe, then SwiftShader), 'hardware', 'llvmpipe', 'swiftshader'",
  PROTT5_MAX_BUFFER_BYTES: "caps any one GPU buffer below the device's limit (to share a GPU, or to test the limits)",
  PROTT5_CACHE: 'cache root for hub downloads and tuning choices (else $XDG_CACHE_HOME/prott5-webgpu, else ~/.cache/prott5-webgpu)',
  PROTT5_DRIVER_LOG: "'1': the CLI keeps every line native code (Dawn, the Vulkan drivers) prints while it asks for an adapter, the two harmless warnings included",
  PROTT5_DOWNLOAD_WAIT: 'seconds a process waits for another one downloading the same model into the cache (default 3600)',
  HF_ENDPOINT: 'the hub to download from (default https://huggingface.co)',
  HF_TOKEN: 'sent as a bearer token to the hub',
} as const;

export type AdapterMode = 'auto' | 'hardware' | 'llvmpipe' | 'swiftshader';
const MODES: readonly AdapterMode[] = ['auto', 'hardware', 'llvmpipe', 'swiftshader'];

export interface Settings {
  adapter: AdapterMode;
  maxBufferBytes?: number;
  /** PROTT5_DRIVER_LOG=1: print all native driver output (src/gpu/node-stderr.ts drops none). */
  driverLog: boolean;
}

/** The engine's settings from `env`; a malformed value is ignored for the default, as shells leave stray values. */
export function readSettings(env: Env = processEnv()): Settings {
  const adapter = MODES.find((m) => m === env.PROTT5_ADAPTER) ?? 'auto';
  const cap = Number(env.PROTT5_MAX_BUFFER_BYTES);
  return { adapter, maxBufferBytes: Number.isFinite(cap) && cap > 0 ? cap : undefined, driverLog: env.PROTT5_DRIVER_LOG === '1' };
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


/** What kind of adapter this is, from its description: a CPU driver (named) or a GPU. */
export function softwareDriver(a: { architecture: string; description: string; backend: string; vendor?: string }): 'swiftshader' | 'llvmpipe' | null {
  const text = `${a.architecture} ${a.description} ${a.backend}`;
  if (/swiftshader/i.test(text)) return 'swiftshader';
  if (/llvmpipe|lavapipe/i.test(text)) return 'llvmpipe';
  return null;
}

/** What an adapter is: a GPU, or one of the two CPU Vulkan drivers. */
export type AdapterKind = 'hardware' | 'llvmpipe' | 'swiftshader';

/** One Vulkan driver manifest (ICD JSON) found on the machine. */
export interface IcdManifest {
  path: string;
  /** ICD.library_path as written in the manifest. */
  libraryPath: string;
  /** ICD.api_version ("1.4.305"), '' when absent. */
  apiVersion: string;
}

/** Where the Vulkan loader looks for driver manifests on Linux, in its own order. */
export function icdDirs(env: Env = processEnv()): string[] {
  const home = env.HOME ?? '';
  const config = [env.XDG_CONFIG_HOME || (home && `${home}/.config`), ...(env.XDG_CONFIG_DIRS || '/etc/xdg').split(':')];
  const data = [env.XDG_DATA_HOME || (home && `${home}/.local/share`), ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':')];
  const dirs = [...config.filter(Boolean).map((d) => `${d}/vulkan/icd.d`), '/etc/vulkan/icd.d', ...data.filter(Boolean).map((d) => `${d}/vulkan/icd.d`)];
  return [...new Set(dirs)];
}

/** The driver a manifest loads: SwiftShader, Mesa's lavapipe/llvmpipe, or (anything else) a GPU's. */
export function icdKind(m: Pick<IcdManifest, 'path' | 'libraryPath'>): AdapterKind {
  const text = `${m.path} ${m.libraryPath}`;
  if (/swiftshader/i.test(text)) return 'swiftshader';
  if (/lvp_icd|libvulkan_lvp/i.test(text)) return 'llvmpipe';
  return 'hardware';
}

/**
 * Whether Dawn accepts this lavapipe: Mesa ≥ 24 (Vulkan 1.3+ in its manifest) has the dynamic
 * indexing features Dawn requires; Debian 12's own Mesa 22.3 (Vulkan 1.1) is refused, with three
 * lines printed by native code on every start, so it is never asked.
 */
export function llvmpipeUsable(m: Pick<IcdManifest, 'apiVersion'>): boolean {
  const [major, minor] = m.apiVersion.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 3);
}

/** One adapter request of a plan: the loader variables to set around it, and why it is tried. */
export interface AdapterAttempt {
  kind: AdapterKind;
  /** Loader variables for the request (undefined: unset); {} is the user's own environment. */
  vars: Record<string, string | undefined>;
  /** Accept only an adapter of `kind` (a GPU request that yields a CPU driver is not a GPU). */
  strict: boolean;
  reason: string;
}

export interface AdapterProbe {
  platform: string;
  mode: AdapterMode;
  /** Driver manifests found (icdDirs), with their contents. */
  manifests: IcdManifest[];
  /** A GPU device node exists (/dev/dri/renderD*, /dev/nvidia*): without one no GPU driver is asked (it would only print). */
  gpuNode: boolean;
  /** SwiftShader's manifest, if installed. */
  swiftshader: string | null;
  /** The user's own VK_ICD_FILENAMES / VK_DRIVER_FILES. */
  userIcds?: string;
}

const LLVMPIPE_WHY = "llvmpipe is the faster CPU driver (about 4x SwiftShader's arithmetic; bench/RESULTS.md)";

/**
 * The adapter requests to make, in order, for `mode` on this machine: a GPU first, then llvmpipe,
 * then SwiftShader for 'auto'; only the one asked for otherwise. The user's own driver list
 * (VK_ICD_FILENAMES) is used as it is, with no fallback of ours. Pure: the caller reads the disk.
 */
export function planAdapters(p: AdapterProbe): AdapterAttempt[] {
  if (p.userIcds) return [{ kind: 'hardware', vars: {}, strict: false, reason: `the drivers VK_ICD_FILENAMES names (${p.userIcds})` }];
  const plan: AdapterAttempt[] = [];
  const want = (k: AdapterKind) => p.mode === 'auto' || p.mode === k;
  if (want('hardware')) {
    if (p.platform !== 'linux') plan.push({ kind: 'hardware', vars: {}, strict: p.mode === 'hardware', reason: 'the system GPU' });
    else {
      const gpus = p.manifests.filter((m) => icdKind(m) === 'hardware').map((m) => m.path);
      if (gpus.length && p.gpuNode) plan.push({ kind: 'hardware', vars: { VK_ICD_FILENAMES: gpus.join(':'), VK_DRIVER_FILES: undefined }, strict: true, reason: 'a GPU' });
    }
  }
  if (want('llvmpipe')) {
    const lvp = p.manifests.find((m) => icdKind(m) === 'llvmpipe' && llvmpipeUsable(m));
    if (lvp) plan.push({ kind: 'llvmpipe', vars: { VK_ICD_FILENAMES: lvp.path, VK_DRIVER_FILES: undefined }, strict: false, reason: p.mode === 'llvmpipe' ? 'PROTT5_ADAPTER=llvmpipe' : `no GPU; ${LLVMPIPE_WHY}` });
  }
  if (want('swiftshader') && p.swiftshader) {
    const why = p.mode === 'swiftshader' ? 'PROTT5_ADAPTER=swiftshader' : 'no GPU and no llvmpipe recent enough for Dawn (Mesa 24 or later; `npm run setup` installs it on Debian 12)';
    plan.push({ kind: 'swiftshader', vars: { VK_ICD_FILENAMES: p.swiftshader, VK_DRIVER_FILES: undefined }, strict: false, reason: why });
  }
  return plan;
}
