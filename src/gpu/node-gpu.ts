// Node only: a WebGPU device through Dawn (npm `webgpu`). A GPU where there is one; otherwise
// Mesa's llvmpipe (the faster CPU Vulkan driver, when it is recent enough for Dawn); otherwise
// SwiftShader (from Debian's chromium package); otherwise an error that says what to install.
// The plan is env.planAdapters; each request names its drivers, so a driver Dawn refuses (Debian
// 12's old lavapipe) is never loaded and prints nothing. Settings come from
// src/gpu/env.ts. The Vulkan loader reads VK_ICD_FILENAMES when Dawn discovers adapters, so it
// is set only around that request and put back after it: a later 'hardware' request in the same
// process sees the user's own environment.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceError } from '../errors.js';
import { icdDirs, planAdapters, readSettings, softwareDriver, SWIFTSHADER_ICDS, userIcds, type AdapterKind, type AdapterMode, type IcdManifest } from './env.js';
import { quietNativeStderr } from './node-stderr.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

export interface NodeGpuOptions extends RuntimeOptions {
  /** 'auto' (default, or $PROTT5_ADAPTER): a GPU, then llvmpipe, then SwiftShader. 'hardware' | 'llvmpipe' | 'swiftshader': that one only. */
  adapter?: AdapterMode;
  powerPreference?: GPUPowerPreference;
  /**
   * Drop the two harmless warnings Dawn's native code prints on every adapter request on
   * llvmpipe and GPUs (src/gpu/node-stderr.ts; anything else a driver says still reaches stderr).
   * The CLI sets it; it swaps descriptor 2 for a moment, so only a caller that opens no files on
   * other threads meanwhile should.
   */
  quietDrivers?: boolean;
}

let globalsInstalled = false;

type Dawn = typeof import('webgpu');
let dawn: Promise<Dawn> | null = null;

/**
 * The Dawn binding (npm `webgpu`), imported on first use: it is an optional dependency, so an
 * app that never runs in Node can leave it out (npm install --omit=optional).
 */
export function loadDawn(): Promise<Dawn> {
  dawn ??= import('webgpu').catch((e: unknown) => {
    dawn = null;
    const missing = /ERR_MODULE_NOT_FOUND|Cannot find (package|module)/.test(`${(e as { code?: string }).code} ${(e as Error).message}`);
    throw new DeviceError(
      missing
        ? 'the npm package "webgpu" (Dawn, the WebGPU implementation for Node) is not installed: it is an optional dependency of prott5-webgpu; install it with: npm install webgpu'
        : `the npm package "webgpu" (Dawn) could not be loaded: ${(e as Error).message}`,
      { reason: missing ? 'webgpu-not-installed' : 'webgpu-load-failed' },
      { cause: e },
    );
  });
  return dawn;
}

/**
 * Every Dawn instance made stays referenced for the life of the process: if the GC collects
 * one (the hardware probe that found nothing), Dawn's event pump later dereferences it and
 * crashes the process (seen with webgpu 0.6.2: SIGSEGV in InstanceBase::ProcessEvents).
 */
const instances: GPU[] = [];

/** Adapter requests run one at a time: each sets the loader's variables for its own duration. */
let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` with `vars` set in process.env, then restores every one as it was. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const put = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
  for (const [k, v] of Object.entries(vars)) put(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) put(k, v);
  }
}

/** The Vulkan loader complains on stderr when XDG_RUNTIME_DIR is unset (servers, CI): a private one for the request. */
function runtimeDir(): Record<string, string> {
  if (process.env.XDG_RUNTIME_DIR) return {};
  try {
    const dir = join(tmpdir(), `prott5-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { XDG_RUNTIME_DIR: dir };
  } catch {
    return {}; // only cosmetic
  }
}

async function requestAdapter(vars: Record<string, string | undefined>, powerPreference: GPUPowerPreference | undefined, quiet: boolean): Promise<GPUAdapter | null> {
  const { create, globals } = await loadDawn();
  const run = queue.then(() =>
    withEnv({ ...runtimeDir(), ...vars }, async () => {
      if (!globalsInstalled) {
        // GPUBufferUsage, GPUMapMode, ... as in a browser (Dawn's own classes, not process state).
        Object.assign(globalThis, globals);
        globalsInstalled = true;
      }
      // Dawn enumerates the adapters inside requestAdapter's synchronous part: that is where
      // its native warnings are printed, so that is what the capture wraps.
      const ask = () => {
        const gpu = create([]) as GPU;
        instances.push(gpu);
        return gpu.requestAdapter({ powerPreference });
      };
      return quiet ? quietNativeStderr(ask) : ask();
    }),
  );
  queue = run.catch(() => undefined);
  return run;
}

/** The driver manifests in the loader's folders, read (unreadable or malformed ones skipped). */
function readManifests(): IcdManifest[] {
  const out: IcdManifest[] = [];
  for (const dir of icdDirs()) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const icd = (JSON.parse(readFileSync(path, 'utf8')) as { ICD?: { library_path?: unknown; api_version?: unknown } }).ICD;
        if (typeof icd?.library_path === 'string') out.push({ path, libraryPath: icd.library_path, apiVersion: typeof icd.api_version === 'string' ? icd.api_version : '' });
      } catch {
        // not a manifest we can read: the loader would skip it too
      }
    }
  }
  return out;
}

/** A GPU device node: DRM render nodes (Mesa, AMD, Intel) or NVIDIA's proprietary ones. */
function hasGpuNode(): boolean {
  try {
    if (readdirSync('/dev/dri').some((n) => n.startsWith('renderD'))) return true;
  } catch {
    // no /dev/dri
  }
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
}

/** How the runtime's adapter was chosen: its kind and why (printed by `prott5 info`). */
export interface AdapterChoice {
  kind: AdapterKind;
  reason: string;
}

export async function createNodeRuntime(options: NodeGpuOptions = {}): Promise<Runtime> {
  const settings = readSettings();
  const { adapter, backend, choice } = await chooseAdapter(options);
  return createRuntime(adapter, backend, { ...options, maxBufferBytes: options.maxBufferBytes ?? settings.maxBufferBytes }, choice);
}

/**
 * A Dawn adapter as createNodeRuntime picks it (PROTT5_ADAPTER, the plan), for other WebGPU
 * users in the process (the bench's tfjs peer), which then run on the same driver as ours.
 */
export async function requestNodeAdapter(options: NodeGpuOptions = {}): Promise<GPUAdapter> {
  return (await chooseAdapter(options)).adapter;
}

async function chooseAdapter(options: NodeGpuOptions): Promise<{ adapter: GPUAdapter; backend: string; choice: AdapterChoice }> {
  const settings = readSettings();
  const mode = options.adapter ?? settings.adapter;
  const plan = planAdapters({
    platform: process.platform,
    mode,
    manifests: process.platform === 'linux' ? readManifests() : [],
    gpuNode: hasGpuNode(),
    swiftshader: SWIFTSHADER_ICDS.find((p) => existsSync(p)) ?? null,
    userIcds: userIcds(),
  });
  for (const attempt of plan) {
    const adapter = await requestAdapter(attempt.vars, options.powerPreference, options.quietDrivers ?? false);
    if (!adapter) continue;
    const info = adapter.info;
    const found = softwareDriver({ architecture: info?.architecture ?? '', description: info?.description ?? '', backend: '' }) ?? 'hardware';
    if (attempt.strict && found !== attempt.kind) continue;
    const backend = found === 'hardware' ? 'dawn' : `dawn/${found}`;
    return { adapter, backend, choice: { kind: found, reason: attempt.reason } };
  }
  throw new DeviceError(noAdapterMessage(mode, Boolean(userIcds())), { mode });
}

function noAdapterMessage(mode: AdapterMode, userSet: boolean): string {
  if (userSet) return `no WebGPU adapter from the Vulkan drivers VK_ICD_FILENAMES names (${userIcds()}); unset it to let prott5 choose`;
  const install = 'On Debian/Ubuntu "npm run setup" installs the CPU drivers (Mesa\'s llvmpipe, and SwiftShader from the chromium package)';
  switch (mode) {
    case 'hardware':
      return 'no GPU WebGPU adapter was found (PROTT5_ADAPTER=hardware: Dawn/Vulkan saw no GPU)';
    case 'llvmpipe':
      return `no llvmpipe adapter (PROTT5_ADAPTER=llvmpipe): Dawn needs Mesa 24 or later (Debian 12: mesa-vulkan-drivers from bookworm-backports). ${install}.`;
    case 'swiftshader':
      return `no SwiftShader adapter (PROTT5_ADAPTER=swiftshader): install Debian's chromium (it provides ${SWIFTSHADER_ICDS[0]}). ${install}.`;
    default:
      return `no WebGPU adapter: this machine has no GPU that Dawn can use and no CPU driver. ${install}.`;
  }
}
