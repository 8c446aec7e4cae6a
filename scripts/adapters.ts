// Prints, as JSON, which of the two CPU drivers give a WebGPU device here (["llvmpipe",
// "swiftshader"], either, or none) and what `auto` picks: scripts/test.mjs runs the kernel
// families' tests on each CPU driver present. Run: node build/scripts/adapters.js
import { createNodeRuntime } from '../src/gpu/node-gpu.js';

const cpu: string[] = [];
for (const adapter of ['llvmpipe', 'swiftshader'] as const) {
  try {
    (await createNodeRuntime({ adapter })).destroy();
    cpu.push(adapter);
  } catch {
    // absent
  }
}
let auto: string | null = null;
try {
  const rt = await createNodeRuntime();
  auto = rt.adapter.kind;
  rt.destroy();
} catch {
  // no adapter at all
}
console.log(JSON.stringify({ cpu, auto }));
