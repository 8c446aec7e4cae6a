// Element encodings of weights as stored (F32, F16, BF16) and their conversions to and from
// float32, on the CPU: weight readers, the tuner's test data, references and conversion.

/** Storage dtypes the engine reads. Weights stay in this dtype on the GPU. */
export type DType = 'F32' | 'F16' | 'BF16';

export const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE half (bits) to number. */
export function f16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes a tensor's little-endian bytes in `dtype` to float32 values (CPU side: tests, references, conversion). */
export function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToNumber(dv.getUint16(i * 2, true));
  else {
    const u = new Uint32Array(1), f = new Float32Array(u.buffer);
    for (let i = 0; i < n; i++) { u[0] = dv.getUint16(i * 2, true) << 16; out[i] = f[0]; }
  }
  return out;
}

/** number → IEEE half bits, round to nearest even (overflow → ±Inf). */
export function numberToF16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** float32 values → little-endian bytes in `dtype` (round to nearest even for F16/BF16). */
export function fromFloat32(dtype: DType, values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint16Array(values.length);
  if (dtype === 'F16') for (let i = 0; i < values.length; i++) out[i] = numberToF16(values[i]);
  else {
    const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) {
      const x = u[i];
      if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40;
      else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return new Uint8Array(out.buffer);
}
