// The one small templating layer: {{NAME}} placeholders, `//@for` line unrolling, WGSL
// constants generated from TS code tables, uniform Params packing read from the shader's own
// `struct Params` (so field names and order are written once, in WGSL), and variants: one
// object per variant from which its name, shader text, constants and requirements all come.
import loadW from '../shaders/load_w.wgsl';
import workgroupSum from '../shaders/workgroup_sum.wgsl';
import loadW4 from '../shaders/load_w4.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import { unmet, type Requirements } from '../src/gpu/requires.js';
import type { Tensor, TensorDType } from '../src/gpu/tensor.js';
import { guard } from './guard.js';

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

/**
 * WGSL `const` declarations for a TS code table, for a shader's {{...}} placeholder:
 * wgslCodes('W', { f32: 0 }) is `const W_F32 = 0u;`. Shaders compare with the names, so the
 * numbers are written once, here in TS.
 */
export function wgslCodes(prefix: string, codes: Readonly<Record<string, number>>): string {
  return Object.entries(codes).map(([k, v]) => `const ${prefix}_${k.toUpperCase()} = ${v}u;`).join('\n');
}

/** Values of the W_DTYPE override constant, per weight dtype (W_F32, W_F16, W_BF16 in WGSL). */
export const W_DTYPE_CODE = { f32: 0, f16: 1, bf16: 2 } as const satisfies Partial<Record<TensorDType, number>>;

/** The weight-load snippet for shaders that read stored-dtype weights. */
export const LOAD_W = fill(loadW, { W_DTYPES: wgslCodes('W', W_DTYPE_CODE) });

/** shaders/workgroup_sum.wgsl (its text, for the tuner's and pipeline keys' source lists). */
export const WORKGROUP_SUM_SOURCE: string = workgroupSum;

/** The workgroup_sum snippet for a workgroup of `wg` invocations (a power of two). */
export function workgroupSumWgsl(wg: number): string {
  return fill(workgroupSum, { WG: wg });
}
/** The four-at-a-time weight-load snippet (needs `w: array<vec2<u32>>`). */
export const LOAD_W4 = fill(loadW4, { W_DTYPES: wgslCodes('W', W_DTYPE_CODE) });

/** Value of the W_DTYPE override constant for a weight tensor's dtype. */
export function weightDtypeConstant(dtype: TensorDType): number {
  if (!(dtype in W_DTYPE_CODE)) throw new Error(`weights cannot be ${dtype}`);
  return W_DTYPE_CODE[dtype as keyof typeof W_DTYPE_CODE];
}

/**
 * A variant's name: the op, then key=value for every field of the object that builds the
 * variant, sorted by key: `matmul(epilogue=none,family=k4,tm=8,...)`.
 */
export function variantName(op: string, variant: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(variant).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v === undefined) continue;
    if (typeof v === 'object' || typeof v === 'function') throw new Error(`${op}: variant field ${k} must be a number or string`);
    parts.push(`${k}=${v}`);
  }
  return `${op}(${parts.join(',')})`;
}

export interface VariantSpec {
  /** The generated WGSL (dumpable; what the pipeline compiles). */
  code: string;
  /** Values of the shader's `override` constants. */
  constants?: Record<string, number>;
  requires: Requirements;
}

export interface Variant extends VariantSpec {
  op: string;
  name: string;
}

/**
 * An op's variants: `build` makes the shader text, override constants and requirements from
 * one object, and the name is made from every field of that same object. Each distinct object
 * is built once (keyed by its name, a canonical form of it), so a dispatch costs one lookup
 * here and one in the runtime's pipeline cache.
 */
export function variants<V extends object>(op: string, build: (v: V) => VariantSpec): (v: V) => Variant {
  const built = new Map<string, Variant>();
  return (v) => {
    const name = variantName(op, v);
    let b = built.get(name);
    if (!b) {
      b = { op, name, ...build(v) };
      built.set(name, b);
    }
    return b;
  };
}

/** The variant's pipeline, after checking that the device can run it (an error naming the op, variant and tensors if not). */
export function pipelineFor(rt: Runtime, v: Variant, ...tensors: Tensor[]): Promise<GPUComputePipeline> {
  const why = unmet(v.requires, rt);
  guard(v.op, why === null, `variant ${v.name} ${why}`, ...tensors);
  return rt.pipeline(v.name, v.code, v.constants);
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
