// Quick comparison of attention variants (wall clock around a synced run).
import { attention, type AttentionTile } from '../kernels/attention.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
const rt = await createNodeRuntime();
const L = Number(process.argv[2] ?? 512), H = 2, DK = 128, R = 128;
const shape = [1, L, H * DK];
const mk = (label: string) => rt.upload(new Float32Array(L * H * DK).map(() => Math.random() - 0.5), shape, 'f32', label);
const q = mk('q'), k = mk('k'), v = mk('v'), out = rt.empty(shape, 'f32', 'o');
const bias = rt.upload(new Float32Array(H * (2 * R + 1)), [H, 2 * R + 1], 'f32', 'bias'), lengths = rt.upload(Uint32Array.of(L), [1], 'u32', 'len');
const tiles: AttentionTile[] = [
  { family: 'loop', tq: 32, tk: 16 },
  { family: 'unrolled', tq: 32, tk: 8 },
  { family: 'unrolled', tq: 64, tk: 8 },
  { family: 'unrolled', tq: 32, tk: 16 },
  { family: 'unrolled', tq: 16, tk: 4 },
];
for (const tile of tiles) {
  await attention(rt, { q, k, v, bias, lengths, out, heads: H, tile });
  await rt.sync();
  const t0 = performance.now();
  await attention(rt, { q, k, v, bias, lengths, out, heads: H, tile });
  await rt.sync();
  const ms = performance.now() - t0;
  console.log(JSON.stringify(tile), `${ms.toFixed(0)} ms`, `${((4 * L * L * DK * H) / ms / 1e6).toFixed(2)} GFLOP/s`);
}
rt.destroy();
process.exit(0);
