// The runtime core: pool reuse and its allocation record, deferred release, pipeline cache,
// compile errors that name the variant, uncaptured errors and device loss as thrown errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceError, DeviceLostError, OutOfMemoryError, UsageError } from '../src/errors.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { sizeClass } from '../src/gpu/pool.js';
import { Usage } from '../src/gpu/runtime.js';
import { runtime } from './gpu.js';

test('size classes are 2^k or 1.5·2^k and never smaller than asked', () => {
  for (const n of [1, 255, 256, 257, 383, 384, 385, 1000, 4096, 5000, 1 << 20, (1 << 20) + 1, 3 << 19]) {
    const c = sizeClass(n);
    assert.ok(c >= n && c <= Math.max(256, n * 1.5 + 1), `${n} → ${c}`);
    const p = 2 ** Math.floor(Math.log2(c));
    assert.ok(c === p || c === p * 1.5, `${c} is a size class`);
  }
});

test('released buffers return to the pool only after the next flush, then are reused', async () => {
  const rt = await runtime();
  const a = rt.empty([1000], 'f32', 'a');
  const buf = a.buffer;
  a.release();
  const b = rt.empty([1000], 'f32', 'b');
  assert.is.not(b.buffer, buf, 'a buffer released before a flush must not be handed out (pending commands may use it)');
  rt.flush();
  const before = rt.pool.allocations.length;
  const c = rt.empty([900], 'f32', 'c'); // same size class as a
  assert.is(c.buffer, buf, 'reused after flush');
  assert.is(rt.pool.allocations.length, before, 'no new allocation recorded');
  b.release();
  c.release();
  rt.flush();
});

test('upload/read round trip, 16-bit data padded to whole words', async () => {
  const rt = await runtime();
  const t = rt.upload(Uint16Array.of(1, 2, 3), [3], 'f16', 'odd');
  const bytes = await rt.readBytes(t.buffer, 0, 8);
  assert.equal([...new Uint16Array(bytes.buffer, 0, 4)], [1, 2, 3, 0]);
  t.release();
});

test('a tensor used after release() is a UsageError naming it', async () => {
  const rt = await runtime();
  const t = rt.empty([4], 'f32', 'gone');
  t.release();
  assert.throws(() => t.buffer, (e: Error) => e instanceof UsageError && /gone/.test(e.message));
});

test('a buffer over the device limit is an OutOfMemoryError that says what to lower', async () => {
  const rt = await runtime();
  const n = Math.floor(rt.limits.maxStorageBufferBindingSize / 4) + 1;
  assert.throws(() => rt.empty([n], 'f32', 'huge'), (e: Error) => e instanceof OutOfMemoryError && /huge/.test(e.message) && /--max-residues/.test(e.message));
});

test('one shader text compiles once, under any name (the cache is keyed by the text; pipeline-cache.test.ts: different texts never share)', async () => {
  const rt = await runtime();
  const code = 'struct Params { n: u32, }\n@group(0) @binding(0) var<uniform> p: Params;\n@compute @workgroup_size(1) fn main() { _ = p.n; }';
  const p1 = await rt.pipeline('cache_probe', code);
  const p2 = await rt.pipeline('cache_probe_again', code);
  assert.is(p1, p2);
});

test('asking for a SwiftShader device leaves process.env as it was; a later hardware request never gets a CPU driver', async () => {
  const before = { icd: process.env.VK_ICD_FILENAMES, drivers: process.env.VK_DRIVER_FILES, xdg: process.env.XDG_RUNTIME_DIR };
  const sw = await createNodeRuntime({ adapter: 'swiftshader' });
  try {
    assert.match(`${sw.adapter.description} ${sw.adapter.backend}`, /swiftshader/i);
    assert.equal({ icd: process.env.VK_ICD_FILENAMES, drivers: process.env.VK_DRIVER_FILES, xdg: process.env.XDG_RUNTIME_DIR }, before);
  } finally {
    sw.destroy();
  }
  if (before.icd || before.drivers) return; // a driver list the user set applies to every request
  try {
    const hw = await createNodeRuntime({ adapter: 'hardware' });
    // A machine with a GPU: whatever it is, not a CPU driver.
    assert.not.match(`${hw.adapter.description} ${hw.adapter.backend}`, /swiftshader|llvmpipe|lavapipe/i);
    assert.is(hw.adapter.kind, 'hardware');
    hw.destroy();
  } catch (e) {
    assert.instance(e, DeviceError);
    assert.match((e as Error).message, /no GPU WebGPU adapter/);
  }
});

test('a shader that does not compile is a DeviceError naming the variant and the line', async () => {
  const rt = await runtime();
  try {
    await rt.pipeline('broken_variant_x', '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}');
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, DeviceError);
    assert.match((e as Error).message, /broken_variant_x/);
    assert.match((e as Error).message, /line 3/);
  }
});

test('an uncaptured GPU error is thrown at the next sync', async () => {
  const rt = await createNodeRuntime();
  try {
    // MAP_READ may only be combined with COPY_DST: a validation error outside any scope.
    rt.device.createBuffer({ size: 16, usage: Usage.MAP_READ | Usage.STORAGE });
    let thrown: unknown = null;
    for (let i = 0; i < 20 && !thrown; i++) {
      try {
        await rt.sync();
        await new Promise((r) => setTimeout(r, 10));
      } catch (e) {
        thrown = e;
      }
    }
    assert.instance(thrown, DeviceError);
    assert.match((thrown as Error).message, /GPU error/);
  } finally {
    rt.destroy();
  }
});

test('an out-of-memory error from the device (over its total memory) is an OutOfMemoryError at the next sync', async () => {
  const rt = await createNodeRuntime();
  try {
    // Real exhaustion of host memory is not a test to run; Dawn delivers it as this event.
    const error = new GPUOutOfMemoryError('Out of memory allocating a 900 MiB buffer');
    rt.device.dispatchEvent(new GPUUncapturedErrorEvent('uncapturederror', { error }));
    await rt.sync().then(
      () => assert.unreachable('the pending error must be thrown'),
      (e: Error) => {
        assert.instance(e, OutOfMemoryError);
        assert.match(e.message, /ran out of memory: Out of memory allocating a 900 MiB buffer; lower --max-residues or --max-batch/);
      },
    );
  } finally {
    rt.destroy();
  }
});

test('device loss while a readback waits is a DeviceLostError, not a generic failure', async () => {
  const rt = await createNodeRuntime();
  const t = rt.upload(new Float32Array(1 << 16).fill(1), [1 << 16], 'f32', 't');
  const reading = rt.read(t);
  rt.device.destroy();
  await reading.then(
    () => assert.unreachable('a read cut by device loss must fail'),
    (e: Error) => {
      assert.instance(e, DeviceLostError);
      assert.match(e.message, /device was lost \(destroyed\)/);
    },
  );
});

test('device loss becomes a DeviceLostError on the next operation', async () => {
  const rt = await createNodeRuntime();
  const t = rt.empty([16], 'f32', 't');
  rt.device.destroy();
  await rt.device.lost;
  await new Promise((r) => setTimeout(r, 0));
  assert.throws(() => rt.empty([16], 'f32', 'after'), (e: Error) => e instanceof DeviceLostError && /lost/.test(e.message));
  await rt.read(t).then(
    () => assert.unreachable('read after loss must fail'),
    (e: Error) => assert.instance(e, DeviceLostError),
  );
});

test.run();
