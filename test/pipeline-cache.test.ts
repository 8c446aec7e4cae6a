// The runtime's pipeline cache is keyed by the shader text and override constants, not by the
// name: two different shaders under one name get their own pipelines (each writes its own
// value), and one text asked for twice compiles once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Runtime } from '../src/gpu/runtime.js';
import { runtime } from './gpu.js';

/** A one-invocation shader writing `value` (a WGSL expression) to out[0]. */
const writer = (value: string) =>
  `struct Params { n: u32, }\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n` +
  `override SCALE: f32 = 1.0;\n@compute @workgroup_size(1) fn main() { out[0] = ${value} * SCALE + f32(p.n); }`;

async function runOnce(rt: Runtime, pipeline: GPUComputePipeline): Promise<number> {
  const out = rt.empty([1], 'f32', 'out');
  try {
    rt.dispatch(pipeline, new Uint32Array(4).buffer, [out.buffer], [1]);
    return (await rt.read(out))[0];
  } finally {
    out.release();
  }
}

test('two different shader texts under the same name get different pipelines', async () => {
  const rt = await runtime();
  const one = await rt.pipeline('same_name', writer('1.0'));
  const two = await rt.pipeline('same_name', writer('2.0'));
  assert.is.not(one, two);
  assert.is(await runOnce(rt, one), 1);
  assert.is(await runOnce(rt, two), 2);
});

test('the same text twice shares one pipeline, whatever the name; other constants do not', async () => {
  const rt = await runtime();
  const code = writer('3.0');
  const a = await rt.pipeline('first_name', code);
  const b = await rt.pipeline('second_name', writer('3.0')); // an equal string, built again
  assert.is(a, b);
  const c = await rt.pipeline('first_name', code, { SCALE: 2 });
  const d = await rt.pipeline('first_name', code, { SCALE: 2 });
  assert.is.not(a, c);
  assert.is(c, d);
  assert.is(await runOnce(rt, a), 3);
  assert.is(await runOnce(rt, c), 6);
});

test.run();
