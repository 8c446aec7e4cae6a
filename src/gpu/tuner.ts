// The generic tuner: no kernel variant is best everywhere (SwiftShader wants unrolled
// registers, real GPUs want other shapes), so at first use on an adapter an op's candidates
// are checked against its float64 reference, timed, and the fastest correct one is kept,
// cached in a small JSON store (a file in Node, localStorage in the browser) with the time it
// ran in. Timing resists noise (another process busy on the same cores): the candidates run
// interleaved, one run each per round over several rounds, and the median counts, so a slow
// spell as long as a round touches one run of each. A cached choice is re-timed at lookup
// and tuned again if it now runs far slower than it was recorded at. Shapes too small to be
// worth measuring use the device's default untimed. What to tune is
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
  /** Removes the entries whose key `which` accepts (others' saves meanwhile kept); resolves to the removed keys. */
  remove?(which: (key: string) => boolean): Promise<string[]>;
}

export class MemoryTuneStore implements TuneStore {
  data: Record<string, unknown> = {};
  async load() {
    return { ...this.data };
  }
  async save(entries: Record<string, unknown>) {
    this.data = { ...this.data, ...entries };
  }
  async remove(which: (key: string) => boolean) {
    const gone = Object.keys(this.data).filter(which);
    for (const k of gone) delete this.data[k];
    return gone;
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
  /** The candidates, checked in this order (then timed interleaved). */
  candidates: readonly C[];
  /** The variant name a candidate runs as (duplicates are tried once). */
  name(c: C): string;
  requires(c: C): Requirements;
  /** Workgroups a candidate launches at the timing size; without it none is skipped as too coarse. */
  launches?(c: C): number;
  /**
   * FLOPs of one run at the timing size, and what runs untuned: with both, a problem under the
   * tuner's `minFlops` is not measured and `fallback` is the choice (tiny models: launch-bound
   * shapes where no variant wins by much, and tuning would cost more than it ever saves).
   */
  flops?: number;
  fallback?: C;
  /** Largest relative Frobenius error of a correct candidate against the reference, and why that much. */
  tolerance: { max: number; reason: string };
  prepare(): TuneSession<C> | Promise<TuneSession<C>>;
}

export interface TuneTiming {
  variant: string;
  ok: boolean;
  /** Median ms at the timing size over the rounds it ran; NaN where not timed. */
  ms: number;
  /** Each timed round's ms (the first, warm-up run not among them); a candidate cut as too slow has fewer. */
  samples?: number[];
  /** Why it failed: a requirement the device does not meet, a shader or pipeline error, a wrong result. */
  error?: string;
}

export interface TuneResult<C> {
  choice: C;
  timings: TuneTiming[];
  /** The choice came from the store (and its re-time, if any, kept it). */
  cached: boolean;
  /** The shape is under `minFlops`: the problem's fallback, nothing measured or stored. */
  skipped?: boolean;
  /** A cached choice re-timed at lookup: ms recorded with it, ms now, and whether that made the tuner measure again. */
  recheck?: { recordedMs: number; nowMs: number; retuned: boolean };
}

export interface TuneOptions {
  /** Rows (tokens) the problems time at. Smaller tunes faster; default 64. */
  rows?: number;
  /** Timed rounds (each candidate runs once per round, in one order; the median counts). Default 3: one noisy round cannot change the pick. */
  reps?: number;
  /** Problems doing fewer FLOPs per timing run than this take their fallback untimed (default TUNE_MIN_FLOPS; 0 tunes every shape). */
  minFlops?: number;
  /** A cached choice is re-timed at lookup and tuned again when it runs this many times slower than recorded (default RECHECK_FACTOR; 0 never re-times). */
  recheck?: number;
  /** The clock timings read, in ms (default performance.now; tests pass a fake one). */
  now?: () => number;
}

/** After a round, a candidate whose fastest run so far is this many times the best median is not timed further. */
const CUTOFF = 3;

/**
 * The size rule: a timing run under 16 MFLOP (a 64-row matmul of 128×1024, attention over 64
 * tokens in 4 heads of 64) takes well under a millisecond on a GPU and a few on a CPU driver;
 * there launches and compiles dominate and no variant wins by enough to pay for tuning. The
 * demo model (d_model 128) is all under it; every ProtT5-XL and ESM-2 ≥ 8M shape is over it.
 */
export const TUNE_MIN_FLOPS = 16e6;

/**
 * A cached choice running this many times slower than the time stored with it is tuned again
 * (its re-time is a median of three before that counts, so one slow run is not enough).
 */
export const RECHECK_FACTOR = 2;

/** What the store holds per key: the choice, its median ms when chosen, and the rows it was timed at. */
interface StoredChoice {
  choice: unknown;
  ms: number;
  rows: number | null;
}

/** A stored value as { choice, ms, rows }; an older bare choice has no time (ms NaN). */
function parseStored(v: unknown): StoredChoice {
  if (v && typeof v === 'object' && 'choice' in v && typeof (v as StoredChoice).ms === 'number') {
    const s = v as StoredChoice;
    return { choice: s.choice, ms: s.ms, rows: typeof s.rows === 'number' ? s.rows : null };
  }
  return { choice: v, ms: NaN, rows: null };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

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

  /** Whether the size rule sends this problem to its fallback untimed. */
  private tooSmall<C>(p: TuneProblem<C>): boolean {
    return p.fallback !== undefined && p.flops !== undefined && p.flops < (this.options.minFlops ?? TUNE_MIN_FLOPS);
  }

  private async lookupOrTune<C>(key: string, p: TuneProblem<C>): Promise<TuneResult<C>> {
    this.signal?.throwIfAborted();
    if (this.tooSmall(p)) {
      this.emit(p, null, false);
      this.done++;
      return { choice: p.fallback!, timings: [], cached: false, skipped: true };
    }
    let hit = await this.lookup(key, p);
    if (hit === undefined) {
      // Another process may have tuned it since this one read the store.
      this.cache = { ...this.cache, ...(await this.store.load().catch(() => ({}))) };
      hit = await this.lookup(key, p);
    }
    this.signal?.throwIfAborted();
    this.emit(p, null, hit !== undefined);
    let recheck: TuneResult<C>['recheck'];
    if (hit !== undefined) {
      const nowMs = await this.retime(p, hit);
      if (nowMs === null) {
        this.done++;
        return { choice: hit.choice, timings: [], cached: true };
      }
      recheck = { recordedMs: hit.ms, nowMs, retuned: nowMs > (this.options.recheck ?? RECHECK_FACTOR) * hit.ms };
      if (!recheck.retuned) {
        this.done++;
        return { choice: hit.choice, timings: [], cached: true, recheck };
      }
    }
    const res = await this.measure(p);
    this.done++;
    const ms = res.timings.find((t) => t.ok && p.name(res.choice) === t.variant)?.ms ?? NaN;
    const entry: StoredChoice = { choice: res.choice, ms, rows: this.options.rows ?? null };
    this.cache![key] = entry;
    // A store that cannot be written costs a retune next time, never this run.
    await this.store.save({ [key]: entry }).catch(() => undefined);
    return recheck ? { ...res, recheck } : res;
  }

  /** The cached choice if it is still one of the candidates (the stored object could be anything), with its recorded time. */
  private async lookup<C>(key: string, p: TuneProblem<C>): Promise<{ choice: C; ms: number; rows: number | null } | undefined> {
    this.cache ??= await this.store.load().catch(() => ({}));
    if (!(key in this.cache)) return undefined;
    const stored = parseStored(this.cache[key]);
    const want = canonical(stored.choice);
    const choice = p.candidates.find((c) => canonical(c) === want);
    return choice === undefined ? undefined : { choice, ms: stored.ms, rows: stored.rows };
  }

  /**
   * Times a cached choice now (one run to compile and warm up, then one; if that one is over the
   * recheck factor, two more and their median), or null where there is nothing to compare with
   * (no recorded time, another timing size, re-checks off). A choice that now fails is Infinity.
   */
  private async retime<C>(p: TuneProblem<C>, hit: { choice: C; ms: number; rows: number | null }): Promise<number | null> {
    const factor = this.options.recheck ?? RECHECK_FACTOR;
    if (!(factor > 0) || !Number.isFinite(hit.ms) || hit.rows !== (this.options.rows ?? null)) return null;
    const session = await p.prepare();
    try {
      const run = () => session.run(hit.choice);
      await this.once(run);
      const first = await this.once(run);
      if (first <= factor * hit.ms) return first;
      return median([first, await this.once(run), await this.once(run)]);
    } catch (e) {
      if (fatal(e)) throw e;
      await this.settle();
      return Infinity;
    } finally {
      session.release();
    }
  }

  /**
   * Checks every runnable candidate against the reference, runs each correct one once (compile
   * and warm-up), then times them in rounds: each candidate once per round, in the same order,
   * so a slow spell of the machine no longer than a round slows at most one run of each; after
   * each round those whose fastest run is CUTOFF× the best median so far stop. The lowest
   * median wins.
   */
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
    const live: Array<{ c: C; t: TuneTiming; fastest: number; samples: number[] }> = [];
    const session = runnable.length ? await p.prepare() : null;
    const failed = async (t: TuneTiming, err: unknown) => {
      if (fatal(err)) throw err;
      t.ok = false;
      t.ms = NaN;
      t.error = (err as Error).message;
      await this.settle();
    };
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
        timings.push(t);
        try {
          const err = relFrobenius(await session!.check(e.c), session!.want);
          if (err <= p.tolerance.max) {
            live.push({ c: e.c, t, fastest: await this.once(() => session!.run(e.c)), samples: [] });
            t.ok = true;
          } else t.error = `relative error ${err.toExponential(2)} over the tolerance ${p.tolerance.max.toExponential(0)} (${p.tolerance.reason})`;
        } catch (err) {
          await failed(t, err);
        }
      }
      const rounds = Math.max(1, this.options.reps ?? 3);
      let timed = live.slice();
      for (let r = 0; r < rounds && timed.length; r++) {
        for (const x of timed) {
          this.signal?.throwIfAborted();
          try {
            const ms = await this.once(() => session!.run(x.c));
            x.samples.push(ms);
            x.fastest = Math.min(x.fastest, ms);
          } catch (err) {
            await failed(x.t, err);
          }
        }
        timed = timed.filter((x) => x.t.ok);
        const best = Math.min(...timed.map((x) => median(x.samples)));
        timed = timed.filter((x) => x.fastest <= CUTOFF * best);
      }
    } finally {
      session?.release();
    }
    let best: { c: C; ms: number } | null = null;
    for (const x of live) {
      if (!x.t.ok) continue;
      x.t.ms = median(x.samples);
      x.t.samples = x.samples;
      if (!best || x.t.ms < best.ms) best = { c: x.c, ms: x.t.ms };
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

  /** Ms of one run, waited for on the device. */
  private async once(run: () => Promise<void>): Promise<number> {
    const now = this.options.now ?? (() => performance.now());
    const t0 = now();
    await run();
    await this.device.sync();
    return now() - t0;
  }
}

/** The store's keys for this device (all keys with `device` null), removed; resolves to what was removed. */
export async function resetChoices(store: TuneStore, device: TuneDevice | null): Promise<string[]> {
  if (!store.remove) throw new DeviceError('this tune store cannot remove entries');
  const mid = device ? `|${deviceKey(device)}|` : null;
  return store.remove((k) => mid === null || k.includes(mid));
}
