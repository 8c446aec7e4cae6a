// The runtime core: one GPUDevice, a buffer pool, a pipeline cache keyed by shader text and
// override constants, and command recording that batches every dispatch of a forward pass
// into few submits.
// Errors surface as thrown typed errors: shader/pipeline creation rethrows with the variant
// name, uncaptured errors and device loss are rethrown at the next flush or read.
import { DeviceError, DeviceLostError, OutOfMemoryError } from '../errors.js';
import { ELEMENT_BYTES, Tensor, type TensorDType } from './tensor.js';
import { BufferPool } from './pool.js';
import { softwareDriver, type AdapterKind } from './env.js';

// GPUBufferUsage / GPUMapMode values from the WebGPU spec (the globals are absent in Node
// until the Dawn globals are installed, so the numbers are spelled out once here).
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

/** Uniform slots are 256-byte aligned (minUniformBufferOffsetAlignment ≤ 256 everywhere). */
const UNIFORM_SLOT = 256;
const UNIFORM_CHUNK = 64 * 1024;

/** What a user can do about a batch that does not fit, in both the CLI's and the API's words. */
const LOWER_BATCH = 'lower --max-residues or --max-batch (maxResidues / maxBatch in the API), or embed a sequence this long on a larger GPU';

export interface RuntimeOptions {
  /** Cap on any one buffer, below the device's own limit (to share a GPU, or to test the limits). */
  maxBufferBytes?: number;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  /** The adapter's smallest subgroup (lanes), where it says (adapter.info.subgroupMinSize). */
  subgroupMinSize?: number;
  backend: string;
  /** A GPU or which CPU driver, and why it was chosen (Node's adapter plan; in a browser, from the description). */
  kind: AdapterKind;
  reason: string;
}

export class Runtime {
  readonly pool: BufferPool;
  /** Shader text → override constants (canonical JSON) → pipeline. */
  private pipelines = new Map<string, Map<string, Promise<GPUComputePipeline>>>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformChunks: GPUBuffer[] = [];
  private uniformUsed: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private pendingError: Error | null = null;
  private pendingRelease: GPUBuffer[] = [];
  private timing: GPUQuerySet | null = null;
  private querySet: GPUQuerySet | null = null;
  private lostInfo: GPUDeviceLostInfo | null = null;
  /** Dispatches recorded and submits made since creation (for tests and benches). */
  stats = { dispatches: 0, submits: 0 };
  /** Called as each pipeline starts compiling (the loader's warm-up reports it as progress). */
  onCompile: ((name: string) => void) | undefined;

  /** Largest single buffer the engine will allocate: the device's limit, or less if asked. */
  readonly maxBufferBytes: number;

  constructor(readonly device: GPUDevice, options: RuntimeOptions, readonly adapter: AdapterSummary) {
    const deviceMax = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxBufferBytes = Math.min(deviceMax, options.maxBufferBytes ?? Infinity);
    // The pool rounds sizes up to its classes, but never past the cap: no buffer is over maxBufferBytes.
    this.pool = new BufferPool(device, this.maxBufferBytes);
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      // An allocation the device could not satisfy (over its total memory, not one buffer's
      // limit, which storageBuffer() checks first): typed so that a batch splits itself.
      const oom = typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError;
      this.pendingError ??= oom
        ? new OutOfMemoryError(`the GPU ran out of memory: ${err.message}; ${LOWER_BATCH}`)
        : new DeviceError(`GPU error: ${err.message}`);
    });
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws if the device was lost or reported an uncaptured error. */
  check(): void {
    if (this.lostInfo) {
      throw new DeviceLostError(`the GPU device was lost (${this.lostInfo.reason}): ${this.lostInfo.message || 'no message'}`, {
        reason: this.lostInfo.reason,
      });
    }
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = null;
      throw e;
    }
  }

  // ---- buffers and tensors ------------------------------------------------------------

  private storageBuffer(bytes: number, label: string, extraUsage = 0): GPUBuffer {
    this.check();
    const max = this.maxBufferBytes;
    if (bytes > max) {
      throw new OutOfMemoryError(
        `"${label}" needs a ${(bytes / 2 ** 20).toFixed(1)} MiB buffer, over this device's limit of ${(max / 2 ** 20).toFixed(1)} MiB; ${LOWER_BATCH}`,
        { label, bytes, limit: max },
      );
    }
    return this.pool.acquire(Math.max(4, bytes), Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC | extraUsage, label);
  }

  /** An uninitialised tensor from the pool. */
  empty(shape: readonly number[], dtype: TensorDType, label: string): Tensor {
    const bytes = shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[dtype];
    return new Tensor(this, this.storageBuffer(bytes, label), shape, dtype, label);
  }

  /** A tensor holding `data` (raw bytes in `dtype`; 16-bit data is padded to whole words). */
  upload(data: ArrayBufferView, shape: readonly number[], dtype: TensorDType, label: string): Tensor {
    const t = this.empty(shape, dtype, label);
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength !== t.byteLength) {
      t.release();
      throw new DeviceError(`upload "${label}": ${bytes.byteLength} bytes given, ${dtype}${JSON.stringify(shape)} needs ${t.byteLength}`);
    }
    const whole = bytes.byteLength & ~3;
    if (whole > 0) this.device.queue.writeBuffer(t.buffer, 0, bytes, 0, whole);
    if (whole < bytes.byteLength) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(whole));
      this.device.queue.writeBuffer(t.buffer, whole, tail);
    }
    return t;
  }

  /**
   * Returns a buffer to the pool at the next flush, not now: commands recorded but not yet
   * submitted may still use it, and an upload (queue.writeBuffer) into a reused buffer would
   * run before them.
   */
  releaseBuffer(buffer: GPUBuffer): void {
    this.pendingRelease.push(buffer);
  }

  // ---- pipelines ------------------------------------------------------------------------

  /**
   * The compute pipeline for WGSL `code` with override `constants`, compiled once and cached by
   * the text and constants themselves, so two different shaders never share an entry whatever
   * they are called. `name` labels the pipeline in errors and profiles. Kernels pass the same
   * (memoized) string each time, so a lookup does not rehash the text.
   */
  pipeline(name: string, text: string, constants?: Record<string, number>): Promise<GPUComputePipeline> {
    const ckey = constants ? JSON.stringify(Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : 1))) : '';
    let byConstants = this.pipelines.get(text);
    if (!byConstants) this.pipelines.set(text, (byConstants = new Map()));
    let p = byConstants.get(ckey);
    if (!p) {
      p = this.compile(name, text, constants);
      byConstants.set(ckey, p);
      const entries = byConstants;
      p.catch(() => entries.delete(ckey));
    }
    return p;
  }

  private async compile(name: string, code: string, constants?: Record<string, number>): Promise<GPUComputePipeline> {
    this.check();
    this.onCompile?.(name);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: name });
    const info = await module.getCompilationInfo();
    const scopeErr = await this.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || scopeErr) {
      const lines = code.split('\n');
      const msgs = errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`);
      throw new DeviceError(`shader "${name}" failed to compile:\n${msgs.join('\n') || scopeErr?.message}`, { variant: name });
    }
    // createComputePipelineAsync aborts the process in Dawn's Node binding (webgpu 0.6.2,
    // std::system_error on SwiftShader): create synchronously inside an error scope instead.
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('internal');
    const pipeline = this.device.createComputePipeline({
      label: name,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
    const internal = await this.device.popErrorScope();
    const validation = await this.device.popErrorScope();
    const err = validation ?? internal;
    if (err) throw new DeviceError(`pipeline "${name}" could not be created: ${err.message}`, { variant: name });
    return pipeline;
  }

  // ---- recording -------------------------------------------------------------------------

  private uniformSlot(params: ArrayBuffer): { buffer: GPUBuffer; offset: number } {
    if (params.byteLength > UNIFORM_SLOT) throw new DeviceError(`params of ${params.byteLength} bytes exceed a uniform slot`);
    let cur = this.uniformUsed[this.uniformUsed.length - 1];
    if (!cur || cur.used + UNIFORM_SLOT > UNIFORM_CHUNK) {
      const buffer =
        this.uniformChunks.pop() ??
        this.device.createBuffer({ size: UNIFORM_CHUNK, usage: Usage.UNIFORM | Usage.COPY_DST, label: 'params' });
      cur = { buffer, data: new Uint8Array(UNIFORM_CHUNK), used: 0 };
      this.uniformUsed.push(cur);
    }
    const offset = cur.used;
    cur.data.set(new Uint8Array(params), offset);
    cur.used += UNIFORM_SLOT;
    return { buffer: cur.buffer, offset };
  }

  /**
   * Records one dispatch. `params` (a packed uniform struct) binds at 0, then `buffers` at
   * 1, 2, ... in order. Nothing runs until flush() or a read.
   */
  dispatch(pipeline: GPUComputePipeline, params: ArrayBuffer, buffers: GPUBuffer[], workgroups: [number, number?, number?]): void {
    this.check();
    const [x, y = 1, z = 1] = workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg || x < 1 || y < 1 || z < 1) {
      throw new DeviceError(`dispatch of "${pipeline.label}" asks for ${x}×${y}×${z} workgroups; each must be 1..${maxWg}`);
    }
    const u = this.uniformSlot(params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: u.buffer, offset: u.offset, size: params.byteLength } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: pipeline.label });
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass(
        this.timing ? { timestampWrites: { querySet: this.timing, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined,
      );
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits everything recorded so far as one command buffer. */
  flush(): void {
    this.check();
    this.endPass();
    for (const u of this.uniformUsed) this.device.queue.writeBuffer(u.buffer, 0, u.data, 0, u.used);
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.stats.submits++;
      this.encoder = null;
    }
    // Writes queued after this submit are ordered after it, so these can be reused now.
    for (const u of this.uniformUsed) this.uniformChunks.push(u.buffer);
    this.uniformUsed = [];
    for (const b of this.pendingRelease) this.pool.release(b);
    this.pendingRelease = [];
  }

  /** Flushes, waits for the GPU, and returns a copy of the tensor's data as f32 or u32 words. */
  async read(t: Tensor): Promise<Float32Array> {
    const bytes = await this.readBytes(t.buffer, 0, t.byteLength);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  async readBytes(src: GPUBuffer, offset: number, bytes: number): Promise<Uint8Array> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.acquire(size, Usage.MAP_READ | Usage.COPY_DST, 'readback');
    try {
      this.copy(src, offset, staging, 0, size);
      this.flush();
      try {
        await staging.mapAsync(MAP_READ_MODE, 0, size);
      } catch (e) {
        // A device lost while the map was pending rejects the map before device.lost has
        // resolved: give the lost promise a moment so the error says what happened.
        await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 100))]);
        this.check();
        throw new DeviceError(`reading back ${bytes} bytes failed: ${(e as Error).message}`, {}, { cause: e });
      }
      this.check();
      const out = new Uint8Array(staging.getMappedRange(0, size).slice(0, bytes));
      staging.unmap();
      return out;
    } finally {
      this.pool.release(staging);
    }
  }

  /**
   * Runs `record` (which records dispatches) as one compute pass and returns its time: GPU
   * timestamps where the device has 'timestamp-query' (gpuMs), and wall clock around the
   * submit and wait (wallMs) always.
   */
  async time(record: () => Promise<void>): Promise<{ wallMs: number; gpuMs: number | null }> {
    await this.sync();
    const useTs = this.device.features.has('timestamp-query');
    if (useTs) this.timing = this.querySet ??= this.device.createQuerySet({ type: 'timestamp', count: 2 });
    const t0 = performance.now();
    try {
      await record();
      this.endPass();
    } finally {
      this.timing = null;
    }
    let gpuMs: number | null = null;
    if (useTs && this.encoder) {
      const resolved = this.pool.acquire(16, Usage.COPY_SRC | 0x200 /* QUERY_RESOLVE */, 'timestamps');
      this.encoder.resolveQuerySet(this.querySet!, 0, 2, resolved, 0);
      const bytes = await this.readBytes(resolved, 0, 16);
      this.pool.release(resolved);
      const [a, b] = new BigUint64Array(bytes.buffer, bytes.byteOffset, 2);
      gpuMs = b > a ? Number(b - a) / 1e6 : null;
    } else {
      await this.sync();
    }
    return { wallMs: performance.now() - t0, gpuMs };
  }

  /** Waits until the GPU has finished all submitted work, then reports any error. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  destroy(): void {
    this.pendingRelease = [];
    this.pool.trim();
    for (const b of this.uniformChunks) b.destroy();
    this.uniformChunks = [];
    this.device.destroy();
  }
}

/** Requests a device with the adapter's larger limits where the engine benefits from them. */
export async function createRuntime(adapter: GPUAdapter, backend: string, options: RuntimeOptions = {}, choice?: { kind: AdapterKind; reason: string }): Promise<Runtime> {
  const want: Record<string, number> = {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
  };
  const features: GPUFeatureName[] = [];
  for (const f of ['timestamp-query', 'shader-f16', 'subgroups'] as GPUFeatureName[]) if (adapter.features.has(f)) features.push(f);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: want, requiredFeatures: features, label: 'prott5' });
  } catch (e) {
    throw new DeviceError(`the adapter refused a device: ${(e as Error).message}`, {}, { cause: e });
  }
  const info = adapter.info;
  return new Runtime(device, options, {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean })?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...device.features],
    ...(info?.subgroupMinSize ? { subgroupMinSize: info.subgroupMinSize } : {}),
    backend,
    kind: choice?.kind ?? softwareDriver({ architecture: info?.architecture ?? '', description: info?.description ?? '', backend }) ?? 'hardware',
    reason: choice?.reason ?? 'the browser\'s adapter',
  });
}
