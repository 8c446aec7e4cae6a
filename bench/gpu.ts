// npm run bench:gpu (bench/gpu.sh installs what is missing, then runs this under an 8-minute
// timeout): on a machine with a GPU, prints the adapter, its arithmetic ceilings (f32, and f16
// where shader-f16 exists), our tuned matmul and attention at ProtT5-XL shapes as % of the f32
// ceiling (our kernels compute in f32), and whole-model residues/s on a synthetic proteome
// (lengths drawn like human proteins, seeded) through a 24-layer ProtT5-XL-shaped model with
// random f16 weights. Every kernel variant is checked against its float64 reference by the
// tuner, and one XL layer against a float64 reference layer: a wrong result exits 1.
// --allow-cpu runs it on a CPU driver (llvmpipe) with smaller sizes, so it is tested here.
import { parseArgs } from 'node:util';
import { attention, tuneAttention } from '../kernels/attention.js';
import { matmul, matmulVariantName, tuneMatmul } from '../kernels/matmul.js';
import { packParams } from '../kernels/template.js';
import { ProtT5Model } from '../src/embed/model.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { relFrobenius, rng } from '../src/gpu/numeric.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { Autotuner, MemoryTuneStore } from '../src/gpu/tuner.js';
import { ceilings, median, peakWgsl } from './bench.js';
import { peerLayer, randomCheckpoint, t5LayerRef, XL_LAYER, XL_LAYERS } from './layer-inputs.js';
import peakSrc from './peak.wgsl';

export const GPU_BENCH_OPTIONS = {
  'allow-cpu': { type: 'boolean', default: false },
  proteins: { type: 'string' },
  layers: { type: 'string' },
  'budget-s': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * `n` protein lengths drawn like the human proteome's (UniProt reviewed human: median ~415
 * residues, mean ~550, a long right tail): log-normal with median 415 and sigma 0.75, clipped
 * to [30, maxLen]. Seeded: the same lengths on every machine.
 */
export function humanLikeLengths(n: number, seed = 1, maxLen = 5000): number[] {
  const rnd = rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = rnd(), v = rnd();
    if (u <= 0) continue;
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    out.push(Math.min(maxLen, Math.max(30, Math.round(415 * Math.exp(0.75 * z)))));
  }
  return out;
}

const AMINO = 'ACDEFGHIKLMNPQRSTVWY';

/** A random protein sequence of `len` residues (seeded). */
export function randomProtein(len: number, rnd: () => number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += AMINO[Math.floor(rnd() * AMINO.length)];
  return s;
}

class WrongResult extends Error {}

/** GFLOP/s as printed: two decimals under 10 (CPU drivers), whole numbers above. */
const gf = (g: number) => g.toFixed(g < 10 ? 2 : 0);

async function peakGflops(rt: Runtime, f16: boolean): Promise<number> {
  const wgs = 1024, flopsPerTrip = 16 * 4 * 2, depth = 4, iters = 1024;
  const out = rt.empty([wgs * 64], 'f32', 'peak_out');
  try {
    const peak = await rt.pipeline(`gpu_peak_${f16 ? 'f16' : 'f32'}`, peakWgsl(depth, f16));
    const ms = await median(rt, 5, async () => rt.dispatch(peak, packParams(peakSrc, { iters, seed: 0.5 }), [out.buffer], [wgs]));
    return (wgs * 64 * iters * flopsPerTrip * depth) / ms / 1e6;
  } finally {
    out.release();
  }
}

export async function runGpuBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: GPU_BENCH_OPTIONS });
  if (values.help) {
    console.log('Usage: npm run bench:gpu [-- --allow-cpu] [--proteins N] [--layers N] [--budget-s S]');
    return 0;
  }
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const cpu = values['allow-cpu']!;
  let rt: Runtime;
  try {
    rt = await createNodeRuntime(cpu ? { quietDrivers: true } : { adapter: 'hardware', quietDrivers: true });
  } catch (e) {
    console.error(`bench:gpu: ${(e as Error).message}${cpu ? '' : ' (--allow-cpu runs on a CPU driver instead)'}`);
    return 2;
  }
  const a = rt.adapter;
  const onGpu = a.kind === 'hardware';
  const f16 = rt.device.features.has('shader-f16');
  console.log(`# bench:gpu\n\nadapter: ${a.description || '?'} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, ${a.kind}, ${a.backend}); features: ${a.features.join(', ')}`);
  try {
    const c32 = onGpu ? await peakGflops(rt, false) : (await ceilings(rt)).gflops;
    const c16 = f16 ? await peakGflops(rt, true) : null;
    console.log(`ceiling: f32 ${gf(c32)} GFLOP/s${c16 !== null ? `, f16 ${gf(c16)} GFLOP/s` : ' (no shader-f16)'} (vec4 fma chains)  [${since()}]\n`);

    // ---- matmul at ProtT5-XL shapes, f16 weights, f32 compute ----
    const M = onGpu ? 1024 : 64, reps = onGpu ? 10 : 1;
    const store = new MemoryTuneStore();
    const tuner = new Autotuner(rt, store, { rows: M, reps: onGpu ? 5 : 1 });
    console.log(`| matmul M=${M} (f16 W) | chosen | ms | GFLOP/s | % f32 ceiling |${c16 !== null ? ' % f16 ceiling |' : ''}`);
    console.log(`| --- | --- | --- | --- | --- |${c16 !== null ? ' --- |' : ''}`);
    const shapes: Array<[number, number]> = onGpu ? [[4096, 1024], [1024, 4096], [16384, 1024], [1024, 16384]] : [[4096, 1024], [1024, 4096]];
    for (const [N, K] of shapes) {
      const tile = (await tuneMatmul(tuner, N, K, 'f16')).choice;
      const x = rt.upload(new Float32Array(M * K).map((_, i) => Math.sin(i) * 0.5), [M, K], 'f32', 'x');
      const w = rt.empty([N, K], 'f16', 'w'), y = rt.empty([M, N], 'f32', 'y');
      const ms = await median(rt, reps, () => matmul(rt, { x, w, y, tile }));
      for (const t of [x, w, y]) t.release();
      const g = (2 * M * N * K) / ms / 1e6;
      console.log(`| ${N}×${K} | ${matmulVariantName('f16', 'none', tile).replace(/^matmul\(|\)$/g, '')} | ${ms.toFixed(2)} | ${gf(g)} | ${((100 * g) / c32).toFixed(0)}% |${c16 !== null ? ` ${((100 * g) / c16).toFixed(0)}% |` : ''}`);
    }
    console.log(`[${since()}]\n`);

    // ---- attention: 32 heads of 128 (ProtT5-XL), relative bias ----
    const H = onGpu ? XL_LAYER.num_heads : 2, DK = XL_LAYER.d_kv, R = XL_LAYER.relative_attention_max_distance;
    const tile = (await tuneAttention(tuner, DK, H)).choice;
    console.log(`| attention, ${H} heads of ${DK} | chosen | ms | GFLOP/s | % f32 ceiling |\n| --- | --- | --- | --- | --- |`);
    for (const L of onGpu ? [512, 1024] : [256]) {
      const shape = [1, L, H * DK];
      const mk = (l: string) => rt.upload(new Float32Array(L * H * DK).map((_, i) => Math.sin(i) * 0.3), shape, 'f32', l);
      const q = mk('q'), k = mk('k'), v = mk('v'), out = rt.empty(shape, 'f32', 'o');
      const bias = rt.upload(new Float32Array(H * (2 * R + 1)), [H, 2 * R + 1], 'f32', 'bias'), lengths = rt.upload(Uint32Array.of(L), [1], 'u32', 'len');
      const ms = await median(rt, reps, () => attention(rt, { q, k, v, bias, lengths, out, heads: H, tile }));
      for (const t of [q, k, v, out, bias, lengths]) t.release();
      const g = (4 * L * L * DK * H) / ms / 1e6;
      console.log(`| L = ${L} | ${JSON.stringify(tile)} | ${ms.toFixed(2)} | ${gf(g)} | ${((100 * g) / c32).toFixed(0)}% |`);
    }
    console.log(`[${since()}]\n`);

    // ---- one XL layer against the float64 reference (tuned kernels, f16 weights) ----
    {
      const tokens = 24;
      const layer = await peerLayer(tokens);
      const want = t5LayerRef(layer.weights, layer.h0, tokens, layer.finalNorm);
      const model = await ProtT5Model.fromCheckpoint(rt, randomCheckpoint(XL_LAYER, 'F16'), false, { tuneStore: store });
      const [e] = await model.embed([layer.seq], { lastHiddenState: true, perProtein: false });
      await model.dispose();
      const err = relFrobenius(e.lastHiddenState!.data, want);
      console.log(`one XL layer (${tokens} tokens) vs the float64 reference: relative error ${err.toExponential(2)} [${since()}]`);
      if (!(err < 1e-4)) throw new WrongResult(`the XL layer is off the float64 reference by ${err.toExponential(2)} (over 1e-4)`);
    }

    // ---- the whole model on a synthetic proteome ----
    const layers = Number(values.layers ?? (onGpu ? XL_LAYERS : 1));
    const n = Number(values.proteins ?? (onGpu ? 400 : 6));
    const budgetMs = 1000 * Number(values['budget-s'] ?? (onGpu ? 150 : 120));
    const lengths = humanLikeLengths(n, 1, onGpu ? 5000 : 600);
    const rnd = rng(2);
    const seqs = lengths.map((l) => randomProtein(l, rnd));
    const tl = performance.now();
    const model = await ProtT5Model.fromCheckpoint(rt, randomCheckpoint({ ...XL_LAYER, num_layers: layers }, 'F16'), false, { tuneStore: store });
    console.log(`\nmodel: ProtT5-XL-shaped, ${layers} layer${layers === 1 ? '' : 's'}, random f16 weights, loaded in ${((performance.now() - tl) / 1000).toFixed(1)} s [${since()}]`);
    try {
      await model.embed([seqs[0].slice(0, 50)]); // warm
      let done = 0, residues = 0, bad = 0;
      const ts = performance.now();
      const chunk = onGpu ? 32 : 2;
      for (let i = 0; i < seqs.length && performance.now() - ts < budgetMs; i += chunk) {
        const batch = seqs.slice(i, i + chunk);
        const out = await model.embed(batch);
        for (const r of out) if (!r.perProtein.data.every(Number.isFinite)) bad++;
        done += batch.length;
        residues += batch.reduce((x, s) => x + s.length, 0);
      }
      const s = (performance.now() - ts) / 1000;
      if (bad) throw new WrongResult(`${bad} of ${done} embeddings hold NaN or Inf`);
      const rps = residues / s, scale = layers / XL_LAYERS;
      console.log(`proteome: ${done} of ${n} proteins (lengths drawn like human proteins, median ${[...lengths].sort((x, y) => x - y)[n >> 1]}), ${residues} residues in ${s.toFixed(1)} s: ${rps.toFixed(1)} residues/s through ${layers} layer${layers === 1 ? '' : 's'}${layers === XL_LAYERS ? '' : `, ${(rps * scale).toFixed(2)} residues/s for the 24-layer XL model`} [${since()}]`);
    } finally {
      await model.dispose();
    }
    return 0;
  } catch (e) {
    if (e instanceof WrongResult) {
      console.error(`bench:gpu: WRONG RESULT: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    rt.destroy();
  }
}

if (process.argv[1]?.endsWith('gpu.js')) {
  const code = await runGpuBench(process.argv.slice(2)).catch((e) => {
    console.error(`bench:gpu: ${(e as Error).stack ?? e}`);
    return 1;
  });
  process.exit(code);
}
