// The one small templating layer: {{NAME}} placeholders, `//@for` line unrolling, and
// uniform Params packing read from the shader's own `struct Params` (so field names and order
// are written once, in WGSL).
import loadW from '../shaders/load_w.wgsl';
import loadW4 from '../shaders/load_w4.wgsl';
import type { TensorDType } from '../src/gpu/tensor.js';

/** Replaces every {{NAME}}; throws on a placeholder without a value (or a value never used). */
export function fill(source: string, values: Record<string, string | number>): string {
  const used = new Set<string>();
  const out = source.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return String(values[name]);
  });
  for (const name of Object.keys(values)) if (!used.has(name)) throw new Error(`template value ${name} is not used`);
  return out;
}

/**
 * Repeats each line ending in `//@for i<A` or `//@for i<A j<B` once per index (row-major),
 * substituting {i} and {j}; A and B are names in `bounds`.
 */
export function unroll(source: string, bounds: Record<string, number>): string {
  return source
    .split('\n')
    .flatMap((line) => {
      const m = line.match(/^(.*?)\s*\/\/@for\s+(\w)<(\w+)(?:\s+(\w)<(\w+))?\s*$/);
      if (!m) return [line];
      const [, body, v1, b1, v2, b2] = m;
      const n1 = bounds[b1], n2 = v2 ? bounds[b2] : 1;
      if (n1 === undefined || (v2 && n2 === undefined)) throw new Error(`unroll bound missing in: ${line}`);
      const lines: string[] = [];
      for (let a = 0; a < n1; a++) {
        for (let c = 0; c < n2; c++) {
          let s = body.replaceAll(`{${v1}}`, String(a));
          if (v2) s = s.replaceAll(`{${v2}}`, String(c));
          lines.push(s);
        }
      }
      return lines;
    })
    .join('\n');
}

/** The weight-load snippet for shaders that read stored-dtype weights. */
export const LOAD_W = loadW;
/** The four-at-a-time weight-load snippet (needs `w: array<vec2<u32>>`). */
export const LOAD_W4 = loadW4;

/** Value of the W_DTYPE override constant for a weight tensor's dtype. */
export function weightDtypeConstant(dtype: TensorDType): number {
  switch (dtype) {
    case 'f32':
      return 0;
    case 'f16':
      return 1;
    case 'bf16':
      return 2;
    default:
      throw new Error(`weights cannot be ${dtype}`);
  }
}

const paramFieldsCache = new Map<string, Array<{ name: string; type: 'u32' | 'i32' | 'f32' }>>();

function paramFields(wgsl: string) {
  let fields = paramFieldsCache.get(wgsl);
  if (!fields) {
    const m = wgsl.match(/struct Params\s*\{([^}]*)\}/);
    if (!m) throw new Error('shader has no struct Params');
    fields = [];
    for (const line of m[1].split('\n')) {
      const f = line.replace(/\/\/.*$/, '').trim().match(/^(\w+)\s*:\s*(u32|i32|f32)\s*,?$/);
      if (f) fields.push({ name: f[1], type: f[2] as 'u32' | 'i32' | 'f32' });
      else if (line.replace(/\/\/.*$/, '').trim()) throw new Error(`Params field not understood: ${line.trim()}`);
    }
    paramFieldsCache.set(wgsl, fields);
  }
  return fields;
}

/** Packs the shader's `struct Params` (scalar u32/i32/f32 fields) from values named as in WGSL. */
export function packParams(wgsl: string, values: Record<string, number>): ArrayBuffer {
  const fields = paramFields(wgsl);
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  const given = new Set(Object.keys(values));
  fields.forEach((f, i) => {
    const v = values[f.name];
    if (v === undefined) throw new Error(`Params.${f.name} has no value`);
    given.delete(f.name);
    if (f.type === 'f32') dv.setFloat32(i * 4, v, true);
    else {
      if (!Number.isInteger(v) || (f.type === 'u32' ? v < 0 || v > 0xffffffff : v < -(2 ** 31) || v >= 2 ** 31)) {
        throw new Error(`Params.${f.name} = ${v} is not a valid ${f.type}`);
      }
      if (f.type === 'u32') dv.setUint32(i * 4, v, true);
      else dv.setInt32(i * 4, v, true);
    }
  });
  if (given.size) throw new Error(`unknown Params fields: ${[...given].join(', ')}`);
  return buf;
}

/** Workgroup counts for `n` workgroups in a 1-D launch, spilling into y past the per-dimension limit. */
export function grid1d(n: number, maxPerDim = 65535): [number, number] {
  if (n <= maxPerDim) return [Math.max(1, n), 1];
  const y = Math.ceil(n / maxPerDim);
  return [Math.ceil(n / y), y];
}
