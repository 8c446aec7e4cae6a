// The tuner: candidates the device cannot run are skipped by their requirements, the others
// are checked against the reference before they are timed, a failing one is never chosen, a
// lost device ends the tuning, choices are cached per device, op sources and shape, and the
// stores merge concurrent saves. The generic parts run on fake devices (SwiftShader's limits
// and a GPU's); the matmul and attention problems on the real one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTENTION_CANDIDATES, ATTENTION_TUNE_TOKENS, attentionCandidatesFor, attentionProblem, attentionRequires, defaultAttentionTile, DEFAULT_ATTENTION_TILE, FLASH_TILE, LLVMPIPE_ATTENTION_TILE, LLVMPIPE_SG4_ATTENTION_TILE, tuneAttention, untunedAttentionTile } from '../kernels/attention.js';
import { DEFAULT_MATMUL_TILE, defaultMatmulTile, LLVMPIPE_MATMUL_TILE, SWIFTSHADER_MATMUL_TILE, MATMUL_CANDIDATES, matmulCandidatesFor, matmulProblem, matmulRequires, matmulTileFor, matmulVariantName, tuneMatmul, type MatmulTile } from '../kernels/matmul.js';
import { DeviceError, DeviceLostError, IOError, OutOfMemoryError } from '../src/errors.js';
import { LocalStorageTuneStore } from '../src/gpu/browser-tune-store.js';
import { FileTuneStore } from '../src/gpu/node-tune-store.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { unmet } from '../src/gpu/requires.js';
import { relFrobenius } from '../src/gpu/numeric.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { Autotuner, MemoryTuneStore, RECHECK_FACTOR, TUNE_MIN_FLOPS, cachedChoices, resetChoices, tuneKey, type TuneDevice, type TuneProblem } from '../src/gpu/tuner.js';
import { runtime } from './gpu.js';

// ---- a child process for the concurrent-save test: this file run again with these variables ----
const CHILD = process.env.PROTT5_TUNE_CHILD_STORE;
if (CHILD) {
  const store = new FileTuneStore(CHILD);
  const tag = process.env.PROTT5_TUNE_CHILD_TAG!;
  while (Date.now() < Number(process.env.PROTT5_TUNE_CHILD_START)) await new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < 40; i++) await store.save({ [`${tag}${i}`]: { i } });
  process.exit(0);
}

// ---- fakes ----------------------------------------------------------------------------------

type Limits = TuneDevice['limits'];
const SWIFTSHADER_16K: Limits = {
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64,
};
const SWIFTSHADER_32K: Limits = { ...SWIFTSHADER_16K, maxComputeWorkgroupStorageSize: 32768 };
const GPU: Limits = {
  maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupStorageSize: 32768,
  maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupSizeY: 1024, maxComputeWorkgroupSizeZ: 64,
};

function fakeDevice(limits: Limits, o: { features?: string[]; subgroupMinSize?: number; description?: string; sync?: () => Promise<void> } = {}): TuneDevice {
  return {
    limits,
    adapter: { backend: 'fake', vendor: 'test', architecture: 'none', device: '', description: o.description ?? 'fake adapter', features: o.features ?? [], subgroupMinSize: o.subgroupMinSize },
    sync: o.sync ?? (async () => undefined),
  };
}

interface Fake {
  name: string;
  wg?: number[];
  bytes?: number;
  /** Milliseconds a run takes (busy wait, so the time is real wall clock). */
  ms?: number;
  /** Output of the check run (the reference is [1, 2, 3]). */
  out?: number[];
  /** Thrown by the check run. */
  fail?: () => Error;
}

const WANT = [1, 2, 3];
const busy = (ms: number) => {
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
};

/** A problem over fake candidates; `log` records every check and run, in order. */
function fakeProblem(candidates: Fake[], extra: Partial<TuneProblem<Fake>> = {}) {
  const log: string[] = [];
  let released = 0;
  const problem: TuneProblem<Fake> = {
    op: 'fake',
    shape: '3',
    sources: ['// fake shader'],
    candidates,
    name: (c) => c.name,
    requires: (c) => ({ workgroupSize: c.wg ?? [1], workgroupBytes: c.bytes ?? 0 }),
    tolerance: { max: 1e-6, reason: 'the fakes are exact' },
    prepare: () => ({
      want: WANT,
      check: async (c) => {
        log.push(`check ${c.name}`);
        if (c.fail) throw c.fail();
        return c.out ?? WANT;
      },
      run: async (c) => {
        log.push(`run ${c.name}`);
        busy(c.ms ?? 0);
      },
      release: () => void released++,
    }),
    ...extra,
  };
  return { problem, log, released: () => released };
}

const checked = (log: string[]) => log.filter((l) => l.startsWith('check ')).map((l) => l.slice(6));

// ---- generic tuner on fake devices ----------------------------------------------------------

test('candidates are filtered by the device limits: SwiftShader (256 invocations, 16 or 32 KiB) and a GPU (1024, 32 KiB)', async () => {
  const cands: Fake[] = [
    { name: '16x16', wg: [16, 16] },
    { name: '32x32', wg: [32, 32] },
    { name: '8x8 24KiB', wg: [8, 8], bytes: 24 * 1024 },
    { name: '64 40KiB', wg: [64], bytes: 40 * 1024 },
    { name: '2048x1', wg: [2048, 1] },
  ];
  const expect: Array<[string, Limits, string[]]> = [
    ['SwiftShader 16 KiB', SWIFTSHADER_16K, ['16x16']],
    ['SwiftShader 32 KiB', SWIFTSHADER_32K, ['16x16', '8x8 24KiB']],
    ['GPU', GPU, ['16x16', '32x32', '8x8 24KiB']],
  ];
  for (const [what, limits, runs] of expect) {
    const f = fakeProblem(cands);
    const res = await new Autotuner(fakeDevice(limits), new MemoryTuneStore(), { reps: 1 }).tune(f.problem);
    assert.equal(checked(f.log), runs, what);
    assert.equal(res.timings.filter((t) => t.ok).map((t) => t.variant), runs, what);
    const skipped = res.timings.filter((t) => !t.ok);
    assert.is(skipped.length, cands.length - runs.length, what);
    for (const t of skipped) assert.match(t.error ?? '', /invocations|workgroup memory/, `${what}: ${t.variant} says why`);
  }
  assert.match(unmet({ workgroupSize: [32, 32] }, fakeDevice(SWIFTSHADER_32K))!, /1024 invocations per workgroup \(32×32\); the device allows 256/);
  assert.match(unmet({ workgroupSize: [2048, 1] }, fakeDevice(GPU))!, /2048 invocations along x; the device allows 1024/);
  assert.match(unmet({ features: ['shader-f16'] }, fakeDevice(GPU))!, /shader-f16/);
  assert.is(unmet({ features: ['shader-f16'] }, fakeDevice(GPU, { features: ['shader-f16'] })), null);
});

test('the default candidates all run within the limits the runtime asks for, on SwiftShader and a GPU (sg where subgroups of 8 exist)', () => {
  for (const limits of [SWIFTSHADER_32K, GPU]) {
    const sg8 = fakeDevice(limits, { features: ['subgroups'], subgroupMinSize: 8 });
    for (const c of MATMUL_CANDIDATES) assert.is(unmet(matmulRequires(c), sg8), null, JSON.stringify(c));
    // Without subgroups only the sg tiles (matmul sg, flash with sg, gemm over sg matmuls) are out, each saying why.
    for (const c of MATMUL_CANDIDATES) {
      const why = unmet(matmulRequires(c), fakeDevice(limits));
      if (c.family === 'sg' || c.family === 'sg4') assert.match(why ?? '', /subgroups/, JSON.stringify(c));
      else assert.is(why, null, JSON.stringify(c));
    }
    for (const dk of [32, 64, 128]) for (const c of ATTENTION_CANDIDATES) {
      assert.is(unmet(attentionRequires(dk, c), sg8), null, `dk ${dk} ${JSON.stringify(c)}`);
      const why = unmet(attentionRequires(dk, c), fakeDevice(limits));
      if ((c.family === 'flash' && c.sg) || c.matmul?.family === 'sg' || c.matmul?.family === 'sg4') assert.match(why ?? '', /subgroups/, `dk ${dk} ${JSON.stringify(c)}`);
      else assert.is(why, null, `dk ${dk} ${JSON.stringify(c)}`);
    }
  }
  // A device left at the 16 KiB default: the loop tile staging 16 keys of d_kv 128 (2 × 8 KiB and
  // the length word) does not fit, and is the only one.
  assert.equal(MATMUL_CANDIDATES.filter((c) => unmet(matmulRequires(c), fakeDevice(SWIFTSHADER_16K, { features: ['subgroups'], subgroupMinSize: 8 }))), []);
  assert.equal(ATTENTION_CANDIDATES.filter((c) => unmet(attentionRequires(128, c), fakeDevice(SWIFTSHADER_16K, { features: ['subgroups'], subgroupMinSize: 8 }))), [{ family: 'loop', tq: 32, tk: 16 }]);
});

test('the fastest correct candidate wins; a slow one is cut after one run; wrong results and own errors fail', async () => {
  const f = fakeProblem([
    { name: 'slowish', ms: 6 },
    { name: 'wrong', ms: 0, out: [1, 2, 4] },
    { name: 'broken', fail: () => new DeviceError('shader "broken" failed to compile') },
    { name: 'fast', ms: 1 },
    { name: 'very slow', ms: 40 },
  ]);
  const res = await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 3 }).tune(f.problem);
  assert.is(res.choice.name, 'fast');
  assert.is(res.cached, false);
  const by = Object.fromEntries(res.timings.map((t) => [t.variant, t]));
  assert.ok(by.slowish.ok && by.fast.ok && by['very slow'].ok);
  assert.match(by.wrong.error ?? '', /relative error 2\.67e-1 over the tolerance 1e-6 \(the fakes are exact\)/);
  assert.is(by.wrong.ok, false);
  assert.match(by.broken.error ?? '', /failed to compile/);
  assert.ok(by.fast.ms < by.slowish.ms, JSON.stringify(res.timings));
  // Warm-up plus 3 timed rounds, except 'slowish' and 'very slow': after the first round their
  // fastest run (of two) is over 3× the best median.
  const runs = (n: string) => f.log.filter((l) => l === `run ${n}`).length;
  assert.equal([runs('slowish'), runs('fast'), runs('very slow'), runs('wrong')], [2, 4, 2, 0]);
  assert.is(f.released(), 1, 'the test data is released once');
});

test('duplicate variant names are tried once; too-coarse candidates are skipped while others launch enough', async () => {
  const cands: Fake[] = [{ name: 'a' }, { name: 'a' }, { name: 'coarse' }, { name: 'b' }];
  const launches = (c: Fake) => (c.name === 'coarse' ? 2 : 16);
  const f = fakeProblem(cands, { launches });
  await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 1 }).tune(f.problem);
  assert.equal(checked(f.log), ['a', 'b']);
  // None launches 8: only those launching the most run.
  const g = fakeProblem(cands, { launches: (c) => (c.name === 'b' ? 4 : 2) });
  await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 1 }).tune(g.problem);
  assert.equal(checked(g.log), ['b']);
});

test('a device lost while checking or timing is DeviceLostError, not "no variant passed"', async () => {
  let lost = false;
  const dev = fakeDevice(GPU, {
    sync: async () => {
      if (lost) throw new DeviceLostError('the GPU device was lost (destroyed): test');
    },
  });
  // Lost during the first candidate's timing: the tuner must stop, not try the next.
  const f = fakeProblem([{ name: 'a' }, { name: 'b' }]);
  const problem: TuneProblem<Fake> = {
    ...f.problem,
    prepare: async () => {
      const s = await f.problem.prepare();
      return {
        ...s,
        run: async (c) => {
          lost = true;
          await s.run(c);
        },
      };
    },
  };
  try {
    await new Autotuner(dev, new MemoryTuneStore(), { reps: 1 }).tune(problem);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceLostError);
  }
  assert.equal(checked(f.log), ['a']);
  // Lost while a candidate fails (its error looks like its own): the settle after it finds out.
  lost = false;
  const g = fakeProblem([{ name: 'a', fail: () => ((lost = true), new DeviceError('reading back 12 bytes failed')) }, { name: 'b' }]);
  try {
    await new Autotuner(dev, new MemoryTuneStore(), { reps: 1 }).tune(g.problem);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceLostError);
  }
  assert.equal(checked(g.log), ['a']);
});

test('out of memory and bugs in a problem end the tuning; only DeviceErrors are a candidate\'s own', async () => {
  for (const [err, cls] of [[() => new OutOfMemoryError('the GPU ran out of memory'), OutOfMemoryError], [() => new TypeError('x is undefined'), TypeError]] as const) {
    const f = fakeProblem([{ name: 'a', fail: err }, { name: 'b' }]);
    try {
      await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 1 }).tune(f.problem);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, cls);
    }
    assert.is(f.released(), 1, 'the test data is released on the way out');
  }
});

test('no candidate passing is a DeviceError naming the op, the shape and each reason', async () => {
  const f = fakeProblem([{ name: 'wrong', out: [0, 0, 0] }, { name: 'huge', wg: [64, 64] }]);
  try {
    await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 1 }).tune(f.problem);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceError);
    assert.match((e as Error).message, /no fake variant passed its check for 3: wrong: relative error .*; huge: needs 4096 invocations/);
  }
});

test('the cache key: op, a hash of the sources and candidates, the adapter, its features and limits, the shape', async () => {
  const store = new MemoryTuneStore();
  const cands: Fake[] = [{ name: 'a' }, { name: 'b', ms: 2 }];
  const dev = fakeDevice(GPU, { description: 'Fake GPU 9000' });
  const tune = (p: Partial<TuneProblem<Fake>> = {}, d = dev) => {
    const f = fakeProblem(cands, p);
    return new Autotuner(d, store, { reps: 1 }).tune(f.problem).then((r) => ({ ...r, checks: checked(f.log) }));
  };
  const first = await tune();
  assert.is(first.cached, false);
  assert.equal(first.choice, cands[0]);
  const key = Object.keys(store.data)[0];
  assert.ok(key.startsWith('fake|') && key.includes('|Fake GPU 9000|') && key.endsWith('|3'), key);
  assert.is(key, tuneKey(dev, fakeProblem(cands).problem));
  const again = await tune();
  assert.ok(again.cached && again.checks.length === 0, 'the same problem on the same device is cached');
  assert.equal(again.choice, cands[0]);
  assert.is((await tune({ sources: ['// fake shader, edited'] })).cached, false, 'a changed shader tunes again');
  assert.is((await tune({ candidates: [...cands, { name: 'c' }] })).cached, false, 'a changed candidate list tunes again');
  assert.is((await tune({}, fakeDevice(GPU, { description: 'Fake GPU 9000', features: ['shader-f16'] }))).cached, false, 'other features tune again');
  assert.is((await tune({}, fakeDevice(SWIFTSHADER_32K, { description: 'Fake GPU 9000' }))).cached, false, 'other limits tune again');
  assert.is((await tune({ shape: '4' })).cached, false, 'another shape tunes again');
  assert.is(Object.keys(store.data).length, 6);
  const listed = await cachedChoices(dev, store);
  assert.ok(Object.keys(listed).some((k) => /^fake@[0-9a-f]{14}\|3$/.test(k)), Object.keys(listed).join());
  // A cached value that is not one of the candidates (an edited or corrupt file) is tuned again.
  store.data[key] = { name: 'gone' };
  const fresh = await tune();
  assert.ok(!fresh.cached && fresh.checks.length === 2);
});

test('a tuner re-reads the store before tuning: what another process saved meanwhile is used', async () => {
  const store = new MemoryTuneStore();
  const cands: Fake[] = [{ name: 'a' }];
  const late = new Autotuner(fakeDevice(GPU), store, { reps: 1 });
  await late.tune(fakeProblem(cands, { shape: 'other' }).problem); // loads the (empty) store
  await new Autotuner(fakeDevice(GPU), store, { reps: 1 }).tune(fakeProblem(cands).problem);
  const f = fakeProblem(cands);
  const res = await late.tune(f.problem);
  assert.ok(res.cached && checked(f.log).length === 0);
});

// ---- noise, stale choices, the size rule, reset (a fake clock: each run advances it) ---------

/**
 * A problem whose runs take `msOf(name, call)` on a fake clock (call: the index of the run among
 * all runs, warm-ups included), and a tuner reading that clock.
 */
function clocked(names: string[], msOf: (name: string, call: number) => number, store = new MemoryTuneStore(), options: { reps?: number; minFlops?: number } = {}) {
  let clock = 0, call = 0;
  const runs: string[] = [];
  const f = fakeProblem(names.map((name) => ({ name })));
  const problem: TuneProblem<Fake> = {
    ...f.problem,
    prepare: async () => ({
      ...(await f.problem.prepare()),
      run: async (c) => {
        runs.push(c.name);
        clock += msOf(c.name, call++);
      },
    }),
  };
  const tuner = new Autotuner(fakeDevice(GPU), store, { now: () => clock, ...options });
  return { problem, tuner, runs, checks: () => checked(f.log), store };
}

const CLEAN: Record<string, number> = { a: 10, b: 13, c: 20 };

test('noise no longer than one round (any 3 runs in a row 10× slower) never changes the pick; without it the fastest wins', async () => {
  const quiet = clocked(['c', 'b', 'a'], (n) => CLEAN[n]);
  const res = await quiet.tuner.tune(quiet.problem);
  assert.is(res.choice.name, 'a');
  // 3 warm-ups, then 3 rounds of c b a: each candidate runs once per round, in one order.
  assert.equal(quiet.runs, ['c', 'b', 'a', 'c', 'b', 'a', 'c', 'b', 'a', 'c', 'b', 'a']);
  assert.equal(res.timings.map((t) => t.samples), [[20, 20, 20], [13, 13, 13], [10, 10, 10]]);
  for (let start = 0; start + 3 <= quiet.runs.length; start++) {
    const noisy = clocked(['c', 'b', 'a'], (n, call) => CLEAN[n] * (call >= start && call < start + 3 ? 10 : 1));
    const r = await noisy.tuner.tune(noisy.problem);
    assert.is(r.choice.name, 'a', `noise on runs ${start}..${start + 2}: ${JSON.stringify(r.timings)}`);
    const a = r.timings.find((t) => t.variant === 'a')!;
    assert.is(a.ms, 10, `a's median stays its clean time (noise on runs ${start}..${start + 2})`);
  }
  // One candidate's single run slowed 50×, in any round: its median is still its own.
  for (let call = 3; call < 12; call++) {
    const spike = clocked(['c', 'b', 'a'], (n, k) => CLEAN[n] * (k === call ? 50 : 1));
    assert.is((await spike.tuner.tune(spike.problem)).choice.name, 'a', `a spike on run ${call}`);
  }
});

test('the choice is stored with its median time; a cached choice running far slower than recorded is re-timed and tuned again', async () => {
  const store = new MemoryTuneStore();
  const first = clocked(['a', 'b'], (n) => CLEAN[n], store);
  assert.is((await first.tuner.tune(first.problem)).choice.name, 'a');
  const key = Object.keys(store.data)[0];
  assert.equal(store.data[key], { choice: { name: 'a' }, ms: 10, rows: null });

  // Same speed later: the re-time (a warm-up and one run) keeps it; nothing is checked.
  const same = clocked(['a', 'b'], (n) => CLEAN[n], store);
  const kept = await same.tuner.tune(same.problem);
  assert.ok(kept.cached && kept.choice.name === 'a' && same.checks().length === 0);
  assert.equal(kept.recheck, { recordedMs: 10, nowMs: 10, retuned: false });
  assert.equal(same.runs, ['a', 'a']);

  // One slow re-time run (noise) is not enough: two more, and their median is clean.
  const blip = clocked(['a', 'b'], (n, call) => (call === 1 ? 100 : CLEAN[n]), store);
  const stays = await blip.tuner.tune(blip.problem);
  assert.ok(stays.cached && stays.choice.name === 'a', JSON.stringify(stays));
  assert.equal(stays.recheck, { recordedMs: 10, nowMs: 10, retuned: false });
  assert.equal(blip.runs, ['a', 'a', 'a', 'a']);

  // 'a' now runs 5× slower (a driver update, a choice stored on another machine's quiet hour):
  // over RECHECK_FACTOR× its record, so every candidate is measured again and 'b' stored.
  assert.ok(50 > RECHECK_FACTOR * 10);
  const stale = clocked(['a', 'b'], (n) => (n === 'a' ? 50 : CLEAN[n]), store);
  const again = await stale.tuner.tune(stale.problem);
  assert.ok(!again.cached && again.choice.name === 'b', JSON.stringify(again));
  assert.equal(again.recheck, { recordedMs: 10, nowMs: 50, retuned: true });
  assert.equal(stale.checks(), ['a', 'b']);
  assert.equal(store.data[key], { choice: { name: 'b' }, ms: 13, rows: null });

  // A choice stored without a time (an older store) or at another timing size is used as it is.
  store.data[key] = { name: 'a' };
  const legacy = clocked(['a', 'b'], (n) => (n === 'a' ? 50 : CLEAN[n]), store);
  const old = await legacy.tuner.tune(legacy.problem);
  assert.ok(old.cached && old.choice.name === 'a' && old.recheck === undefined && legacy.runs.length === 0);
  // recheck 0 turns re-times off.
  store.data[key] = { choice: { name: 'a' }, ms: 10, rows: null };
  const off = fakeProblem([{ name: 'a' }, { name: 'b' }]);
  const offRes = await new Autotuner(fakeDevice(GPU), store, { recheck: 0 }).tune(off.problem);
  assert.ok(offRes.cached && offRes.recheck === undefined && off.log.length === 0);
});

test("the size rule's fallbacks run on any device (no subgroups, a 16 KiB workgroup memory), whatever the kind's default needs", () => {
  for (const kind of ['llvmpipe', 'swiftshader', 'hardware'] as const) {
    const rt = { adapter: { kind, features: [] }, limits: SWIFTSHADER_16K } as unknown as Runtime;
    const mm = matmulProblem(rt, 128, 128, 'f16');
    assert.is(unmet(matmulRequires(mm.fallback!), fakeDevice(SWIFTSHADER_16K)), null, `matmul on ${kind}`);
    const at = attentionProblem(rt, 32, 4);
    assert.is(unmet(attentionRequires(32, at.fallback!), fakeDevice(SWIFTSHADER_16K)), null, `attention on ${kind}`);
  }
});

test('the size rule: a problem under minFlops with a fallback is not measured (the fallback, nothing stored); minFlops 0 measures it', async () => {
  const small = { flops: TUNE_MIN_FLOPS / 2, fallback: { name: 'default' } };
  const store = new MemoryTuneStore();
  const f = fakeProblem([{ name: 'a' }, { name: 'b' }], small);
  const res = await new Autotuner(fakeDevice(GPU), store).tune(f.problem);
  assert.equal(res.choice, { name: 'default' });
  assert.ok(res.skipped && !res.cached && f.log.length === 0 && Object.keys(store.data).length === 0);
  const g = fakeProblem([{ name: 'a' }, { name: 'b' }], small);
  const all = await new Autotuner(fakeDevice(GPU), store, { minFlops: 0, reps: 1 }).tune(g.problem);
  assert.ok(!all.skipped && checked(g.log).length === 2);
  const h = fakeProblem([{ name: 'a' }], { ...small, flops: TUNE_MIN_FLOPS * 2 });
  assert.not.ok((await new Autotuner(fakeDevice(GPU), new MemoryTuneStore(), { reps: 1 }).tune(h.problem)).skipped, 'over the rule: tuned');
});

test('resetChoices removes this device\'s choices (or all) from a FileTuneStore and says which', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-tune-'));
  try {
    const path = join(dir, 'autotune.json');
    const store = new FileTuneStore(path);
    const mine = fakeDevice(GPU, { description: 'Mine' }), other = fakeDevice(GPU, { description: 'Other' });
    for (const d of [mine, other]) for (const shape of ['1', '2']) await new Autotuner(d, store, { reps: 1 }).tune(fakeProblem([{ name: 'a' }], { shape }).problem);
    assert.is(Object.keys(await store.load()).length, 4);
    const gone = await resetChoices(store, mine);
    assert.is(gone.length, 2);
    assert.ok(gone.every((k) => k.includes('|Mine|')), gone.join());
    const left = Object.keys(await store.load());
    assert.ok(left.length === 2 && left.every((k) => k.includes('|Other|')), left.join());
    assert.equal(await resetChoices(store, mine), [], 'nothing left to remove');
    assert.is((await resetChoices(store, null)).length, 2);
    assert.equal(await store.load(), {});
    assert.equal(readdirSync(dir), ['autotune.json'], 'no lock or temporary file is left');
    assert.equal(await resetChoices(new FileTuneStore(join(dir, 'none.json')), null), [], 'no file: nothing removed, none made');
    assert.not.ok(existsSync(join(dir, 'none.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the matmul and attention problems on the real device ------------------------------------

const GOOD: MatmulTile[] = [
  { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k1', tm: 2, tn: 2, wgX: 8, wgY: 8 },
];
/** Twice the device's own invocation limit (from rt.limits): no device can build it. */
const tooManyInvocations = (rt: Runtime): MatmulTile => ({ family: 'k4', tm: 1, tn: 1, wgX: 32, wgY: (2 * rt.limits.maxComputeInvocationsPerWorkgroup) / 32 });
const family = (variant: string) => /family=(\w+)/.exec(variant)?.[1];

test('matmul tuning never picks a candidate the device cannot run, then caches the choice', async () => {
  const rt = await runtime();
  const store = new MemoryTuneStore();
  const broken = tooManyInvocations(rt);
  // N = 256: every candidate launches at least 8 workgroups, so none is skipped.
  const res = await tuneMatmul(new Autotuner(rt, store, { rows: 16, reps: 1, minFlops: 0 }), 256, 36, 'f16', [broken, ...GOOD]);
  assert.is(res.cached, false);
  assert.is(res.timings.length, 3);
  assert.is(res.timings[0].variant, matmulVariantName('f16', 'none', broken));
  assert.is(res.timings[0].ok, false);
  assert.match(res.timings[0].error ?? '', new RegExp(`needs ${2 * rt.limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup`));
  assert.ok(GOOD.some((g) => JSON.stringify(g) === JSON.stringify(res.choice)), `chose ${JSON.stringify(res.choice)}`);
  for (const t of res.timings.filter((x) => x.ok)) assert.ok(t.ms > 0, `${t.variant} was timed`);
  console.log('  ', res.timings.map((t) => `${t.variant}: ${t.ok ? `${t.ms.toFixed(2)} ms` : t.error}`).join('; '));

  const again = await tuneMatmul(new Autotuner(rt, store, { minFlops: 0 }), 256, 36, 'f16', [broken, ...GOOD]);
  assert.is(again.cached, true);
  assert.equal(again.choice, res.choice);
  const keys = Object.keys(store.data);
  assert.ok(keys.some((k) => k.startsWith('matmul|') && k.includes(rt.adapter.description) && k.endsWith('|f16|256|36')), keys.join());
});

test('a candidate whose shader fails on the real device is marked failed with the device\'s message', async () => {
  const rt = await runtime();
  // The check runs a real shader: 'bad' does not compile, 'good' writes the reference.
  const shader = (body: string) => `struct Params { n: u32, }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n@compute @workgroup_size(1) fn main() {\n  ${body}\n}`;
  const problem: TuneProblem<string> = {
    op: 'probe', shape: '3', sources: [], candidates: ['bad', 'good'], name: (c) => `probe_${c}`, requires: () => ({}),
    tolerance: { max: 0, reason: 'exact copies' },
    prepare: () => {
      const out = rt.empty([3], 'f32', 'probe_out');
      const run = async (c: string) => {
        const code = c === 'bad' ? shader('out[0] = undefined_thing;') : shader('out[0] = 1.0; out[1] = 2.0; out[2] = f32(p.n);');
        rt.dispatch(await rt.pipeline(`probe_${c}`, code), new Uint32Array([3, 0, 0, 0]).buffer, [out.buffer], [1]);
      };
      return { want: WANT, check: async (c) => (await run(c), rt.read(out)), run, release: () => out.release() };
    },
  };
  const res = await new Autotuner(rt, new MemoryTuneStore(), { reps: 1 }).tune(problem);
  assert.is(res.choice, 'good');
  assert.is(res.timings[0].ok, false);
  assert.match(res.timings[0].error ?? '', /shader "probe_bad" failed to compile/);
});

test('a device destroyed inside a candidate\'s check surfaces as DeviceLostError', async () => {
  const own = await createNodeRuntime();
  const problem: TuneProblem<string> = {
    op: 'probe', shape: 'lost', sources: [], candidates: ['a', 'b'], name: (c) => c, requires: () => ({}),
    tolerance: { max: 0, reason: 'exact' },
    prepare: () => {
      const out = own.empty([3], 'f32', 'probe_out');
      return {
        want: WANT,
        check: async () => {
          own.device.destroy();
          const code = 'struct Params { n: u32, }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n@compute @workgroup_size(1) fn main() { out[0] = f32(p.n); }';
          own.dispatch(await own.pipeline('probe_lost', code), new Uint32Array(4).buffer, [out.buffer], [1]);
          return own.read(out);
        },
        run: async () => undefined,
        release: () => out.release(),
      };
    },
  };
  try {
    await new Autotuner(own, new MemoryTuneStore(), { reps: 1 }).tune(problem);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceLostError, `got ${(e as Error).name}: ${(e as Error).message}`);
  }
});

test('a K that is not a multiple of 4 only runs the k1 family', async () => {
  const rt = await runtime();
  const res = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 9, 7, 'bf16', GOOD);
  assert.is(res.choice.family, 'k1');
  assert.ok(res.timings.every((t) => family(t.variant) === 'k1'), JSON.stringify(res.timings));
});

test('every family is checked and timed; k4 families fall back to k1 for odd K, smem runs as is', async () => {
  const rt = await runtime();
  const families: MatmulTile[] = [
    { family: 'k4dot', tm: 4, tn: 8, wgX: 8, wgY: 8 },
    { family: 'smem', tm: 2, tn: 2, wgX: 8, wgY: 8, kt: 8 },
    { family: 'k4', tm: 2, tn: 2, wgX: 8, wgY: 8 },
  ];
  const even = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 512, 36, 'f16', families);
  assert.equal(even.timings.map((t) => family(t.variant)), ['k4dot', 'smem', 'k4']);
  assert.ok(even.timings.every((t) => t.ok && t.ms > 0), JSON.stringify(even.timings));
  const odd = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 512, 37, 'bf16', families);
  assert.equal(odd.timings.map((t) => family(t.variant)), ['k1', 'smem', 'k1']);
  assert.ok(odd.timings.every((t) => t.ok), JSON.stringify(odd.timings));
});

test('tiles that would launch fewer than 8 workgroups are skipped while others launch enough', async () => {
  const rt = await runtime();
  const big: MatmulTile = { family: 'k4dot', tm: 32, tn: 32, wgX: 4, wgY: 4 };
  const res = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 256, 32, 'f16', [big, GOOD[0]]);
  assert.equal(res.timings.map((t) => t.variant), [matmulVariantName('f16', 'none', GOOD[0])]);
  assert.equal(res.choice, GOOD[0]);
  // N = 64: none launches 8; only those launching the most (k1 2×2: 4, k4 4×4: 2, big: 1) run.
  const small = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 64, 32, 'f16', [big, ...GOOD]);
  assert.equal(small.timings.map((t) => t.variant), [matmulVariantName('f16', 'none', GOOD[1])]);
});

test('an smem tile too big for the device\'s workgroup memory is skipped and not chosen', async () => {
  const rt = await runtime();
  // (8·16 + 8·16) rows × kt × 4 bytes: kt chosen from rt.limits to need more than the device has.
  const kt = Math.ceil(rt.limits.maxComputeWorkgroupStorageSize / 1024) + 1;
  const huge: MatmulTile = { family: 'smem', tm: 8, tn: 8, wgX: 16, wgY: 16, kt };
  const res = await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 16, 32, 'f32', [huge, GOOD[0]]);
  assert.is(res.timings[0].ok, false);
  assert.match(res.timings[0].error ?? '', /bytes of workgroup memory/);
  assert.equal(res.choice, GOOD[0]);
});

test('no matmul candidate the device can run is an error naming the op and shape, not a silent default', async () => {
  const rt = await runtime();
  try {
    await tuneMatmul(new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1, minFlops: 0 }), 8, 8, 'f32', [tooManyInvocations(rt)]);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceError);
    assert.match((e as Error).message, /no matmul variant passed its check for f32\|8\|8/);
  }
});

test('the matmul problem checks each candidate as it runs at this K, against the tolerance it states', () => {
  const p = matmulProblem({} as Runtime, 64, 30, 'f16', 64, MATMUL_CANDIDATES);
  assert.equal(p.candidates, MATMUL_CANDIDATES.map((c) => matmulTileFor(30, c)));
  assert.ok(p.tolerance.max > 0 && p.tolerance.reason.length > 10);
  assert.is(p.shape, 'f16|64|30');
});

test('llvmpipe: defaults and candidates that compile in seconds (no 32×16 matmul tiles, no unrolled attention); SwiftShader: gemm attention only; GPUs: all', () => {
  assert.equal(defaultMatmulTile('llvmpipe'), LLVMPIPE_MATMUL_TILE);
  assert.equal(defaultAttentionTile('llvmpipe'), LLVMPIPE_ATTENTION_TILE);
  assert.equal(defaultMatmulTile('swiftshader'), SWIFTSHADER_MATMUL_TILE);
  for (const kind of ['hardware', undefined] as const) assert.equal(defaultMatmulTile(kind), DEFAULT_MATMUL_TILE);
  for (const kind of ['swiftshader', 'hardware', undefined] as const) {
    assert.equal(defaultAttentionTile(kind), DEFAULT_ATTENTION_TILE);
    assert.equal(matmulCandidatesFor(kind), MATMUL_CANDIDATES);
  }
  for (const kind of ['hardware', undefined] as const) assert.equal(attentionCandidatesFor(kind), ATTENTION_CANDIDATES);
  const has = (list: readonly object[], c: object) => list.some((x) => JSON.stringify(x) === JSON.stringify(c));
  const mm = matmulCandidatesFor('llvmpipe');
  assert.ok(mm.length >= 4 && mm.every((c) => c.tm * c.tn <= (c.family === 'sg' ? 256 : 128)) && has(mm, LLVMPIPE_MATMUL_TILE), JSON.stringify(mm));
  // Left out on llvmpipe: the tiles over 128 outputs but sg's (SwiftShader's sg4 32×16, the dot families' 16×16 and 32×16).
  assert.equal(MATMUL_CANDIDATES.filter((c) => !mm.includes(c)).map((c) => `${c.family} ${c.tm}×${c.tn}`), ['sg4 32×16', 'k8dot 32×16', 'k4dot 32×16', 'k4dot 16×16']);
  const at = attentionCandidatesFor('llvmpipe');
  assert.ok(at.every((c) => c.family !== 'unrolled' && (!c.matmul || c.matmul.tm * c.matmul.tn <= 256)) && has(at, LLVMPIPE_ATTENTION_TILE), JSON.stringify(at));
  const ss = attentionCandidatesFor('swiftshader');
  assert.ok(ss.every((c) => c.family === 'gemm') && has(ss, DEFAULT_ATTENTION_TILE) && ss.some((c) => c.matmul?.family === 'k8dot') && ss.some((c) => c.matmul?.family === 'sg4'), JSON.stringify(ss));
  // SwiftShader times every gemm candidate and nothing else.
  assert.is(ss.length, ATTENTION_CANDIDATES.filter((c) => c.family === 'gemm').length);
  // llvmpipe leaves out the unrolled tiles and just the gemm tiles over 16×16 (SwiftShader's k8dot and sg4 32×16).
  const fused = ATTENTION_CANDIDATES.filter((c) => c.family !== 'gemm' && c.family !== 'unrolled');
  assert.ok(fused.length >= 3 && fused.every((c) => at.includes(c)), JSON.stringify(fused));
  assert.is(at.length, fused.length + ss.length - 2);
  assert.is(ss.filter((c) => c.matmul && c.matmul.tm * c.matmul.tn > 256).length, 2);
});

test("untuned attention: the kind's default where the device runs it; llvmpipe with subgroups of 4 gemm over sg4; else flash, with sg 4 where it has subgroups of 4", () => {
  const on = (kind: string, features: string[], subgroupMinSize?: number) =>
    untunedAttentionTile({ adapter: { kind, features, subgroupMinSize }, limits: GPU } as unknown as Pick<Runtime, 'adapter' | 'limits'>);
  assert.equal(on('llvmpipe', ['subgroups'], 8), LLVMPIPE_ATTENTION_TILE);
  // Chromium's llvmpipe: subgroups of 4 (the sg matmuls need 8, sg4 4).
  assert.equal(on('llvmpipe', ['subgroups'], 4), LLVMPIPE_SG4_ATTENTION_TILE);
  assert.equal(LLVMPIPE_SG4_ATTENTION_TILE.matmul?.family, 'sg4');
  assert.equal(on('llvmpipe', ['subgroups'], 2), FLASH_TILE);
  assert.equal(on('llvmpipe', []), FLASH_TILE);
  // SwiftShader's and GPUs' default needs no subgroups.
  assert.equal(on('swiftshader', []), DEFAULT_ATTENTION_TILE);
  assert.equal(on('hardware', ['subgroups'], 32), DEFAULT_ATTENTION_TILE);
});

test('attention tuning checks and times both families', async () => {
  const rt = await runtime();
  const res = await tuneAttention(new Autotuner(rt, new MemoryTuneStore(), { rows: 24, reps: 1, minFlops: 0 }), 32, 2, [
    { family: 'unrolled', tq: 16, tk: 4 },
    { family: 'loop', tq: 16, tk: 8 },
  ]);
  assert.equal(res.timings.map((t) => family(t.variant)), ['unrolled', 'loop']);
  assert.ok(res.timings.every((t) => t.ok), JSON.stringify(res.timings));
});

test("attention tuning checks at the tuner's rows and times a typical protein's length; the size rule reads the rows", async () => {
  const rt = await runtime();
  const p = attentionProblem(rt, 32, 2, 24);
  assert.is(p.flops, 4 * 24 * 24 * 32 * 2);
  rt.pool.trim(); // every buffer prepare() takes is allocated, and recorded
  const before = rt.pool.allocations.length;
  const session = await p.prepare();
  try {
    const bytes = (label: string) => rt.pool.allocations.slice(before).find((a) => a.label === label)?.bytes ?? 0;
    assert.ok(bytes('tune_check_q') >= 24 * 2 * 32 * 4 && bytes('tune_check_q') < 2 * 24 * 2 * 32 * 4, `check q: ${bytes('tune_check_q')} bytes`);
    assert.ok(bytes('tune_time_q') >= ATTENTION_TUNE_TOKENS * 2 * 32 * 4, `timed q: ${bytes('tune_time_q')} bytes`);
    assert.is(session.want.length, 24 * 2 * 32);
    const tile = { family: 'loop', tq: 16, tk: 8 } as const;
    assert.ok(relFrobenius(await session.check(tile), session.want) < 1e-4);
    await session.run(tile);
    await rt.sync();
  } finally {
    session.release();
  }
});

// ---- stores -----------------------------------------------------------------------------------

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'prott5-tune-'));
}

test('FileTuneStore persists choices as JSON and merges saves with what is on disk', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'sub', 'autotune.json');
    const s = new FileTuneStore(path);
    assert.equal(await s.load(), {});
    await s.save({ a: { family: 'k4' } });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')), { a: { family: 'k4' } });
    // Another instance (another process) saves a different key: both stay.
    await new FileTuneStore(path).save({ b: 2 });
    await s.save({ c: 3 });
    assert.equal(await new FileTuneStore(path).load(), { a: { family: 'k4' }, b: 2, c: 3 });
    assert.equal(readdirSync(join(dir, 'sub')), ['autotune.json'], 'no lock or temporary file is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileTuneStore: a stale lock is removed; a live one is waited for, then an IOError', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'autotune.json');
    writeFileSync(`${path}.lock`, '12345\n');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(`${path}.lock`, old, old);
    await new FileTuneStore(path, { staleLockMs: 30_000 }).save({ a: 1 });
    assert.equal(await new FileTuneStore(path).load(), { a: 1 });
    assert.not.ok(existsSync(`${path}.lock`));
    writeFileSync(`${path}.lock`, '12345\n');
    const t0 = Date.now();
    try {
      await new FileTuneStore(path, { lockTimeoutMs: 200 }).save({ b: 2 });
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, IOError);
      assert.match((e as Error).message, /autotune\.json\.lock is held by another process/);
    }
    assert.ok(Date.now() - t0 >= 200, 'it waited');
    assert.equal(await new FileTuneStore(path).load(), { a: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LocalStorageTuneStore merges saves with what another tab stored, and falls back to memory', async () => {
  const items = new Map<string, string>();
  const g = globalThis as { localStorage?: unknown };
  g.localStorage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
  try {
    const tab1 = new LocalStorageTuneStore('k'), tab2 = new LocalStorageTuneStore('k');
    await tab1.save({ a: 1 });
    await tab2.save({ b: 2 });
    await tab1.save({ c: 3 });
    assert.equal(JSON.parse(items.get('k')!), { a: 1, b: 2, c: 3 });
    assert.equal(await tab2.load(), { a: 1, b: 2, c: 3 });
    g.localStorage = { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('quota'); } };
    const blocked = new LocalStorageTuneStore('k');
    await blocked.save({ d: 4 });
    assert.equal(await blocked.load(), { d: 4 }, 'kept in memory for this page');
  } finally {
    delete g.localStorage;
  }
});

test('two processes saving into one FileTuneStore at the same moment keep every entry', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'autotune.json');
    const start = Date.now() + 1500; // both children are up by then
    const child = (tag: string) =>
      new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
          env: { ...process.env, PROTT5_TUNE_CHILD_STORE: path, PROTT5_TUNE_CHILD_TAG: tag, PROTT5_TUNE_CHILD_START: String(start) },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        p.on('close', resolve);
      });
    assert.equal(await Promise.all([child('a'), child('b')]), [0, 0]);
    const data = JSON.parse(readFileSync(path, 'utf8'));
    const missing = ['a', 'b'].flatMap((t) => Array.from({ length: 40 }, (_, i) => `${t}${i}`)).filter((k) => !(k in data));
    assert.equal(missing, [], `lost entries: ${missing.join(' ')}`);
    assert.equal(readdirSync(dir), ['autotune.json'], 'no lock or temporary file is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
