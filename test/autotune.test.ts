// The autotuner: candidates are checked against the reference before they are timed, a
// failing one is never chosen, choices are cached per adapter in the store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Autotuner, MemoryTuneStore } from '../src/gpu/autotune.js';
import { FileTuneStore } from '../src/gpu/node-tune-store.js';
import type { MatmulTile } from '../kernels/matmul.js';
import { runtime } from './gpu.js';

// 32×32 invocations exceed every device's per-workgroup limit: this variant cannot be built.
const BROKEN: MatmulTile = { family: 'k4', tm: 1, tn: 1, wgX: 32, wgY: 32 };
const GOOD: MatmulTile[] = [
  { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k1', tm: 2, tn: 2, wgX: 8, wgY: 8 },
];

test('matmul tuning never picks a failing variant, then caches the choice', async () => {
  const rt = await runtime();
  const store = new MemoryTuneStore();
  const tuner = new Autotuner(rt, store, { rows: 16, reps: 1 });
  // N = 256: every candidate launches at least 8 workgroups, so none is skipped.
  const res = await tuner.matmul(256, 36, 'f16', [BROKEN, ...GOOD]);
  assert.is(res.cached, false);
  assert.is(res.timings.length, 3);
  const broken = res.timings.find((t) => t.variant.includes('wg32x32'))!;
  assert.is(broken.ok, false);
  assert.ok(GOOD.some((g) => JSON.stringify(g) === JSON.stringify(res.choice)), `chose ${JSON.stringify(res.choice)}`);
  for (const t of res.timings.filter((x) => x.ok)) assert.ok(t.ms > 0, `${t.variant} was timed`);
  console.log('  ', res.timings.map((t) => `${t.variant}: ${t.ok ? `${t.ms.toFixed(2)} ms` : 'failed'}`).join('; '));

  const again = await new Autotuner(rt, store).matmul(256, 36, 'f16', [BROKEN, ...GOOD]);
  assert.is(again.cached, true);
  assert.equal(again.choice, res.choice);
  const keys = Object.keys(store.data);
  assert.ok(keys.some((k) => k.includes(rt.adapter.description) && k.endsWith('matmul|f16|256|36')), keys.join());
});

test('a K that is not a multiple of 4 only runs the k1 family', async () => {
  const rt = await runtime();
  const res = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(9, 7, 'bf16', GOOD);
  assert.is(res.choice.family, 'k1');
  assert.ok(res.timings.every((t) => t.variant.startsWith('matmul_k1')));
});

test('every family is checked and timed; k4 families fall back to k1 for odd K, smem runs as is', async () => {
  const rt = await runtime();
  const families: MatmulTile[] = [
    { family: 'k4dot', tm: 4, tn: 8, wgX: 8, wgY: 8 },
    { family: 'smem', tm: 2, tn: 2, wgX: 8, wgY: 8, kt: 8 },
    { family: 'k4', tm: 2, tn: 2, wgX: 8, wgY: 8 },
  ];
  const even = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(512, 36, 'f16', families);
  assert.equal(even.timings.map((t) => t.variant.split('_')[1]), ['k4dot', 'smem', 'k4']);
  assert.ok(even.timings.every((t) => t.ok && t.ms > 0), JSON.stringify(even.timings));
  const odd = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(512, 37, 'bf16', families);
  assert.equal(odd.timings.map((t) => t.variant.split('_')[1]), ['k1', 'smem', 'k1']);
  assert.ok(odd.timings.every((t) => t.ok), JSON.stringify(odd.timings));
});

test('tiles that would launch fewer than 8 workgroups are skipped while others launch enough', async () => {
  const rt = await runtime();
  const big: MatmulTile = { family: 'k4dot', tm: 32, tn: 32, wgX: 4, wgY: 4 };
  const res = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(256, 32, 'f16', [big, GOOD[0]]);
  assert.equal(res.timings.map((t) => t.variant), ['matmul_k4_f16_none_tm4_tn4_wg8x8']);
  assert.equal(res.choice, GOOD[0]);
  // N = 64: none launches 8; only those launching the most (k1 2×2: 4, k4 4×4: 2, big: 1) run.
  const small = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(64, 32, 'f16', [big, ...GOOD]);
  assert.equal(small.timings.map((t) => t.variant), ['matmul_k1_f16_none_tm2_tn2_wg8x8']);
});

test('an smem tile too big for the workgroup memory fails its check and is not chosen', async () => {
  const rt = await runtime();
  const huge: MatmulTile = { family: 'smem', tm: 8, tn: 8, wgX: 16, wgY: 16, kt: 1024 };
  const res = await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(16, 32, 'f32', [huge, GOOD[0]]);
  assert.is(res.timings[0].ok, false);
  assert.equal(res.choice, GOOD[0]);
});

test('no correct variant at all is an error, not a silent default', async () => {
  const rt = await runtime();
  try {
    await new Autotuner(rt, new MemoryTuneStore(), { rows: 8, reps: 1 }).matmul(8, 8, 'f32', [BROKEN]);
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /no matmul variant passed/);
  }
});

test('attention tuning checks and times both families', async () => {
  const rt = await runtime();
  const res = await new Autotuner(rt, new MemoryTuneStore(), { rows: 24, reps: 1 }).attention(32, 2, [
    { family: 'unrolled', tq: 16, tk: 4 },
    { family: 'loop', tq: 16, tk: 8 },
  ]);
  assert.is(res.timings.length, 2);
  assert.ok(res.timings.every((t) => t.ok));
});

test('FileTuneStore persists choices atomically as JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-tune-'));
  try {
    const path = join(dir, 'sub', 'autotune.json');
    const s = new FileTuneStore(path);
    assert.equal(await s.load(), {});
    await s.save({ a: { family: 'k4' } });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')), { a: { family: 'k4' } });
    assert.equal(await new FileTuneStore(path).load(), { a: { family: 'k4' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
