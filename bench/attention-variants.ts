// Times attention variants one by one on the current adapter: compile seconds (first dispatch),
// then best-of-N ms and GFLOP/s at one sequence of L tokens, after checking sampled rows against
// the float64 reference. For kernel work; `npm run bench` is the bench of record.
//   node build/bench/attention-variants.js [--L 512] [--dk 128] [--heads 2] [--reps 3] [--bias none|relative] family:tq:tk[:sg] ...
//     (gemm:64:0[:FAMILY,TM,TN,WGX,WGY] names the gemm family's matmul tile; without it, the untuned one)
//   node build/bench/attention-variants.js --tune [--dk 128] [--heads 2]   (the tuner's pass on this adapter: seconds and timings)
// PROTT5_ADAPTER=llvmpipe|swiftshader picks the driver.
import { parseArgs } from 'node:util';
import { attention, tuneAttention, type AttentionTile } from '../kernels/attention.js';
import { attentionRef } from '../kernels/attention.ref.js';
import type { MatmulTile } from '../kernels/matmul.js';
import { randomArray, relFrobenius } from '../src/gpu/numeric.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { Autotuner, MemoryTuneStore } from '../src/gpu/tuner.js';
import { ceilings } from './bench.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { L: { type: 'string', default: '512' }, dk: { type: 'string', default: '128' }, heads: { type: 'string', default: '2' }, reps: { type: 'string', default: '3' }, bias: { type: 'string', default: 'relative' }, tune: { type: 'boolean', default: false } },
});
const L = Number(values.L), DK = Number(values.dk), H = Number(values.heads), reps = Number(values.reps), R = 128;
const tiles: AttentionTile[] = (positionals.length ? positionals : ['flash:32:8', 'loop:32:16']).map((s) => {
  const [family, tq, tk, extra] = s.split(':');
  if (family === 'gemm' && extra) {
    // gemm:tq:0:FAMILY,TM,TN,WGX,WGY — the matmul tile of both products.
    const [mf, tm, tn, wgX, wgY] = extra.split(',');
    return { family, tq: Number(tq), tk: Number(tk), matmul: { family: mf as MatmulTile['family'], tm: Number(tm), tn: Number(tn), wgX: Number(wgX), wgY: Number(wgY) } };
  }
  return { family: family as AttentionTile['family'], tq: Number(tq), tk: Number(tk), ...(extra ? { sg: Number(extra) } : {}) };
});

const rt = await createNodeRuntime({ quietDrivers: true });
if (values.tune) {
  const t0 = performance.now();
  const res = await tuneAttention(new Autotuner(rt, new MemoryTuneStore()), DK, H);
  console.log(`tuning attention d_kv ${DK}, ${H} heads on ${rt.adapter.kind}: ${((performance.now() - t0) / 1000).toFixed(1)} s, chose ${JSON.stringify(res.choice)}`);
  for (const t of res.timings) console.log(`  ${t.variant}: ${t.ok ? `${t.ms.toFixed(2)} ms` : t.error}`);
  rt.destroy();
  process.exit(0);
}
console.log(`adapter: ${rt.adapter.description} (${rt.adapter.kind}); L ${L}, ${H} heads × d_kv ${DK}, bias ${values.bias}`);
const n = L * H * DK, shape = [1, L, H * DK];
const qv = randomArray(n, 1, 0.3), kv = randomArray(n, 2, 0.3), vv = randomArray(n, 3), bv = randomArray(H * (2 * R + 1), 4);
const q = rt.upload(qv, shape, 'f32', 'q'), k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v');
const bias = values.bias === 'relative' ? rt.upload(bv, [H, 2 * R + 1], 'f32', 'bias') : undefined;
const lengths = rt.upload(Uint32Array.of(L), [1], 'u32', 'len'), out = rt.empty(shape, 'f32', 'out');
const rows = [0, 1, L >> 1, L - 1];
const want = attentionRef(qv, kv, vv, bias ? bv : null, [L], 1, L, H, DK, bias ? R : 0, rows, bias ? 1 : 1 / Math.sqrt(DK));
const flops = 4 * L * L * DK * H;
// The ceiling is measured again after each variant: on a shared machine the load changes, and
// % of ceiling against the nearer measurement says more than GFLOP/s alone.
let ceil = (await ceilings(rt)).gflops;
console.log(`ceiling ${ceil.toFixed(2)} GFLOP/s`);
// On a loaded machine wall time says little; the process's CPU time (all of the driver's
// threads) does not grow with other processes' load, so flops per CPU-second times the cores
// estimates what the kernel does on a quiet machine.
const cores = (await import('node:os')).availableParallelism();
console.log('| variant | compile s | L | ms | GFLOP/s | % of ceiling (measured next to it) | CPU ms | GFLOP/s per CPU-s × cores |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const tile of tiles) {
  const run = () => attention(rt, { q, k, v, bias, lengths, out, heads: H, tile, scale: bias ? 1 : 1 / Math.sqrt(DK) });
  const t0 = performance.now();
  await run();
  await rt.sync();
  const first = (performance.now() - t0) / 1000;
  const got = await rt.read(out);
  const picked = new Float32Array(want.length);
  rows.forEach((i, ri) => picked.set(got.subarray(i * H * DK, (i + 1) * H * DK), ri * H * DK));
  const err = relFrobenius(picked, want);
  let best = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t = await rt.time(run);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
    best = Math.min(best, t.gpuMs ?? t.wallMs);
  }
  const after = (await ceilings(rt)).gflops;
  const g = flops / best / 1e6;
  // The first run's time includes one run of the kernel: subtract it for the compile figure.
  console.log(`| ${JSON.stringify(tile)} | ${Math.max(0, first - best / 1000).toFixed(2)} | ${L} | ${best.toFixed(1)} | ${g.toFixed(2)} | ${((100 * g) / Math.max(ceil, after)).toFixed(0)}% (ceiling ${Math.max(ceil, after).toFixed(1)}) | ${cpu.toFixed(0)} | ${((flops / cpu / 1e6) * cores).toFixed(2)} |`);
  if (err > 1e-4) console.log(`  WRONG: relative error ${err.toExponential(2)} on rows ${rows.join(', ')}`);
  ceil = after;
}
rt.destroy();
