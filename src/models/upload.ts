// Weights to the GPU, one tensor at a time (only one tensor's bytes in JS memory at once), in
// the dtype they are stored in; each is checked for NaN and ±Inf first and reported by name.
// Shared by every family's load().
import { WeightsError } from '../errors.js';
import { toFloat32, type DType } from '../gpu/dtype.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor, TensorDType } from '../gpu/tensor.js';
import type { TensorEntry } from '../../weights/tensor-entry.js';
import type { Checkpoint, LoadContext, NonFiniteWeights } from './family.js';

const GPU_DTYPE: Record<DType, TensorDType> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Counts the NaN and ±Inf values in a tensor's little-endian bytes in `dtype`: the values
 * toFloat32 would decode as NaN or ±Inf (all exponent bits set), read from the bits directly
 * because decoding is slow for F16 (a 16 Mi-element tensor: seconds decoded, tens of ms here).
 */
export function countNonFinite(dtype: DType, bytes: Uint8Array): { nan: number; inf: number; total: number } {
  const width = dtype === 'F32' ? 4 : 2;
  const [exp, mant] = dtype === 'F32' ? [0x7f800000, 0x007fffff] : dtype === 'F16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
  const n = Math.floor(bytes.byteLength / width);
  let nan = 0, inf = 0;
  const tally = (bits: number): void => {
    if ((bits & exp) === exp) {
      if (bits & mant) nan++;
      else inf++;
    }
  };
  if (LITTLE_ENDIAN && bytes.byteOffset % width === 0) {
    // One loop per array type keeps each monomorphic (fast).
    if (width === 4) {
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) if ((words[i] & exp) === exp) tally(words[i]);
    } else {
      const words = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) if ((words[i] & exp) === exp) tally(words[i]);
    }
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) tally(width === 4 ? dv.getUint32(i * 4, true) : dv.getUint16(i * 2, true));
  }
  return { nan, inf, total: n };
}

/** Uploads a checkpoint's tensors by canonical name; release() frees them all (a failed load). */
export class WeightUploader {
  private readonly loaded: Tensor[] = [];
  readonly dtypes = new Set<TensorDType>();
  private count = 0;
  private bytes = 0;

  constructor(private readonly rt: Runtime, private readonly ckpt: Checkpoint<unknown>, private readonly ctx: LoadContext) {}

  private async read(name: string): Promise<{ entry: TensorEntry; data: Uint8Array }> {
    const entry = this.ckpt.tensors.get(name);
    if (!entry) throw new WeightsError(`tensor "${name}" is not in the checkpoint's schema`, { tensor: name });
    this.ctx.signal?.throwIfAborted();
    const data = await entry.read();
    // NaN or ±Inf in a weight can make the embeddings NaN: name the tensor before it is used.
    const counts = countNonFinite(entry.dtype, data);
    if (counts.nan || counts.inf) {
      const d: NonFiniteWeights = { tensor: entry.name, file: entry.file, ...counts };
      const what = [d.nan ? `${d.nan} NaN` : '', d.inf ? `${d.inf} infinite` : ''].filter(Boolean).join(' and ');
      const message = `${d.file}: tensor "${d.tensor}" holds ${what} value${d.nan + d.inf > 1 ? 's' : ''} (of ${d.total}): embeddings computed with it may be NaN or infinite`;
      if (this.ctx.checks?.strict) throw new WeightsError(message, { ...d });
      this.ctx.checks?.onWarning?.(message, d);
    }
    return { entry, data };
  }

  private done(name: string, bytes: number): void {
    this.bytes += bytes;
    this.ctx.onProgress?.({ phase: 'upload', tensor: name, loaded: ++this.count, total: this.ckpt.tensors.size, bytes: this.bytes });
  }

  /** A weight on the GPU in its stored dtype; `asMatrix`: as [shape[0], the product of the rest] (XLNet's o). */
  async tensor(name: string, asMatrix = false): Promise<Tensor> {
    const { entry, data } = await this.read(name);
    const shape = asMatrix ? [entry.shape[0], entry.shape.slice(1).reduce((a, b) => a * b, 1)] : entry.shape;
    return this.stored(name, data, shape, entry.dtype);
  }

  /** A weight's bytes on the GPU in its stored dtype, kept for release and counted as uploaded. */
  private stored(name: string, data: Uint8Array, shape: readonly number[], dtype: keyof typeof GPU_DTYPE): Tensor {
    const t = this.rt.upload(data, shape, GPU_DTYPE[dtype], name);
    this.loaded.push(t);
    this.dtypes.add(t.dtype);
    this.done(name, data.byteLength);
    return t;
  }

  /**
   * A 2-D weight [N, K] on the GPU as slices of at most `rows` rows ([rows, K] each, the last
   * shorter), for a weight larger than one buffer may be. One slice (the tensor as is) when it fits.
   */
  async rowSlices(name: string, rows: number): Promise<Tensor[]> {
    return this.slices(name, rows, 'rows');
  }

  /**
   * A 2-D weight [N, K] as column slices [N, cols] (the last narrower), each copied out row by
   * row on the host: W[:, j0:j1] for a matmul over a slice of K. One slice when cols ≥ K.
   */
  async columnSlices(name: string, cols: number): Promise<Tensor[]> {
    return this.slices(name, cols, 'columns');
  }

  private async slices(name: string, size: number, along: 'rows' | 'columns'): Promise<Tensor[]> {
    const { entry, data } = await this.read(name);
    const [N, K] = entry.shape;
    const dtype = GPU_DTYPE[entry.dtype];
    const es = data.byteLength / (N * K);
    const whole = along === 'rows' ? N : K;
    const out: Tensor[] = [];
    for (let a = 0; a < whole; a += size) {
      const b = Math.min(whole, a + size);
      let bytes: Uint8Array, shape: number[];
      if (along === 'rows') {
        bytes = a === 0 && b === N ? data : data.subarray(a * K * es, b * K * es);
        shape = [b - a, K];
      } else if (a === 0 && b === K) {
        [bytes, shape] = [data, [N, K]];
      } else {
        const w = (b - a) * es;
        bytes = new Uint8Array(N * w);
        for (let n = 0; n < N; n++) bytes.set(data.subarray((n * K + a) * es, (n * K + b) * es), n * w);
        shape = [N, b - a];
      }
      const label = out.length === 0 && b === whole ? name : `${name}[${along} ${a}:${b}]`;
      const t = this.rt.upload(bytes, shape, dtype, label);
      this.loaded.push(t);
      out.push(t);
    }
    this.dtypes.add(dtype);
    this.done(name, data.byteLength);
    return out;
  }

  /**
   * A weight stored input-first, [K, ...rest] (XLNet's q, k, v, r: [d_model, n_head, d_head]), on
   * the GPU as [N, K] with N the product of the rest: the matmul's [out, in] layout, transposed on
   * the host in the stored dtype.
   */
  async transposed(name: string): Promise<Tensor> {
    const { entry, data } = await this.read(name);
    const K = entry.shape[0], N = entry.shape.slice(1).reduce((a, b) => a * b, 1);
    const es = data.byteLength / (N * K);
    // A copy is aligned for the typed-array view (the read may be a view at any offset).
    const src = data.byteOffset % es === 0 ? data : data.slice();
    const out = new Uint8Array(data.byteLength);
    const [from, to] = es === 4
      ? [new Uint32Array(src.buffer, src.byteOffset, N * K), new Uint32Array(out.buffer)]
      : [new Uint16Array(src.buffer, src.byteOffset, N * K), new Uint16Array(out.buffer)];
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) to[n * K + k] = from[k * N + n];
    return this.stored(name, out, [N, K], entry.dtype);
  }

  /** A weight's values on the CPU (for tables computed on the host), with its shape. */
  async values(name: string): Promise<{ values: Float32Array; shape: readonly number[] }> {
    const { entry, data } = await this.read(name);
    this.done(name, data.byteLength);
    return { values: toFloat32(entry.dtype, data), shape: entry.shape };
  }

  /**
   * A small weight (a bias, a LayerNorm's weight or bias) on the GPU widened to f32, whatever its
   * stored dtype (exact; such vectors are far under 1% of a model's bytes).
   */
  async vector(name: string): Promise<Tensor> {
    const { values, shape } = await this.values(name);
    return this.upload(values, shape, name);
  }

  /** A tensor made on the host (a derived table), freed with the weights on failure. */
  upload(data: Float32Array, shape: readonly number[], label: string): Tensor {
    const t = this.rt.upload(data, shape, 'f32', label);
    this.loaded.push(t);
    return t;
  }

  release(): void {
    for (const t of this.loaded) t.release();
  }
}
