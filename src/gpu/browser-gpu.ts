// Browser only: a WebGPU device from navigator.gpu. No Node module and no `webgpu` import may
// appear here (the browser bundle is checked for both). Errors say what the user can do.
import { DeviceError } from '../errors.js';
import { createRuntime, type Runtime } from './runtime.js';

export interface BrowserGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Refuse a fallback (software) adapter such as SwiftShader. Default false. */
  hardwareOnly?: boolean;
}

/** Why WebGPU is unavailable here, or null if navigator.gpu exists. */
export function webgpuUnavailableReason(): string | null {
  const g = globalThis as { navigator?: { gpu?: unknown }; isSecureContext?: boolean };
  if (g.navigator?.gpu) return null;
  if (g.isSecureContext === false) {
    return 'WebGPU needs a secure context: open this page over https:// or from http://localhost, not a plain http:// address.';
  }
  return (
    'this browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge (113+), ' +
    'Safari 26+, or Firefox 141+ (Windows); on Linux Chrome may need chrome://flags/#enable-unsafe-webgpu.'
  );
}

export async function createBrowserRuntime(options: BrowserGpuOptions = {}): Promise<Runtime> {
  const why = webgpuUnavailableReason();
  if (why) throw new DeviceError(`no WebGPU: ${why}`, { reason: 'no-navigator-gpu' });
  const gpu = (navigator as Navigator & { gpu: GPU }).gpu;
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  } catch (e) {
    throw new DeviceError(`navigator.gpu.requestAdapter() failed: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!adapter) {
    throw new DeviceError(
      'WebGPU is present but the browser gave no adapter (the GPU may be blocklisted or disabled; check chrome://gpu)',
      { reason: 'no-adapter' },
    );
  }
  const fallback = Boolean((adapter.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  if (fallback && options.hardwareOnly) {
    throw new DeviceError('the only WebGPU adapter is a software fallback and hardwareOnly was set', { reason: 'fallback-only' });
  }
  return createRuntime(adapter, fallback ? 'browser/fallback' : 'browser');
}
