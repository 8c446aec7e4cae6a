// The library as an app meets it: load progress names every phase (upload, tuning, compiling),
// abort stops a load or an embed and leaves the model (and the device) usable, JS input that
// TypeScript would have refused is a UsageError naming the argument, the result types follow
// the options asked (this file is type-checked with `!`-free field accesses), and the error
// codes form a union that `switch` narrows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoModel, loadProtT5, MemoryTuneStore, ProtT5Error, UsageError, type ErrorCode, type LoadProgress } from '../src/node.js';
import { UrlFiles } from '../weights/browser-files.js';
import { expectClose, fixturesDir, expected } from './helpers.js';
import { runtime } from './gpu.js';

const TINY = join(fixturesDir(), 't5-tiny');
const F32 = join(TINY, 't5-tiny-f32');
const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;

async function rejects(fn: () => unknown, check: (e: unknown) => void): Promise<void> {
  try {
    await fn();
  } catch (e) {
    check(e);
    return;
  }
  assert.unreachable('expected a rejection');
}

const usage = (...fragments: string[]) => (e: unknown) => {
  assert.instance(e, UsageError, String(e));
  for (const f of fragments) assert.ok((e as Error).message.includes(f), `${(e as Error).message} lacks ${f}`);
};
const aborted = (e: unknown) => assert.is((e as Error).name, 'AbortError', String(e));

test('onProgress names every phase: upload per tensor, tuning per shape and candidate (with totals), compiling per pipeline; nothing silent after the last call', async () => {
  const rt = await runtime();
  const events: LoadProgress[] = [];
  let last = 0;
  const t0 = performance.now();
  const model = await loadProtT5(F32, { runtime: rt, tuneStore: new MemoryTuneStore(), autotune: 'all', onProgress: (p) => ((last = performance.now()), events.push(p)) });
  const silentMs = performance.now() - last;
  try {
    const order = events.map((p) => p.phase).filter((p, i, a) => p !== a[i - 1]);
    assert.equal(order, ['upload', 'tuning', 'compiling']);
    const uploads = events.filter((p) => p.phase === 'upload');
    assert.is(uploads.at(-1)!.loaded, uploads.at(-1)!.total);
    const tuning = events.flatMap((p) => (p.phase === 'tuning' ? [p] : []));
    const shapes = tuning.filter((p) => p.variant === null);
    assert.ok(shapes.length >= 2 && shapes.every((p) => p.total === shapes.length && !p.cached), `one start per shape with the total: ${JSON.stringify(shapes)}`);
    assert.equal(shapes.map((p) => p.loaded), [...shapes.keys()]);
    assert.ok(tuning.some((p) => p.variant !== null), 'each candidate is reported');
    const compiled = events.flatMap((p) => (p.phase === 'compiling' && p.pipeline !== null ? [p.pipeline] : []));
    assert.ok(compiled.length > 0, 'the warm-up compiles pipelines');
    // The last report closes the phase with its total (the first dispatches, where llvmpipe compiles, come before it).
    assert.equal(events.at(-1), { phase: 'compiling', pipeline: null, loaded: compiled.length, total: compiled.length });
    assert.ok(events.slice(0, -1).every((p) => p.phase !== 'compiling' || p.total === null), 'only the last compiling report has a total');
    // The warm-up compiled what embed() needs: the first embed compiles nothing more.
    let more = 0;
    rt.onCompile = () => more++;
    const [e] = await model.embed([cases[0].sequence]);
    rt.onCompile = undefined;
    assert.is(more, 0, 'embed() after the load compiled no pipeline');
    expectClose('after warm-up', e.perProtein.data, await expected(`F32.protein.${cases[0].index}`), 1e-4);
    // The load's last report is the warm-up's, at its very end (no silent phase after it).
    assert.ok(silentMs < Math.max(2000, 0.5 * (performance.now() - t0)), `${silentMs.toFixed(0)} ms silent after the last report`);
  } finally {
    await model.dispose();
  }
});

test('an abort mid-load (during upload, during tuning) rejects with the AbortError and frees what was uploaded', async () => {
  const rt = await runtime();
  for (const at of ['upload', 'tuning'] as const) {
    const before = rt.pool.liveBytes;
    const ac = new AbortController();
    await rejects(
      () => loadProtT5(F32, { runtime: rt, tuneStore: new MemoryTuneStore(), autotune: 'all', signal: ac.signal, onProgress: (p) => p.phase === at && p.loaded === 1 && ac.abort() }),
      aborted,
    );
    rt.flush(); // released buffers go back to the pool at the next flush
    rt.pool.trim();
    assert.ok(rt.pool.liveBytes <= before, `${at}: ${rt.pool.liveBytes - before} bytes left on the GPU`);
  }
});

test('an abort mid-embed (at a layer) rejects with the AbortError; the model then gives the same numbers', async () => {
  const model = await loadProtT5(F32, { runtime: await runtime(), autotune: false });
  try {
    const ac = new AbortController();
    await rejects(() => model.embed([cases[2].sequence], { perResidue: true, signal: ac.signal, onLayer: ({ layer }) => layer === 1 && ac.abort() }), aborted);
    const [e] = await model.embed([cases[2].sequence], { perResidue: true });
    expectClose('after an abort', e.perResidue.data, await expected(`F32.residue.${cases[2].index}`), 1e-4);
    // An already-aborted signal stops before any GPU work.
    await rejects(() => model.embed([cases[0].sequence], { signal: AbortSignal.abort() }), aborted);
  } finally {
    await model.dispose();
  }
});

test('UsageErrors name the argument: a string for the sequences, a bad record, an unknown option (with the likely one), unknown load options', async () => {
  const model = await loadProtT5(demoModel(), { runtime: await runtime(), autotune: false });
  try {
    const js = model as unknown as { embed(s: unknown, o?: unknown): Promise<unknown> };
    await rejects(() => js.embed('MKTAYIAK'), usage('sequences', 'a string', 'embed([sequence])'));
    await rejects(() => js.embed([{ sequence: 'MKT' }]), usage('sequences[0]', 'id'));
    await rejects(() => js.embed([42]), usage('sequences[0]', 'number'));
    await rejects(() => js.embed(['MKT'], { perresidue: true }), usage('unknown option "perresidue"', 'did you mean "perResidue"'));
    await rejects(() => js.embed(['MKT'], 'perResidue'), usage('options must be an object'));
    await rejects(() => loadProtT5(demoModel(), { runtime: model.runtime, autotun: false } as never), usage('unknown option "autotun"'));
  } finally {
    await model.dispose();
  }
});

test('result types follow the options; error codes are a union that switch narrows', async () => {
  const model = await loadProtT5(demoModel(), { runtime: await runtime(), autotune: false });
  try {
    const [a] = await model.embed(['MKTAYIAK'], { perResidue: true, perProtein: true, lastHiddenState: true });
    assert.equal(a.perResidue.shape, [8, model.hiddenSize]);
    assert.equal(a.perProtein.shape, [model.hiddenSize]);
    assert.equal(a.lastHiddenState.shape, [9, model.hiddenSize]);
    const [b] = await model.embed(['MKT']);
    assert.is(b.perProtein.data.length, model.hiddenSize);
    assert.is(b.perResidue, undefined);
  } finally {
    await model.dispose();
  }
  const describe = (code: ErrorCode): string => {
    switch (code) {
      case 'USAGE_ERROR':
        return 'usage';
      case 'BAD_SEQUENCE':
        return 'sequence';
      default:
        return 'other';
    }
  };
  const e: ProtT5Error = new UsageError('x');
  assert.is(describe(e.code), 'usage');
});

test('a server that ignores Range is reported once (console.warn), not once per file; the files still read', async () => {
  const body: Record<string, string> = { 'a.json': '{"a":1}', 'b.json': '{"b":2}' };
  const fetch = (async (url: string) => {
    const name = String(url).split('/').pop()!;
    return name in body ? new Response(body[name], { status: 200 }) : new Response('no', { status: 404 });
  }) as unknown as typeof globalThis.fetch;
  const files = new UrlFiles('http://example.invalid/model/', { fetch });
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warned.push(m);
  try {
    for (const f of ['a.json', 'b.json']) {
      const src = (await files.open(f))!;
      assert.is(new TextDecoder().decode(await src.read(0, src.size)), body[f]);
    }
    assert.is(await files.open('c.json'), null);
    assert.is(files.whyMissing('c.json'), 'HTTP 404 for http://example.invalid/model/c.json');
  } finally {
    console.warn = warn;
  }
  assert.is(warned.length, 1, warned.join('\n'));
  assert.match(warned[0], 'ignores HTTP Range requests');
});

test.run();
