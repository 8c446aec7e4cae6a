// Several embed() calls on one model at once, and dispose() against calls in flight: concurrent
// calls give exactly the numbers of the same calls made one after another; dispose() while a
// call runs never throws: it waits for the batch on the GPU, and the calls still running (or
// waiting for their turn) reject with a UsageError; a disposed model refuses embed().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProtT5, UsageError, type EmbedOptions, type Embedding, type ProtT5Model } from '../src/node.js';
import { fixturesDir } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;
const seqs = cases.map((c) => c.sequence);

const ALL: EmbedOptions = { perResidue: true, perProtein: true, lastHiddenState: true };

/** Different subsets of the fixture sequences (overlapping, in different orders), one per call. */
const SUBSETS: number[][] = [[0, 1, 2, 3, 4], [4, 2, 0], [3, 1], [2, 4, 1, 3]];
const OPTIONS: EmbedOptions[] = [{ ...ALL, maxBatch: 2 }, { ...ALL, maxBatch: 1 }, { ...ALL }, { ...ALL, maxBatch: 1 }];

const load = async (): Promise<ProtT5Model> => loadProtT5(join(TINY, 't5-tiny-f32'), { runtime: await runtime(), autotune: false });

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Bit-for-bit equality of every output of two embed() results. */
function assertSame(what: string, got: Embedding[], want: Embedding[]): void {
  assert.is(got.length, want.length, `${what}: count`);
  got.forEach((e, i) => {
    const w = want[i];
    assert.is(e.index, w.index, `${what}[${i}]: index`);
    assert.is(e.length, w.length, `${what}[${i}]: length`);
    for (const k of ['perResidue', 'perProtein', 'lastHiddenState'] as const) {
      assert.is(!!e[k], !!w[k], `${what}[${i}].${k} present`);
      if (!e[k]) continue;
      assert.equal(e[k]!.shape, w[k]!.shape, `${what}[${i}].${k} shape`);
      assert.ok(bytes(e[k]!.data).equals(bytes(w[k]!.data)), `${what}[${i}].${k}: concurrent result differs from the sequential one`);
    }
  });
}

/** Awaits fn() (or calls it) and asserts a UsageError whose message holds `fragment`. */
async function usageError(fn: () => unknown, fragment: string): Promise<UsageError> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, UsageError, `expected a UsageError, got ${String(e)}`);
    assert.ok((e as Error).message.includes(fragment), `message ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(fragment)}`);
    assert.is((e as UsageError).code, 'USAGE_ERROR');
    return e as UsageError;
  }
  throw new Error(`expected a UsageError containing ${JSON.stringify(fragment)}, nothing thrown`);
}

let sequential: Embedding[][] = [];

test('four embed() calls at once give exactly the results of the same calls one after another', async () => {
  const model = await load();
  try {
    sequential = [];
    for (let k = 0; k < SUBSETS.length; k++) sequential.push(await model.embed(SUBSETS[k].map((i) => seqs[i]), OPTIONS[k]));

    const order: number[] = [];
    const concurrent = await Promise.all(SUBSETS.map((s, k) => model.embed(s.map((i) => seqs[i]), { ...OPTIONS[k], onProgress: () => order.push(k) })));
    for (let k = 0; k < SUBSETS.length; k++) assertSame(`call ${k}`, concurrent[k], sequential[k]);
    // The calls really overlapped: their batches took turns instead of running call by call.
    assert.ok(order.some((k, i) => i > 0 && k < order[i - 1]), `batches ran call by call: ${order.join(' ')}`);

    // And once more, the other way round, after the concurrent run.
    for (let k = SUBSETS.length - 1; k >= 0; k--) assertSame(`again ${k}`, await model.embed(SUBSETS[k].map((i) => seqs[i]), OPTIONS[k]), sequential[k]);
  } finally {
    model.dispose();
  }
});

test('dispose() during an embed(): never throws; the batch on the GPU finishes, the call rejects at its next batch, then the model is freed', async () => {
  const model = await load();
  let batches = 0;
  // Three batches (maxBatch 2): dispose from onProgress after the first one.
  let disposed: Promise<void> | null = null;
  const running = model.embed(SUBSETS[0].map((i) => seqs[i]), {
    ...OPTIONS[0],
    onProgress: () => {
      batches++;
      disposed ??= model.dispose();
    },
  });
  await usageError(() => running, 'disposed');
  assert.is(batches, 1, 'no batch after dispose()');
  assert.ok(disposed, 'dispose() returned a promise');
  await disposed;
  assert.is(model.dispose(), disposed, 'a second dispose() returns the first promise');
  await usageError(() => model.embed([seqs[0]]), 'disposed');

  // Calls waiting for their turn reject; dispose() resolves once the running batch is done.
  const other = await load();
  const first = other.embed([seqs[1]]);
  const second = other.embed([seqs[2]]);
  const freed = other.dispose();
  const [a, b] = await Promise.allSettled([first, second]);
  await freed;
  for (const r of [a, b]) {
    assert.is(r.status, 'rejected');
    assert.instance((r as PromiseRejectedResult).reason, UsageError);
  }

  // An embedBatches() left early (break closes it) does not hold the model.
  const third = await load();
  for await (const batch of third.embedBatches(seqs, { maxBatch: 1 })) {
    assert.is(batch.length, 1);
    break;
  }
  await third.dispose();
});

test('await using: the model is disposed at the end of the block', async () => {
  let kept: ProtT5Model | null = null;
  {
    await using model = await load();
    kept = model;
    assertSame('inside the block', await model.embed(SUBSETS[1].map((i) => seqs[i]), OPTIONS[1]), sequential[1]);
  }
  await usageError(() => kept!.embed([seqs[0]]), 'disposed');
});

test('after dispose(), embed() and embedBatches() are UsageErrors', async () => {
  const model = await load();
  model.dispose();
  await usageError(() => model.embed([seqs[0]]), 'disposed');
  await usageError(async () => {
    for await (const _ of model.embedBatches([seqs[0]])) assert.unreachable('no batch after dispose');
  }, 'disposed');
  // The shared runtime is still usable by another model.
  const other = await load();
  try {
    assertSame('a fresh model on the same runtime', await other.embed(SUBSETS[1].map((i) => seqs[i]), OPTIONS[1]), sequential[1]);
  } finally {
    other.dispose();
  }
});

test.run();
