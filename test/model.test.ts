// The encoder against the fixtures' float64 outputs: every weights folder, every case, one by
// one and batched with padding (relative Frobenius error per sequence < 1e-4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeRuntime, DeviceLostError, loadProtT5, OutOfMemoryError, type Embedding, type ProtT5Model } from '../src/node.js';
import { expectClose, fixturesDir, expected } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const cases: Array<{ index: number; sequence: string; length: number; input_ids: number[] }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;

// The acceptance bound: f32 compute against a float64 reference, per sequence.
const TOL = 1e-4;

const FOLDERS: Array<[string, string]> = [
  ['t5-tiny-f32', 'F32'],
  ['t5-tiny-f16', 'F16'],
  ['t5-tiny-bf16', 'BF16'],
  ['t5-tiny-sharded', 'F32'],
  ['t5-tiny-seq2seq', 'F32'],
  ['t5-tiny-torch-f16', 'F16'],
];

const want = expected;

let worst = 0;
let worstAt = '';
async function compare(where: string, dtype: string, e: Embedding, i: number): Promise<void> {
  assert.is(e.length, cases[i].length, `${where}: length`);
  for (const [kind, got] of [['hidden', e.lastHiddenState], ['residue', e.perResidue], ['protein', e.perProtein]] as const) {
    assert.ok(got, `${where}: ${kind} missing`);
    const err = expectClose(`${where} ${dtype}.${kind}.${i}`, got!.data, await want(`${dtype}.${kind}.${i}`), TOL);
    if (err > worst) [worst, worstAt] = [err, `${where} ${dtype}.${kind}.${i}`];
  }
  assert.equal(e.perResidue!.shape, [cases[i].length, e.perProtein!.shape[0]]);
  assert.equal(e.lastHiddenState!.shape, [cases[i].length + 1, e.perProtein!.shape[0]]);
}

const ALL = { perResidue: true, perProtein: true, lastHiddenState: true };

for (const [folder, dtype] of FOLDERS) {
  test(`${folder}: every case one by one, then all batched with padding`, async () => {
    const model: ProtT5Model = await loadProtT5(join(TINY, folder), { runtime: await runtime() });
    try {
      for (const c of cases) {
        const [e] = await model.embed([c.sequence], ALL);
        await compare(`${folder} alone`, dtype, e, c.index);
      }
      const batched = await model.embed(cases.map((c) => c.sequence), ALL);
      assert.is(batched.length, cases.length);
      for (const c of cases) {
        assert.is(batched[c.index].index, c.index, 'results come back in input order');
        await compare(`${folder} batched`, dtype, batched[c.index], c.index);
      }
    } finally {
      model.dispose();
    }
  });
}

test('batch limits split the work but not the numbers; ids carried through', async () => {
  const model = await loadProtT5(join(TINY, 't5-tiny-f32'), { runtime: await runtime() });
  try {
    let calls = 0;
    const input = cases.map((c) => ({ id: `case${c.index}`, sequence: c.sequence }));
    const res = await model.embed(input, { ...ALL, maxResidues: 400, maxBatch: 2, onProgress: () => calls++ });
    assert.ok(calls >= 3, `expected several batches, got ${calls}`);
    for (const c of cases) {
      assert.is(res[c.index].id, `case${c.index}`);
      await compare('limited batches', 'F32', res[c.index], c.index);
    }
  } finally {
    model.dispose();
  }
});

test('a model reports the stored dtypes it keeps on the GPU', async () => {
  for (const [folder, dt] of [['t5-tiny-f16', 'f16'], ['t5-tiny-bf16', 'bf16'], ['t5-tiny-f32', 'f32']]) {
    const model = await loadProtT5(join(TINY, folder), { runtime: await runtime() });
    assert.equal([...model.encoder.weightDtypes], [dt], folder);
    model.dispose();
  }
});

test('one batch is recorded and submitted whole: no readback mid-forward', async () => {
  const rt = await runtime();
  const model = await loadProtT5(join(TINY, 't5-tiny-f16'), { runtime: rt });
  try {
    await model.embed([cases[3].sequence]); // compiles pipelines
    const before = { ...rt.stats };
    await model.embed(cases.map((c) => c.sequence), ALL);
    const dispatches = rt.stats.dispatches - before.dispatches;
    const submits = rt.stats.submits - before.submits;
    // 3 layers × 9 dispatches + embedding + final norm + mean pool, in one batch.
    assert.ok(dispatches >= 3 * 9 + 3, `dispatches ${dispatches}`);
    // The whole forward in one submit; the two readbacks (per-protein, hidden) add one each at most.
    assert.ok(submits <= 3, `${submits} submits for one batch`);
  } finally {
    model.dispose();
  }
});

test('a batch over the device limits is split in halves by itself and gives the same numbers', async () => {
  // A runtime capped at 512 KiB per buffer: the 5 cases batched need ~770 KiB for q; each alone fits.
  const small = await createNodeRuntime({ maxBufferBytes: 512 * 1024 });
  const model = await loadProtT5(join(TINY, 't5-tiny-f32'), { runtime: small });
  try {
    const res = await model.embed(cases.map((c) => c.sequence), { ...ALL, maxResidues: 100000 });
    assert.ok(model.splits >= 1, 'the batch was split');
    for (const c of cases) await compare('split batch', 'F32', res[c.index], c.index);
    // One sequence too long for the limit still fails, with the typed error naming what to lower.
    await model.embed(['A'.repeat(3000)]).then(
      () => assert.unreachable('should not fit'),
      (e: Error) => {
        assert.instance(e, OutOfMemoryError);
        assert.match(e.message, /--max-residues or --max-batch \(maxResidues \/ maxBatch in the API\)/);
      },
    );
  } finally {
    model.dispose();
    small.destroy();
  }
});

test('the device destroyed while embed() runs: a DeviceLostError, whenever it lands', async () => {
  const own = await createNodeRuntime();
  const model = await loadProtT5(join(TINY, 't5-tiny-f32'), { runtime: own, autotune: false });
  try {
    // 40 one-sequence batches of 300 residues take seconds here; the loss lands inside one of them.
    const run = model.embed(Array.from({ length: 40 }, () => cases[4].sequence), { maxBatch: 1 });
    setTimeout(() => own.device.destroy(), 300);
    await run.then(
      () => assert.unreachable('embed must fail once the device is gone'),
      (e: Error) => {
        assert.instance(e, DeviceLostError);
        assert.match(e.message, /device was lost/);
      },
    );
  } finally {
    model.dispose();
  }
});

test.after(() => console.log(`model worst relative error: ${worst.toExponential(2)} (${worstAt})`));
test.run();
