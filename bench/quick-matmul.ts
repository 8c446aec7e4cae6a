// Quick comparison of matmul variants on one shape (wall clock around a synced run).
import { matmul, type MatmulTile } from '../kernels/matmul.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
const rt = await createNodeRuntime();
const [M, N, K] = (process.argv[2] ?? '256,4096,1024').split(',').map(Number);
const dtype = (process.argv[3] ?? 'f16') as 'f16' | 'f32';
const x = rt.upload(new Float32Array(M * K).fill(0.01), [M, K], 'f32', 'x');
const w = dtype === 'f32' ? rt.upload(new Float32Array(N * K).fill(0.01), [N, K], 'f32', 'w') : rt.upload(new Uint16Array(N * K).fill(0x2000), [N, K], 'f16', 'w');
const y = rt.empty([M, N], 'f32', 'y');
const tiles: MatmulTile[] = [
  { family: 'k1', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 8, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 2, tn: 16, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 16, wgX: 8, wgY: 4 },
  { family: 'k4', tm: 8, tn: 16, wgX: 4, wgY: 4 },
];
for (const tile of tiles) {
  await matmul(rt, { x, w, y, tile });
  await rt.sync();
  const t0 = performance.now();
  const reps = 3;
  for (let r = 0; r < reps; r++) await matmul(rt, { x, w, y, tile });
  await rt.sync();
  const ms = (performance.now() - t0) / reps;
  console.log(JSON.stringify(tile), `${ms.toFixed(1)} ms`, `${((2 * M * N * K) / ms / 1e6).toFixed(2)} GFLOP/s`);
}
rt.destroy();
process.exit(0);
