// The autotuner: no kernel variant is best everywhere (SwiftShader wants unrolled registers,
// real GPUs want other shapes), so at first use on an adapter each kernel's candidates are
// checked against the float64 reference, timed, and the fastest correct one is kept, cached
// per adapter in a small JSON store (a file in Node, localStorage in the browser).
import { attention, attentionVariantName, type AttentionTile } from '../../kernels/attention.js';
import { matmul, matmulTileFor, matmulVariantName, type MatmulTile } from '../../kernels/matmul.js';
import { attentionRef } from '../../kernels/attention.ref.js';
import { matmulRef } from '../../kernels/matmul.ref.js';
import { fromFloat32, toFloat32, type DType } from './dtype.js';
import type { TensorDType } from './tensor.js';
import type { Runtime } from './runtime.js';

/** Bump when kernels change so cached choices from older code are not reused. */
export const TUNE_VERSION = 2;

export interface TuneStore {
  load(): Promise<Record<string, unknown>>;
  save(data: Record<string, unknown>): Promise<void>;
}

export class MemoryTuneStore implements TuneStore {
  data: Record<string, unknown> = {};
  async load() {
    return this.data;
  }
  async save(d: Record<string, unknown>) {
    this.data = d;
  }
}

/**
 * Timed in this order; a candidate whose first run is CUTOFF× the best so far is not timed
 * further, so the likely winners on SwiftShader come first: the dot families with 32×16
 * outputs per invocation ran f16 ProtT5-XL shapes at 5.7-6.1 GFLOP/s there (k8dot runs as
 * k4dot when K % 8 != 0). 32×32 tiles were no faster in the same runs but take 20-30 s each
 * to compile (per dtype × epilogue, in every process), so they are left out. smem and the
 * small k4 tiles are for real GPUs; k1 is what runs when K % 4 != 0. The tuner runs 64 rows:
 * a 32-row tile in 2 rows of invocations keeps them all busy there (in 4, half would idle).
 */
export const MATMUL_CANDIDATES: MatmulTile[] = [
  { family: 'k8dot', tm: 32, tn: 16, wgX: 8, wgY: 2 },
  { family: 'k4dot', tm: 32, tn: 16, wgX: 8, wgY: 2 },
  { family: 'k4dot', tm: 16, tn: 16, wgX: 4, wgY: 8 },
  { family: 'k4', tm: 16, tn: 8, wgX: 4, wgY: 8 },
  { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'smem', tm: 4, tn: 4, wgX: 16, wgY: 16, kt: 16 },
  { family: 'k1', tm: 4, tn: 4, wgX: 8, wgY: 8 },
];

/** A candidate whose untimed first run takes this many times the best median so far is not timed further. */
const CUTOFF = 3;

/**
 * Candidates that would launch fewer workgroups than this at the tuning rows are skipped
 * (where none launch that many, all but those launching the most): they cannot keep even a
 * 2-core CPU busy, and on small models they would only cost compile time (the 32×16 tiles
 * take seconds to compile).
 */
const MIN_WORKGROUPS = 8;

export const ATTENTION_CANDIDATES: AttentionTile[] = [
  { family: 'unrolled', tq: 32, tk: 8 },
  { family: 'unrolled', tq: 16, tk: 4 },
  { family: 'unrolled', tq: 64, tk: 8 },
  { family: 'loop', tq: 32, tk: 16 },
  { family: 'loop', tq: 64, tk: 8 },
];

export interface TuneResult<T> {
  choice: T;
  /** Median ms per candidate (NaN: failed its check or could not run). */
  timings: Array<{ variant: string; ms: number; ok: boolean }>;
  cached: boolean;
}

export interface TuneOptions {
  /** Rows (tokens) the timing runs use. Smaller tunes faster; default 64. */
  rows?: number;
  reps?: number;
}

const FILE_DTYPE: Partial<Record<TensorDType, DType>> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

function adapterKey(rt: Runtime): string {
  const a = rt.adapter;
  return `v${TUNE_VERSION}|${a.backend}|${a.vendor}|${a.architecture}|${a.device}|${a.description}`;
}

/** The choices cached in `store` for this runtime's adapter, keyed by kernel and shape class. */
export async function cachedChoices(rt: Runtime, store: TuneStore): Promise<Record<string, unknown>> {
  const prefix = `${adapterKey(rt)}|`;
  const data = await store.load().catch(() => ({}) as Record<string, unknown>);
  return Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Median ms of `reps` runs after a warm-up run; just the warm-up's time if that exceeds `giveUpMs`. */
async function timeIt(rt: Runtime, reps: number, run: () => Promise<void>, giveUpMs = Infinity): Promise<number> {
  const t0 = performance.now();
  await run();
  await rt.sync();
  const first = performance.now() - t0;
  if (first > giveUpMs) return first;
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    await rt.sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export class Autotuner {
  private cache: Record<string, unknown> | null = null;

  constructor(private readonly rt: Runtime, private readonly store: TuneStore = new MemoryTuneStore(), private readonly options: TuneOptions = {}) {}

  private async cached<T>(key: string, tune: () => Promise<TuneResult<T>>): Promise<TuneResult<T>> {
    this.cache ??= await this.store.load().catch(() => ({}));
    const full = `${adapterKey(this.rt)}|${key}`;
    const hit = this.cache[full] as T | undefined;
    if (hit) return { choice: hit, timings: [], cached: true };
    const res = await tune();
    this.cache[full] = res.choice;
    await this.store.save(this.cache).catch(() => undefined);
    return res;
  }

  /** The fastest correct matmul tile for y[M, N] = x[M, K] · W[N, K]ᵀ with W in `dtype`. */
  matmul(N: number, K: number, dtype: TensorDType, candidates = MATMUL_CANDIDATES): Promise<TuneResult<MatmulTile>> {
    return this.cached(`matmul|${dtype}|${N}|${K}`, async () => {
      const rt = this.rt;
      const M = this.options.rows ?? 64;
      // Correctness first, on an odd-shaped slice with the real K.
      const cm = 7, cn = Math.min(N, 13);
      const xs = randomData(cm * K, 1), ws = randomData(cn * K, 2);
      const fileDtype = FILE_DTYPE[dtype]!;
      const wBytes = fromFloat32(fileDtype, ws);
      const x = rt.upload(xs, [cm, K], 'f32', 'tune_x');
      const wt = rt.upload(wBytes, [cn, K], dtype, 'tune_w');
      const wVals = toFloat32(fileDtype, wBytes);
      const want = matmulRef(xs, wVals, cm, cn, K);
      const y = rt.empty([cm, cn], 'f32', 'tune_y');
      const bx = rt.empty([M, K], 'f32', 'tune_bx'), bw = rt.empty([N, K], dtype, 'tune_bw'), by = rt.empty([M, N], 'f32', 'tune_by');
      const timings: TuneResult<MatmulTile>['timings'] = [];
      let best: { tile: MatmulTile; ms: number } | null = null;
      const seen = new Set<string>();
      const launches = (c: MatmulTile) => {
        const t = matmulTileFor(K, c);
        return Math.ceil(M / (t.tm * t.wgY)) * Math.ceil(N / (t.tn * t.wgX));
      };
      const enough = Math.min(MIN_WORKGROUPS, Math.max(...candidates.map(launches)));
      try {
        for (const cand of candidates.filter((c) => launches(c) >= enough)) {
          const tile = matmulTileFor(K, cand);
          const name = matmulVariantName(dtype, 'none', tile);
          if (seen.has(name)) continue;
          seen.add(name);
          let ok = false, ms = NaN;
          try {
            await matmul(rt, { x, w: wt, y, tile });
            ok = relErr(await rt.read(y), want) < 1e-4;
            if (ok) ms = await timeIt(rt, this.options.reps ?? 3, () => matmul(rt, { x: bx, w: bw, y: by, tile }), CUTOFF * (best?.ms ?? Infinity));
          } catch {
            ok = false;
          }
          timings.push({ variant: name, ms, ok });
          if (ok && (!best || ms < best.ms)) best = { tile, ms };
        }
      } finally {
        for (const t of [x, wt, y, bx, bw, by]) t.release();
      }
      if (!best) throw new Error(`autotune: no matmul variant passed its check for N=${N} K=${K} ${dtype}`);
      return { choice: best.tile, timings, cached: false };
    });
  }

  /** The fastest correct attention tile for heads of size `dk`. */
  attention(dk: number, heads: number, candidates = ATTENTION_CANDIDATES): Promise<TuneResult<AttentionTile>> {
    return this.cached(`attention|${dk}|${heads}`, async () => {
      const rt = this.rt;
      const L = this.options.rows ?? 64, H = heads, R = 8;
      const n = L * H * dk;
      const qv = randomData(n, 3).map((v) => v * 0.3), kv = randomData(n, 4).map((v) => v * 0.3), vv = randomData(n, 5), bv = randomData(H * (2 * R + 1), 6);
      const lens = [L - 5];
      const want = attentionRef(qv, kv, vv, bv, lens, 1, L, H, dk, R);
      const shape = [1, L, H * dk];
      const q = rt.upload(qv, shape, 'f32', 'tune_q'), k = rt.upload(kv, shape, 'f32', 'tune_k'), v = rt.upload(vv, shape, 'f32', 'tune_v');
      const bias = rt.upload(bv, [H, 2 * R + 1], 'f32', 'tune_bias'), lengths = rt.upload(Uint32Array.from(lens), [1], 'u32', 'tune_len');
      const out = rt.empty(shape, 'f32', 'tune_out');
      const timings: TuneResult<AttentionTile>['timings'] = [];
      let best: { tile: AttentionTile; ms: number } | null = null;
      try {
        for (const tile of candidates) {
          if (tile.family === 'unrolled' && dk % 4 !== 0) continue;
          const name = attentionVariantName(dk, tile);
          let ok = false, ms = NaN;
          try {
            const args = { q, k, v, bias, lengths, out, heads: H, tile };
            await attention(rt, args);
            ok = relErr(await rt.read(out), want) < 1e-4;
            if (ok) ms = await timeIt(rt, this.options.reps ?? 3, () => attention(rt, args));
          } catch {
            ok = false;
          }
          timings.push({ variant: name, ms, ok });
          if (ok && (!best || ms < best.ms)) best = { tile, ms };
        }
      } finally {
        for (const t of [q, k, v, bias, lengths, out]) t.release();
      }
      if (!best) throw new Error(`autotune: no attention variant passed its check for d_kv=${dk}`);
      return { choice: best.tile, timings, cached: false };
    });
  }
}
