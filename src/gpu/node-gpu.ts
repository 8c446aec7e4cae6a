// Node only: a WebGPU device through Dawn (npm `webgpu`). The hardware adapter where there is
// one; otherwise SwiftShader (a CPU Vulkan driver shipped by Debian's chromium package),
// found automatically; otherwise an error that says what to install.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { DeviceError } from '../errors.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

/** Where Debian/Ubuntu packages put SwiftShader's Vulkan ICD. */
export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

export interface NodeGpuOptions extends RuntimeOptions {
  /** 'auto' (default): hardware, then SwiftShader. 'hardware': never fall back. 'swiftshader': force it. */
  adapter?: 'auto' | 'hardware' | 'swiftshader';
  powerPreference?: GPUPowerPreference;
}

let globalsInstalled = false;

/** The Vulkan loader complains on stderr when XDG_RUNTIME_DIR is unset (servers, CI): give it a private one. */
function quietRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  try {
    const dir = join(tmpdir(), `prott5-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Only cosmetic.
  }
}
/**
 * Every Dawn instance made stays referenced for the life of the process: if the GC collects
 * one (the hardware probe that found nothing), Dawn's event pump later dereferences it and
 * crashes the process (seen with webgpu 0.6.2: SIGSEGV in InstanceBase::ProcessEvents).
 */
const instances: GPU[] = [];

async function requestAdapter(powerPreference?: GPUPowerPreference): Promise<GPUAdapter | null> {
  if (!globalsInstalled) {
    quietRuntimeDir();
    // GPUBufferUsage, GPUMapMode, ... as in a browser.
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  const gpu = create([]) as GPU;
  instances.push(gpu);
  return gpu.requestAdapter({ powerPreference });
}

export async function createNodeRuntime(options: NodeGpuOptions = {}): Promise<Runtime> {
  const mode = options.adapter ?? (process.env.PROTT5_ADAPTER as NodeGpuOptions['adapter']) ?? 'auto';
  const icdVar = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  let adapter: GPUAdapter | null = null;
  let backend = 'dawn';
  if (mode !== 'swiftshader') adapter = await requestAdapter(options.powerPreference);
  if (!adapter && mode !== 'hardware' && !icdVar) {
    const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (icd) {
      // The Vulkan loader reads this when Dawn creates its next instance.
      process.env.VK_ICD_FILENAMES = icd;
      adapter = await requestAdapter(options.powerPreference);
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
  if (icdVar && /swiftshader/i.test(icdVar)) backend = 'dawn/swiftshader';
  // PROTT5_MAX_BUFFER_BYTES caps any one buffer below the device's limit (to share a GPU).
  const cap = Number(process.env.PROTT5_MAX_BUFFER_BYTES);
  const maxBufferBytes = options.maxBufferBytes ?? (Number.isFinite(cap) && cap > 0 ? cap : undefined);
  return createRuntime(adapter, backend, { ...options, maxBufferBytes });
}
