// The generic tuner: no kernel variant is best everywhere (SwiftShader wants unrolled
// registers, real GPUs want other shapes), so at first use on an adapter an op's candidates
// are checked against its float64 reference, timed, and the fastest correct one is kept,
// cached in a small JSON store (a file in Node, localStorage in the browser). What to tune is
// the op's own: kernels/<op>.ts describes it as a TuneProblem (candidates, test data, the
// reference, the tolerance and why); this file knows no op.
import { DeviceError, DeviceLostError, OutOfMemoryError } from '../errors.js';
import { relFrobenius } from './numeric.js';
import { unmet, type DeviceCaps, type Requirements } from './requires.js';
import type { AdapterSummary, Runtime } from './runtime.js';

export interface TuneStore {
  load(): Promise<Record<string, unknown>>;
  /** Adds `entries` to what is stored; keys saved meanwhile by others (another process) are kept. */
  save(entries: Record<string, unknown>): Promise<void>;
}

export class MemoryTuneStore implements TuneStore {
  data: Record<string, unknown> = {};
  async load() {
    return { ...this.data };
  }
  async save(entries: Record<string, unknown>) {
    this.data = { ...this.data, ...entries };
  }
}

/** What the tuner needs of a runtime: its limits and identity, and a wait for submitted work. A Runtime is one. */
export interface TuneDevice extends DeviceCaps {
  readonly adapter: Pick<AdapterSummary, 'backend' | 'vendor' | 'architecture' | 'device' | 'description' | 'features' | 'subgroupMinSize'>;
  /** Waits for the submitted work; throws DeviceLostError once the device is lost. */
  sync(): Promise<void>;
}

/** The test data of one tuning run, made by TuneProblem.prepare and released when it ends. */
export interface TuneSession<C> {
  /** The reference's output for the check data. */
  want: ArrayLike<number>;
  /** Runs a candidate on the check data and reads its output back. */
  check(c: C): Promise<ArrayLike<number>>;
  /** Records one run of a candidate at the timing size (the tuner waits for it and times it). */
  run(c: C): Promise<void>;
  release(): void;
}

export interface TuneProblem<C> {
  op: string;
  /** The shape class the choice is for, the last part of the cache key ('f16|4096|1024'). */
  shape: string;
  /**
   * Every WGSL text the op's variants can use. Hashed into the cache key with the candidates,
   * so a changed shader or candidate list tunes again (no version number to bump).
   */
  sources: readonly string[];
  /** In timing order: a candidate whose first run is CUTOFF× the best so far is not timed further. */
  candidates: readonly C[];
  /** The variant name a candidate runs as (duplicates are tried once). */
  name(c: C): string;
  requires(c: C): Requirements;
  /** Workgroups a candidate launches at the timing size; without it none is skipped as too coarse. */
  launches?(c: C): number;
  /** Largest relative Frobenius error of a correct candidate against the reference, and why that much. */
  tolerance: { max: number; reason: string };
  prepare(): TuneSession<C> | Promise<TuneSession<C>>;
}

export interface TuneTiming {
  variant: string;
  ok: boolean;
  /** Median ms at the timing size; NaN where not timed. */
  ms: number;
  /** Why it failed: a requirement the device does not meet, a shader or pipeline error, a wrong result. */
  error?: string;
}

export interface TuneResult<C> {
  choice: C;
  timings: TuneTiming[];
  cached: boolean;
}

export interface TuneOptions {
  /** Rows (tokens) the problems time at. Smaller tunes faster; default 64. */
  rows?: number;
  reps?: number;
}

/** A candidate whose untimed first run takes this many times the best median so far is not timed further. */
const CUTOFF = 3;

/**
 * Candidates that would launch fewer workgroups than this at the timing size are skipped
 * (where none launch that many, all but those launching the most): they cannot keep even a
 * 2-core CPU busy, and on small models they would only cost compile time (the 32×16 matmul
 * tiles take seconds to compile on SwiftShader).
 */
const MIN_WORKGROUPS = 8;

/** cyrb53: a 53-bit string hash, as 14 hex digits. */
function hash(s: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** The device part of a cache key: adapter identity, features, and the limits candidates are filtered by. */
function deviceKey(d: TuneDevice): string {
  const a = d.adapter, l = d.limits;
  const features = [...a.features].sort().join(',');
  return `${a.backend}|${a.vendor}|${a.architecture}|${a.device}|${a.description}|${features}|inv${l.maxComputeInvocationsPerWorkgroup}|wgmem${l.maxComputeWorkgroupStorageSize}`;
}

/** Canonical JSON (sorted keys), to compare a cached choice with the candidates. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

/** The key a problem's choice is cached under on this device: op | source hash | device | shape. */
export function tuneKey(device: TuneDevice, p: Pick<TuneProblem<unknown>, 'op' | 'shape' | 'sources' | 'candidates'>): string {
  return `${p.op}|${hash([...p.sources, canonical(p.candidates)].join('\0'))}|${deviceKey(device)}|${p.shape}`;
}

/** The choices cached in `store` for this device, as `op@sourcehash|shape` → choice. */
export async function cachedChoices(device: TuneDevice, store: TuneStore): Promise<Record<string, unknown>> {
  const mid = `|${deviceKey(device)}|`;
  const data = await store.load().catch(() => ({}) as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const at = k.indexOf(mid);
    if (at < 0) continue;
    const [op, h] = k.slice(0, at).split('|');
    out[`${op}@${h}|${k.slice(at + mid.length)}`] = v;
  }
  return out;
}

/** Lost devices and exhausted memory are not a candidate's fault: they end the tuning. */
function fatal(e: unknown): boolean {
  return e instanceof DeviceLostError || e instanceof OutOfMemoryError || !(e instanceof DeviceError);
}

/** What the tuner is doing, for progress: an op's shape starting (variant null), then each candidate it checks and times. */
export interface TuneEvent {
  op: string;
  shape: string;
  variant: string | null;
  /** The choice came from the store (nothing measured). */
  cached: boolean;
  /** Shapes finished since the last expect(), and how many it announced (null if none). */
  done: number;
  total: number | null;
}

export class Autotuner<D extends TuneDevice = Runtime> {
  private cache: Record<string, unknown> | null = null;
  private inflight = new Map<string, Promise<TuneResult<unknown>>>();
  /** Progress listener (the loader reports it as the 'tuning' phase). */
  onEvent: ((e: TuneEvent) => void) | null = null;
  /** Stops tuning before the next candidate (rejects with the signal's reason). */
  signal: AbortSignal | undefined;
  private done = 0;
  private total: number | null = null;

  /** Announces how many shapes the next tune() calls will tune (for `TuneEvent.total`). */
  expect(shapes: number): void {
    this.done = 0;
    this.total = shapes;
  }

  private emit(p: Pick<TuneProblem<unknown>, 'op' | 'shape'>, variant: string | null, cached: boolean): void {
    this.onEvent?.({ op: p.op, shape: p.shape, variant, cached, done: this.done, total: this.total });
  }

  constructor(readonly device: D, private readonly store: TuneStore = new MemoryTuneStore(), readonly options: TuneOptions = {}) {}

  /** The fastest candidate that passes its check on this device (cached per device, op, sources and shape). */
  tune<C>(p: TuneProblem<C>): Promise<TuneResult<C>> {
    const key = tuneKey(this.device, p);
    let r = this.inflight.get(key) as Promise<TuneResult<C>> | undefined;
    if (!r) {
      r = this.lookupOrTune(key, p);
      this.inflight.set(key, r);
      void r.finally(() => this.inflight.delete(key)).catch(() => undefined);
    }
    return r;
  }

  private async lookupOrTune<C>(key: string, p: TuneProblem<C>): Promise<TuneResult<C>> {
    let hit = await this.lookup(key, p);
    if (hit === undefined) {
      // Another process may have tuned it since this one read the store.
      this.cache = { ...this.cache, ...(await this.store.load().catch(() => ({}))) };
      hit = await this.lookup(key, p);
    }
    this.signal?.throwIfAborted();
    this.emit(p, null, hit !== undefined);
    if (hit !== undefined) {
      this.done++;
      return { choice: hit, timings: [], cached: true };
    }
    const res = await this.measure(p);
    this.done++;
    this.cache![key] = res.choice;
    // A store that cannot be written costs a retune next time, never this run.
    await this.store.save({ [key]: res.choice }).catch(() => undefined);
    return res;
  }

  /** The cached choice if it is still one of the candidates (the stored object could be anything). */
  private async lookup<C>(key: string, p: TuneProblem<C>): Promise<C | undefined> {
    this.cache ??= await this.store.load().catch(() => ({}));
    if (!(key in this.cache)) return undefined;
    const want = canonical(this.cache[key]);
    return p.candidates.find((c) => canonical(c) === want);
  }

  private async measure<C>(p: TuneProblem<C>): Promise<TuneResult<C>> {
    const seen = new Set<string>();
    const entries: Array<{ c: C; name: string; why: string | null }> = [];
    for (const c of p.candidates) {
      const name = p.name(c);
      if (seen.has(name)) continue;
      seen.add(name);
      entries.push({ c, name, why: unmet(p.requires(c), this.device) });
    }
    const runnable = entries.filter((e) => e.why === null);
    let enough = 0;
    if (p.launches && runnable.length) enough = Math.min(MIN_WORKGROUPS, Math.max(...runnable.map((e) => p.launches!(e.c))));
    const timings: TuneTiming[] = [];
    let best: { c: C; ms: number } | null = null;
    const session = runnable.length ? await p.prepare() : null;
    try {
      for (const e of entries) {
        if (e.why !== null) {
          timings.push({ variant: e.name, ok: false, ms: NaN, error: e.why });
          continue;
        }
        if (p.launches && p.launches(e.c) < enough) continue;
        this.signal?.throwIfAborted();
        this.emit(p, e.name, false);
        const t: TuneTiming = { variant: e.name, ok: false, ms: NaN };
        try {
          const err = relFrobenius(await session!.check(e.c), session!.want);
          if (err <= p.tolerance.max) {
            t.ms = await this.time(() => session!.run(e.c), CUTOFF * (best?.ms ?? Infinity));
            t.ok = true;
          } else t.error = `relative error ${err.toExponential(2)} over the tolerance ${p.tolerance.max.toExponential(0)} (${p.tolerance.reason})`;
        } catch (err) {
          if (fatal(err)) throw err;
          t.error = (err as Error).message;
          await this.settle();
        }
        timings.push(t);
        if (t.ok && (!best || t.ms < best.ms)) best = { c: e.c, ms: t.ms };
      }
    } finally {
      session?.release();
    }
    if (!best) {
      throw new DeviceError(`tuner: no ${p.op} variant passed its check for ${p.shape}: ${timings.map((t) => `${t.variant}: ${t.error}`).join('; ') || 'no candidates'}`, {
        op: p.op,
        shape: p.shape,
        timings,
      });
    }
    return { choice: best.c, timings, cached: false };
  }

  /** After a candidate failed: waits for the device, so its errors are not blamed on the next one, and rethrows a lost device. */
  private async settle(): Promise<void> {
    try {
      await this.device.sync();
    } catch (e) {
      if (fatal(e)) throw e;
    }
  }

  /** Median ms of `reps` runs after a warm-up run; just the warm-up's time if that exceeds `giveUpMs`. */
  private async time(run: () => Promise<void>, giveUpMs: number): Promise<number> {
    const once = async () => {
      const t0 = performance.now();
      await run();
      await this.device.sync();
      return performance.now() - t0;
    };
    const first = await once();
    if (first > giveUpMs) return first;
    const times: number[] = [];
    for (let r = 0; r < (this.options.reps ?? 3); r++) times.push(await once());
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }
}
