// node build/bench/matmul-lab.js (PROTT5_ADAPTER=llvmpipe to force one) [--tiles JSON] [--m 128] [--dtype f16|f32] [--shapes 4096x1024,...] [--reps 5]
// A matmul variant lab: for each tile, the first call's wall time (the pipeline compile: run
// with MESA_SHADER_CACHE_DISABLE=true for a cold figure), a check against the float64
// reference on an odd 37×53×K slice (K of the first shape), and the median and best GPU time
// at M × N × K with GFLOP/s, the variants interleaved round by round, between the bench's
// ceiling kernels run before and after.
import { parseArgs } from 'node:util';
import { MATMUL_CANDIDATES, matmul, matmulTileFor, matmulVariantName, type MatmulTile } from '../kernels/matmul.js';
import { matmulRef } from '../kernels/matmul.ref.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { ceilings } from './bench.js';
import { fromFloat32, toFloat32, type DType } from '../src/gpu/dtype.js';
import { randomArray } from '../src/gpu/numeric.js';

const { values: o } = parseArgs({
  options: {
    tiles: { type: 'string' },
    m: { type: 'string', default: '128' },
    dtype: { type: 'string', default: 'f16' },
    shapes: { type: 'string', default: '4096x1024,1024x4096,16384x1024,1024x16384' },
    reps: { type: 'string', default: '5' },
  },
});
const tiles: MatmulTile[] = o.tiles ? JSON.parse(o.tiles) : [...MATMUL_CANDIDATES];
const M = Number(o.m), reps = Number(o.reps);
const dtype = o.dtype as 'f16' | 'f32';
const fileDtype: DType = dtype === 'f16' ? 'F16' : 'F32';
const shapes = o.shapes!.split(',').map((s) => s.split('x').map(Number) as [number, number]);
const rt = await createNodeRuntime({ quietDrivers: true });
const ceil0 = await ceilings(rt);
console.log(`adapter ${rt.adapter.kind}; M = ${M}, ${dtype} weights; ceilings before: ${ceil0.gflops1.toFixed(1)} / ${ceil0.gflops4.toFixed(1)} / ${ceil0.gflops16.toFixed(1)} GFLOP/s`);
console.log('| variant | first call s | check max rel | N×K | ms | GFLOP/s |');
console.log('| --- | --- | --- | --- | --- | --- |');
const compiled: Array<{ tile0: MatmulTile; compileS: number; err: number }> = [];
for (const tile0 of tiles) {
  const [cm, cn] = [37, 53];
  let compileS = 0, err = 0;
  {
    const K = shapes[0][1];
    const tile = matmulTileFor(K, tile0);
    const xs = randomArray(cm * K, 1), wb = fromFloat32(fileDtype, randomArray(cn * K, 2));
    const want = matmulRef(xs, toFloat32(fileDtype, wb), cm, cn, K);
    const x = rt.upload(xs, [cm, K], 'f32', 'x'), w = rt.upload(wb, [cn, K], dtype, 'w'), y = rt.empty([cm, cn], 'f32', 'y');
    const t0 = performance.now();
    await matmul(rt, { x, w, y, tile });
    await rt.sync();
    compileS = (performance.now() - t0) / 1000;
    const got = await rt.read(y);
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / scale);
    for (const t of [x, w, y]) t.release();
  }
  compiled.push({ tile0, compileS, err });
}
// Timing: every variant once per round, rounds interleaved, so a burst of load on a shared
// machine hits all of them alike; the best of the rounds is the figure least hurt by it.
for (const [N, K] of shapes) {
  const x = rt.empty([M, K], 'f32', 'bx'), w = rt.empty([N, K], dtype, 'bw'), y = rt.empty([M, N], 'f32', 'by');
  const runs = compiled.map((c) => ({ ...c, tile: matmulTileFor(K, c.tile0), ms: [] as number[] }));
  for (const r of runs) await rt.time(() => matmul(rt, { x, w, y, tile: r.tile }));
  for (let rep = 0; rep < reps; rep++) {
    for (const r of runs) {
      const t = await rt.time(() => matmul(rt, { x, w, y, tile: r.tile }));
      r.ms.push(t.gpuMs ?? t.wallMs);
    }
  }
  for (const r of runs) {
    r.ms.sort((a, b) => a - b);
    const med = r.ms[Math.floor(r.ms.length / 2)];
    console.log(`| ${matmulVariantName(dtype, 'none', r.tile)} | ${r.compileS.toFixed(2)} | ${r.err.toExponential(1)} | ${N}×${K} | ${med.toFixed(1)} (best ${r.ms[0].toFixed(1)}) | ${((2 * M * N * K) / med / 1e6).toFixed(2)} (best ${((2 * M * N * K) / r.ms[0] / 1e6).toFixed(2)}) |`);
  }
  for (const t of [x, w, y]) t.release();
}
const ceil1 = await ceilings(rt);
console.log(`ceilings after: ${ceil1.gflops1.toFixed(1)} / ${ceil1.gflops4.toFixed(1)} / ${ceil1.gflops16.toFixed(1)} GFLOP/s`);
process.exit(0);
