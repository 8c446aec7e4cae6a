// npm run bench [-- --quick] [--full] [--adapters LIST] [--json FILE] [--md FILE], or prott5 bench
// [same options] (bench/main.ts and src/cli/main.ts parse BENCH_OPTIONS and call runBench, which
// runs bench/suite.ts: this file once per adapter, in a child process with --one-adapter).
// Kernel and end-to-end benchmarks on this process's adapter. Correctness first (each kernel
// variant is checked by the autotuner against the float64 reference), then median time,
// GFLOP/s or GB/s, and the napkin-math floor from the adapter's measured ceilings; then the
// XL-shaped layer beside tfjs on the same adapter, compared with PyTorch's output (--reference).
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { attention, ATTENTION_TUNE_TOKENS, tuneAttention, type AttentionTile } from '../kernels/attention.js';
import { MATMUL_CANDIDATES, matmulVariantName, tuneMatmul } from '../kernels/matmul.js';
import { fill, grid1d, packParams } from '../kernels/template.js';
import { Autotuner, MemoryTuneStore } from '../src/gpu/tuner.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { T5Config } from '../src/models/t5/config.js';
import { ProtT5Model } from '../src/embed/model.js';
import { rmsnormRef } from '../kernels/rmsnorm.ref.js';
import { matmul } from '../kernels/matmul.js';
import { relFrobenius } from '../src/gpu/numeric.js';
import { loadTfjs, medianMs, tfjsLayer, tfjsMatmulMs } from './peers.js';
import { peerLayer, randomCheckpoint, XL_LAYER, xlLayerFlops } from './layer-inputs.js';
import type { AdapterFigures } from './summary.js';
import { benchFamilyKernels, benchFamilyLayers } from './family-layers.js';
import { benchHeadKernels } from './head-kernels.js';
import copySrc from './copy.wgsl';
import peakSrc from './peak.wgsl';

export async function median(rt: Runtime, reps: number, record: () => Promise<void>): Promise<number> {
  await rt.time(record); // warm-up: compiles pipelines
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = await rt.time(record);
    ms.push(t.gpuMs ?? t.wallMs);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

/** The peak kernel with `depth` nested fma per chain update (bench/peak.wgsl); `f16`: in vec4<f16> (needs shader-f16). */
export function peakWgsl(depth: number, f16 = false): string {
  const chains = [...Array(8).keys()].flatMap((i) => [`a${i}`, `b${i}`]);
  const update = (v: string) => {
    let e = v;
    for (let d = 0; d < depth; d++) e = `fma(${e}, m, c)`;
    return `    ${v} = ${e};`;
  };
  const text = fill(peakSrc, { DEPTH: depth, UPDATES: chains.map(update).join('\n') });
  if (!f16) return text;
  return `enable f16;\n${text.replaceAll('vec4<f32>(p.seed + f32(gid.x))', 'vec4<f16>(f16(p.seed + f32(gid.x)))').replaceAll('vec4<f32>', 'vec4<f16>').replace('out[gid.x] = r.x + r.y + r.z + r.w;', 'out[gid.x] = f32(r.x + r.y + r.z + r.w);')}`;
}

export interface Ceilings {
  /**
   * GFLOP/s with one fma per variable update (the issue's ceiling kernel), with four and with
   * sixteen. SwiftShader pays for each update (2026-12-03: 7.6, 13.3 and 15.6-16.7 GFLOP/s;
   * eight per update, as its matmuls chain, 14.7-15.0); llvmpipe peaks at four (39-41, 72-75,
   * 64-66).
   */
  gflops1: number;
  gflops4: number;
  gflops16: number;
  /** The highest of them: what floors and "% of ceiling" use. */
  gflops: number;
  gbps: number;
}

export async function ceilings(rt: Runtime): Promise<Ceilings> {
  const wgs = 256, flopsPerTrip = 16 * 4 * 2; // 16 vec4 chains per invocation
  const out = rt.empty([wgs * 64], 'f32', 'peak_out');
  const g: number[] = [];
  for (const depth of [1, 4, 16]) {
    const peak = await rt.pipeline(`bench_peak_d${depth}`, peakWgsl(depth));
    const iters = 4096 / depth;
    const peakMs = await median(rt, 3, async () => rt.dispatch(peak, packParams(peakSrc, { iters, seed: 0.5 }), [out.buffer], [wgs]));
    g.push((wgs * 64 * iters * flopsPerTrip * depth) / peakMs / 1e6);
  }
  const copy = await rt.pipeline('bench_copy', copySrc);
  const n4 = (64 * 2 ** 20) / 16;
  const a = rt.empty([n4 * 4], 'f32', 'copy_src'), b = rt.empty([n4 * 4], 'f32', 'copy_dst');
  const copyMs = await median(rt, 3, async () => rt.dispatch(copy, packParams(copySrc, { n: n4 }), [a.buffer, b.buffer], grid1d(Math.ceil(n4 / 64))));
  for (const t of [out, a, b]) t.release();
  return { gflops1: g[0], gflops4: g[1], gflops16: g[2], gflops: Math.max(...g), gbps: (2 * n4 * 16) / copyMs / 1e6 };
}

/**
 * ProtT5-XXL's encoder layer (T5 11B's: d_model 1024, 128 heads of 128, d_ff 65536); `dModel`
 * widens it (--xxl-d-model 4096: weights four times as large, sliced along d_ff under a 128 MiB limit).
 */
const xxlLayer = (dModel = 1024): T5Config => ({ ...XL_LAYER, d_model: dModel, d_ff: 65536, num_heads: 128 });

/** The WebGPU default maxStorageBufferBindingSize, what most browsers give: the XXL layer runs within it. */
const DEFAULT_BINDING_LIMIT = 128 * 2 ** 20;

/**
 * One XXL-shaped layer on random f16 weights, on a runtime capped at the 128 MiB default binding
 * limit (below the adapter's own where that is higher): the feed-forward runs in d_ff slices and
 * row chunks within it. Default kernels (tuning 65536-wide shapes takes too long on a CPU driver).
 */
async function xxlLayerBench(ceil: Ceilings, quick: boolean, dModel: number, log: (s: string) => void): Promise<Record<string, number>> {
  const config = xxlLayer(dModel);
  const lengths = quick ? [20, 11] : [60, 40];
  const rt = await createNodeRuntime({ maxBufferBytes: DEFAULT_BINDING_LIMIT, quietDrivers: true });
  try {
    const inner = config.num_heads * config.d_kv;
    log(`## ProtT5-XXL-shaped encoder layer (d_model ${config.d_model}, ${config.num_heads} heads of ${config.d_kv}, d_ff ${config.d_ff}; random f16 weights), batch of ${lengths.join(' + ')} residues, buffers ≤ ${(rt.maxBufferBytes / 2 ** 20).toFixed(0)} MiB
`);
    const model = await ProtT5Model.fromCheckpoint(rt, randomCheckpoint(config), false, { autotune: false });
    try {
      const weights = rt.pool.liveBytes;
      const largest = Math.max(...rt.pool.allocations.map((x) => x.bytes));
      const slices = rt.pool.allocations.filter((x) => /block\.0\.layer\.1\.DenseReluDense\.wi/.test(x.label)).length;
      rt.pool.resetPeak();
      const seqs = lengths.map((n) => 'MKTAYIAKQRQISFVKSHFSRQ'.repeat(10).slice(0, n));
      await model.embed(seqs); // warm-up: compiles pipelines
      const t0 = performance.now();
      await model.embed(seqs);
      const ms = performance.now() - t0;
      const tokens = lengths.reduce((x, y) => x + y + 1, 0);
      const flopsPerToken = 2 * (4 * config.d_model * inner + 2 * config.d_model * config.d_ff);
      const floor = Math.max((tokens * flopsPerToken) / ceil.gflops / 1e6, weights / ceil.gbps / 1e6);
      const largestRun = Math.max(...rt.pool.allocations.map((x) => x.bytes));
      log(`${ms.toFixed(0)} ms per layer for ${tokens} tokens (${((tokens * flopsPerToken) / ms / 1e6).toFixed(2)} GFLOP/s): ${((tokens / ms) * 1000 / 24).toFixed(3)} residues/s for the 24-layer model; floor ${floor.toFixed(0)} ms`);
      log(`weights ${(weights / 2 ** 20).toFixed(0)} MiB per layer, wi in ${slices} slice(s); largest buffer ${(Math.max(largest, largestRun) / 2 ** 20).toFixed(1)} MiB of the ${(rt.maxBufferBytes / 2 ** 20).toFixed(0)} MiB limit\n`);
      return { d_model: config.d_model, ms, floor_ms: floor, tokens, wi_slices: slices, largest_buffer: Math.max(largest, largestRun), limit: rt.maxBufferBytes };
    } finally {
      model.dispose();
    }
  } finally {
    rt.destroy();
  }
}

/** The bench's command-line options (node:util parseArgs), for `npm run bench` and `prott5 bench`. */
export const BENCH_OPTIONS = {
  quick: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false },
  'xxl-only': { type: 'boolean', default: false },
  'xxl-d-model': { type: 'string' },
  'one-adapter': { type: 'boolean', default: false },
  adapters: { type: 'string' },
  reference: { type: 'string' },
  json: { type: 'string' },
  md: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface BenchOptions {
  /** Smaller shapes, fewer repetitions: a check that the bench runs, in minutes. */
  quick?: boolean;
  /** Also the f16 XL layer, the XXL-shaped layer, the BERT/ESM layers, tfjs's matmul and memory in L (on each adapter). */
  full?: boolean;
  /** Only the ceilings and the XXL-shaped layer (this process's adapter). */
  'xxl-only'?: boolean;
  /** d_model of the XXL-shaped layer (default 1024, ProtT5-XXL's). */
  'xxl-d-model'?: string;
  /** Run on this process's adapter only (what the bench runs per adapter, in a child process each). */
  'one-adapter'?: boolean;
  /** The adapters to run on, comma-separated (hardware, llvmpipe, swiftshader); default every one present. */
  adapters?: string;
  /** With one-adapter: PyTorch's output of the peer layer (raw f32, after the final norm), to compare ours with. */
  reference?: string;
  /** Also write the numbers as JSON / the markdown report to these files. */
  json?: string;
  md?: string;
}

/** Tokens of the layer every peer runs (one sequence): the issue's 162 (a 161-residue protein); --quick 48. */
export const peerTokens = (quick: boolean): number => (quick ? 48 : 162);

/** Every adapter present (a child process each), PyTorch, the summary: bench/suite.ts; one adapter: runOneAdapter. */
export async function runBench(options: BenchOptions): Promise<void> {
  if (options['one-adapter'] || options['xxl-only']) return runOneAdapter(options);
  const { runSuite } = await import('./suite.js');
  return runSuite(options);
}

/** Runs every benchmark on this process's adapter, printing as it goes. */
async function runOneAdapter(options: BenchOptions): Promise<void> {
  const quick = options.quick ?? false, full = options.full ?? false;
  const jsonPath = options.json, mdPath = options.md;
  const results: Record<string, Record<string, number | string | null> | AdapterFigures> = {};
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
    lines.push(s);
  };

  const rt = await createNodeRuntime({ quietDrivers: true });
  const a = rt.adapter;
  log(`# prott5-webgpu bench\n`);
  log(`adapter: ${a.description} (${a.vendor}/${a.architecture}, ${a.backend}); timing: ${rt.device.features.has('timestamp-query') ? 'GPU timestamps' : 'wall clock'}`);
  log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString().slice(0, 10)}\n`);

  const ceil = await ceilings(rt);
  log(`ceilings: ${ceil.gflops1.toFixed(2)} GFLOP/s (independent vec4 fma chains, one fma per update), ${ceil.gflops4.toFixed(2)} GFLOP/s (four nested fma per update), ${ceil.gflops16.toFixed(2)} GFLOP/s (sixteen), ${ceil.gbps.toFixed(2)} GB/s (vec4 copy); floors and % of ceiling use ${ceil.gflops.toFixed(2)} GFLOP/s\n`);
  results.ceilings = { gflops_1fma: ceil.gflops1, gflops_4fma: ceil.gflops4, gflops_16fma: ceil.gflops16, gflops: ceil.gflops, gbps: ceil.gbps };
  const xxlDModel = Number(options['xxl-d-model'] ?? 1024);
  if (!(Number.isInteger(xxlDModel) && xxlDModel > 0 && xxlDModel % 8 === 0)) throw new Error(`--xxl-d-model must be a positive multiple of 8, got ${options['xxl-d-model']}`);
  if (options['xxl-only']) {
    results.xxl_layer = await xxlLayerBench(ceil, quick, xxlDModel, log);
    rt.destroy();
    if (jsonPath) writeFileSync(jsonPath, JSON.stringify(results, null, 2));
    if (mdPath) writeFileSync(mdPath, `${lines.join('\n')}\n`);
    return;
  }

  // ---- matmul at ProtT5-XL shapes (rows scaled down) ----
  const M = quick ? 64 : 128;
  log(`## matmul, f16 weights, M = ${M} rows\n`);
  log('| shape (N×K) | variant | ms | GFLOP/s | floor ms | % of ceiling |');
  log('| --- | --- | --- | --- | --- | --- |');
  const tuneStore = new MemoryTuneStore();
  const tuner = new Autotuner(rt, tuneStore, { rows: M, reps: quick ? 1 : 5, minFlops: 0 });
  let bestMatmul = 0, chosenFlops = 0, chosenMs = 0;
  for (const [N, K] of [[4096, 1024], [1024, 4096], ...(quick ? [] : [[16384, 1024]])] as Array<[number, number]>) {
    const tuned = await tuneMatmul(tuner, N, K, 'f16');
    const flops = 2 * M * N * K;
    const bytes = N * K * 2 + M * K * 4 + M * N * 4;
    const floor = Math.max(flops / ceil.gflops / 1e6, bytes / ceil.gbps / 1e6);
    for (const t of tuned.timings) {
      if (!t.ok) {
        log(`| ${N}×${K} | ${t.variant} | ${t.error?.startsWith('needs ') ? `not run: ${t.error}` : 'failed check'} | | | |`);
        continue;
      }
      const g = flops / t.ms / 1e6;
      const chosen = t.variant === matmulVariantName('f16', 'none', tuned.choice);
      if (chosen) {
        bestMatmul = Math.max(bestMatmul, g);
        chosenFlops += flops;
        chosenMs += t.ms;
      }
      log(`| ${N}×${K} | ${t.variant}${chosen ? ' (chosen)' : ''} | ${t.ms.toFixed(1)} | ${g.toFixed(2)} | ${floor.toFixed(1)} | ${((100 * g) / ceil.gflops).toFixed(0)}% |`);
    }
  }
  const matmulGflops = chosenMs > 0 ? chosenFlops / chosenMs / 1e6 : 0;
  log(`\nchosen variants over these shapes: ${matmulGflops.toFixed(2)} GFLOP/s, ${((100 * matmulGflops) / ceil.gflops).toFixed(0)}% of the ceiling`);
  results.matmul = { ours_gflops: bestMatmul, chosen_gflops: matmulGflops, tfjs_gflops: null, candidates: MATMUL_CANDIDATES.length };
  log('');
  let attentionGflops = 0, attentionL = 0;

  // ---- attention ----
  {
    // ProtT5-XL's 32 heads (the tuner's choice depends on the head count: the gemm family batches them).
    const L = quick ? 256 : 512, H = quick ? 4 : 32, DK = 128, R = 128;
    log(`## attention, L = ${L}, ${H} heads of d_kv ${DK}\n`);
    const res = await tuneAttention(tuner, DK, H);
    log(`| variant | ms (the tuner's L = ${ATTENTION_TUNE_TOKENS}) | ok |`);
    log('| --- | --- | --- |');
    for (const t of res.timings) log(`| ${t.variant} | ${t.ok ? t.ms.toFixed(2) : '—'} | ${t.ok ? 'yes' : t.error?.startsWith('needs ') ? `not run: ${t.error}` : 'failed check'} |`);
    const shape = [1, L, H * DK];
    const mk = (l: string) => rt.upload(new Float32Array(L * H * DK).map((_, i) => Math.sin(i) * 0.3), shape, 'f32', l);
    const q = mk('q'), k = mk('k'), v = mk('v'), out = rt.empty(shape, 'f32', 'o');
    const bias = rt.upload(new Float32Array(H * (2 * R + 1)), [H, 2 * R + 1], 'f32', 'bias'), lengths = rt.upload(Uint32Array.of(L), [1], 'u32', 'len');
    const tile: AttentionTile = res.choice;
    const ms = await median(rt, quick ? 1 : 3, () => attention(rt, { q, k, v, bias, lengths, out, heads: H, tile }));
    const flops = 4 * L * L * DK * H;
    log(`\nchosen ${JSON.stringify(tile)}: ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(2)} GFLOP/s, floor ${(flops / ceil.gflops / 1e6).toFixed(1)} ms\n`);
    results.attention = { L, ms, gflops: flops / ms / 1e6 };
    attentionGflops = flops / ms / 1e6;
    attentionL = L;
    for (const t of [q, k, v, out, bias, lengths]) t.release();
  }

  // ---- one ProtT5-XL-shaped encoder layer, end to end ----
  if (full) {
    const lengths = quick ? [40, 23] : [100, 60];
    log(`## ProtT5-XL-shaped encoder layer (1 of 24, random f16 weights), batch of ${lengths.join(' + ')} residues\n`);
    rt.pool.trim();
    const before = rt.pool.liveBytes;
    // The variants chosen above (same store), so the layer runs what a real model would.
    const model = await ProtT5Model.fromCheckpoint(rt, randomCheckpoint(XL_LAYER), false, { tuneStore });
    rt.pool.trim(); // the autotuner's scratch buffers are free now: not weights
    const weights = rt.pool.liveBytes - before;
    rt.pool.resetPeak();
    const seqs = lengths.map((n) => 'MKTAYIAKQRQISFVKSHFSRQ'.repeat(10).slice(0, n));
    await model.embed(seqs); // warm-up
    const t0 = performance.now();
    await model.embed(seqs);
    const ms = performance.now() - t0;
    const tokens = lengths.reduce((x, y) => x + y + 1, 0);
    const flopsPerToken = 2 * (4 * 1024 * 4096 + 2 * 1024 * 16384);
    const peakAct = rt.pool.peakBytes - before - weights;
    log(`${ms.toFixed(0)} ms per layer for ${tokens} tokens: ${((tokens / ms) * 1000).toFixed(1)} tokens/s per layer, ${((tokens / ms) * 1000 / 24).toFixed(2)} residues/s for the 24-layer model; floor ${((tokens * flopsPerToken) / ceil.gflops / 1e6).toFixed(0)} ms`);
    log(`weights ${(weights / 2 ** 20).toFixed(0)} MiB per layer; activations peak ${(peakAct / 2 ** 20).toFixed(1)} MiB, ${(peakAct / tokens / 1024).toFixed(1)} KiB per token\n`);
    results.layer = { f16_batch_ms: ms, ours_ms: null, tfjs_ms: null, tokens, bytes_per_token: peakAct / tokens };
    model.dispose();
  }

  if (full) {
    // ---- one ProtT5-XXL-shaped layer, the feed-forward within the default binding limit ----
    results.xxl_layer = await xxlLayerBench(ceil, quick, xxlDModel, log);

    // ---- BERT-shaped and ESM-2-650M-shaped layers, beside the ProtT5 one ----
    results.family_kernels = await benchFamilyKernels(rt, ceil, quick, log);
    const familyLayers = await benchFamilyLayers(rt, ceil, quick, quick ? undefined : tuner, log);
    results.family_layers = Object.fromEntries(Object.entries(familyLayers).flatMap(([k, r]) => [[`${k}_ms`, r.ms], [`${k}_floor_ms`, r.floor_ms], [`${k}_tokens`, r.tokens]]));
  }

  // ---- the prediction heads' conv1d (ProtT5-sec's shapes) ----
  results.head_kernels = await benchHeadKernels(rt, ceil, quick, log);

  // ---- peers: the same XL-shaped layer and tokens (f32 weights) in ours, tfjs on this adapter, and PyTorch's output ----
  let figures: AdapterFigures;
  {
    const tokens = peerTokens(quick);
    log(`## the XL-shaped layer beside its peers: ${tokens} tokens, f32 weights, wall clock with readback\n`);
    const layer = await peerLayer(tokens);
    const D = XL_LAYER.d_model;
    // --quick: the defaults (tuning the f32 XL shapes takes minutes on a CPU driver).
    const model = await ProtT5Model.fromCheckpoint(rt, layer.ckpt, false, quick ? { autotune: false } : { tuneStore });
    const reps = quick ? 1 : 3;
    let e: Float32Array = new Float32Array(0);
    const oursMs = await medianMs(reps, async () => {
      const [r] = await model.embed([layer.seq], { lastHiddenState: true, perProtein: false });
      e = r.lastHiddenState!.data;
    });
    await model.dispose();
    let errTorch: number | null = null, errTfjs: number | null = null, tfjsMs: number | null = null;
    if (options.reference) {
      const bytes = readFileSync(options.reference);
      errTorch = relFrobenius(e, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    }
    const tf = await loadTfjs(log);
    if (tf) {
      const tfl = await tfjsLayer(tf, layer.weights, layer.h0, tokens);
      tfjsMs = tfl.ms;
      errTfjs = relFrobenius(e, rmsnormRef(tfl.out, layer.finalNorm, tokens, D, 1e-6));
    }
    const g = (ms: number | null) => (ms === null ? '—' : ((xlLayerFlops(tokens) / ms) / 1e6).toFixed(2));
    log(`| ProtT5-XL-shaped layer, ${tokens} tokens | ms | GFLOP/s | output vs ours (relative) |`);
    log('| --- | --- | --- | --- |');
    log(`| prott5-webgpu | ${oursMs.toFixed(0)} | ${g(oursMs)} | |`);
    log(`| tfjs-backend-webgpu (tfjs ops, L×L scores) | ${tfjsMs === null ? 'not run' : tfjsMs.toFixed(0)} | ${g(tfjsMs)} | ${errTfjs === null ? '—' : errTfjs.toExponential(2)} |`);
    log(`| PyTorch CPU (bench/torch_layer.py, timed by the bench's parent) | | | ${errTorch === null ? 'not given' : errTorch.toExponential(2)} |\n`);
    results.layer = { ...(results.layer as Record<string, number | null> | undefined), ours_ms: oursMs, tfjs_ms: tfjsMs, peer_tokens: tokens, rel_err_vs_tfjs: errTfjs, rel_err_vs_pytorch: errTorch };
    figures = {
      name: a.description || a.kind, kind: a.kind, ceiling_gflops: ceil.gflops, matmul_gflops: matmulGflops, attention_gflops: attentionGflops, attention_L: attentionL,
      layer_ms: oursMs, layer_tokens: tokens, tfjs_layer_ms: tfjsMs, rel_err_vs_pytorch: errTorch, rel_err_vs_tfjs: errTfjs,
    };
    results.summary = figures;
  }

  // ---- tfjs's matmul beside ours ----
  const tf = full ? await loadTfjs(log) : null;
  if (tf) {
    log(`## tfjs-backend-webgpu's matmul on the same adapter (f32 weights on both sides, wall clock with readback)\n`);
    const [N, K] = [4096, 1024];
    const tile = (await tuneMatmul(tuner, N, K, 'f32')).choice;
    const x = rt.upload(new Float32Array(M * K).map((_, i) => Math.sin(i)), [M, K], 'f32', 'x');
    const w = rt.upload(new Float32Array(N * K).map((_, i) => Math.cos(i) * 0.01), [N, K], 'f32', 'w');
    const y = rt.empty([M, N], 'f32', 'y');
    const reps = quick ? 1 : 3;
    const ours = await medianMs(reps, async () => {
      await matmul(rt, { x, w, y, tile });
      await rt.read(y);
    });
    const theirs = await tfjsMatmulMs(tf, M, N, K, reps);
    for (const t of [x, w, y]) t.release();
    const g = (ms: number) => (2 * M * N * K) / ms / 1e6;
    log('| matmul f32 ' + `${M}×${N}×${K}` + ' | ms | GFLOP/s |');
    log('| --- | --- | --- |');
    log(`| prott5-webgpu (${matmulVariantName('f32', 'none', tile)}) | ${ours.toFixed(1)} | ${g(ours).toFixed(2)} |`);
    log(`| tfjs-backend-webgpu | ${theirs.toFixed(1)} | ${g(theirs).toFixed(2)} |`);
    log(`\nours / tfjs speed: ${(theirs / ours).toFixed(2)}×\n`);
    (results.matmul as Record<string, number | null>).tfjs_gflops = g(theirs);
    (results.matmul as Record<string, number | null>).ours_f32_gflops = g(ours);
  }

  // ---- memory: linear in L ----
  if (full) {
    const narrow: T5Config = { d_model: 64, d_ff: 128, d_kv: 32, num_heads: 2, num_layers: 1, vocab_size: 128, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6 };
    const L = quick ? 2048 : 8192;
    log(`## memory, one sequence of L and 2L (narrow model: d_model 64, 1 layer)\n`);
    const model = await ProtT5Model.fromCheckpoint(rt, randomCheckpoint(narrow), false, { autotune: false });
    const peakFor = async (n: number) => {
      rt.pool.trim();
      rt.pool.resetPeak();
      const base = rt.pool.liveBytes;
      await model.embed(['A'.repeat(n)], { maxSeqLen: n, maxResidues: n + 1 });
      return rt.pool.peakBytes - base;
    };
    const p1 = await peakFor(L), p2 = await peakFor(2 * L);
    log(`L = ${L}: ${(p1 / 2 ** 20).toFixed(1)} MiB; 2L = ${2 * L}: ${(p2 / 2 ** 20).toFixed(1)} MiB; ratio ${(p2 / p1).toFixed(2)} (2.0 is linear, 4.0 quadratic)\n`);
    results.memory = { L, peak_L: p1, peak_2L: p2, ratio_2L_over_L: p2 / p1 };
    model.dispose();
  }

  rt.destroy();
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify(results, null, 2));
  if (mdPath) writeFileSync(mdPath, `${lines.join('\n')}\n`);
}
