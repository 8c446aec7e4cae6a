// Node only: a WebGPU device through Dawn (npm `webgpu`). The hardware adapter where there is
// one; otherwise SwiftShader (a CPU Vulkan driver shipped by Debian's chromium package),
// found automatically; otherwise an error that says what to install. Settings come from
// src/gpu/env.ts. The Vulkan loader reads VK_ICD_FILENAMES when Dawn discovers adapters, so it
// is set only around that request and put back after it: a later 'hardware' request in the same
// process sees the user's own environment.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceError } from '../errors.js';
import { readSettings, SWIFTSHADER_ICDS, swiftShaderEnv, userIcds, type AdapterMode } from './env.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

export interface NodeGpuOptions extends RuntimeOptions {
  /** 'auto' (default, or $PROTT5_ADAPTER): hardware, then SwiftShader. 'hardware': never fall back. 'swiftshader': force it. */
  adapter?: AdapterMode;
  powerPreference?: GPUPowerPreference;
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

async function requestAdapter(vars: Record<string, string | undefined>, powerPreference?: GPUPowerPreference): Promise<GPUAdapter | null> {
  const { create, globals } = await loadDawn();
  const run = queue.then(() =>
    withEnv({ ...runtimeDir(), ...vars }, async () => {
      if (!globalsInstalled) {
        // GPUBufferUsage, GPUMapMode, ... as in a browser (Dawn's own classes, not process state).
        Object.assign(globalThis, globals);
        globalsInstalled = true;
      }
      const gpu = create([]) as GPU;
      instances.push(gpu);
      return gpu.requestAdapter({ powerPreference });
    }),
  );
  queue = run.catch(() => undefined);
  return run;
}

export async function createNodeRuntime(options: NodeGpuOptions = {}): Promise<Runtime> {
  const settings = readSettings();
  const mode = options.adapter ?? settings.adapter;
  let adapter: GPUAdapter | null = null;
  let backend = 'dawn';
  // The hardware request runs in the user's own environment (their VK_ICD_FILENAMES, if any).
  if (mode !== 'swiftshader') adapter = await requestAdapter({}, options.powerPreference);
  // A driver list the user set is theirs: no fallback of ours on top of it.
  if (!adapter && mode !== 'hardware' && !userIcds()) {
    const vars = swiftShaderEnv(existsSync);
    if (vars) {
      adapter = await requestAdapter(vars, options.powerPreference);
      backend = 'dawn/swiftshader';
    }
  }
  if (!adapter) {
    throw new DeviceError(
      mode === 'hardware'
        ? 'no hardware WebGPU adapter was found (Dawn/Vulkan saw no GPU)'
        : 'no WebGPU adapter: this machine has no GPU that Dawn can use and no SwiftShader driver. ' +
          'On Debian/Ubuntu install the CPU fallback with: sudo apt-get install libvulkan1 chromium ' +
          `(it provides ${SWIFTSHADER_ICDS[0]}); or run "npm run setup".`,
      { mode },
    );
  }
  const icds = userIcds();
  if (icds && /swiftshader/i.test(icds)) backend = 'dawn/swiftshader';
  return createRuntime(adapter, backend, { ...options, maxBufferBytes: options.maxBufferBytes ?? settings.maxBufferBytes });
}
