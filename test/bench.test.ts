// The bench's conclusions as units (bench/summary.ts): the --json shape the issue asks for,
// ratios and residues/s, PASS / SHORT against the goals (n/a where a figure is missing), and
// the environment PyTorch is timed in. Speed itself is never asserted here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchJsonProblems, buildBenchJson, formatBenchJson, GOALS, isReferenceBlas, residuesPerSecond, verdicts, type AdapterFigures, type Peers } from '../bench/summary.js';
import { xlLayerFlops } from '../bench/layer-inputs.js';
import { torchEnv } from '../bench/torch-peer.js';
import { humanLikeLengths, randomProtein } from '../bench/gpu.js';
import { rng } from '../src/gpu/numeric.js';
import { peakWgsl } from '../bench/bench.js';
import { runtime } from './gpu.js';

const fig = (kind: AdapterFigures['kind'], o: Partial<AdapterFigures> = {}): AdapterFigures => ({
  name: `${kind} adapter`, kind, ceiling_gflops: 40, matmul_gflops: 20, attention_gflops: 10, attention_L: 512,
  layer_ms: 600, layer_tokens: 162, tfjs_layer_ms: 1800, rel_err_vs_pytorch: 1e-6, rel_err_vs_tfjs: 2e-6, ...o,
});
const peers = (o: Partial<Peers> = {}): Peers => ({
  pytorch_layer_ms: 290, tfjs_layer_ms: 1800, pytorch_threads: 2, pytorch_version: '1.13', pytorch_blas: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', pytorch_unavailable: null, layer_tokens: 162, ...o,
});

test('the --json summary: every field the issue names, % of ceiling, ratios (theirs / ours) and whole-model residues/s', () => {
  const j = buildBenchJson([fig('llvmpipe'), fig('swiftshader', { ceiling_gflops: 10, attention_gflops: 5, layer_ms: 2900 })], peers());
  assert.equal(benchJsonProblems(j), []);
  const [l, s] = j.adapters;
  assert.equal([l.kind, l.ceiling_gflops, l.matmul.gflops, l.matmul.pct_ceiling, l.attention.gflops, l.attention.pct_ceiling, l.layer_ms], ['llvmpipe', 40, 20, 50, 10, 25, 600]);
  assert.is(s.attention.pct_ceiling, 50);
  assert.is(l.speed_vs_pytorch, 290 / 600);
  assert.is(l.speed_vs_tfjs, 3);
  assert.is(s.speed_vs_pytorch, 0.1);
  // 162 tokens per 600 ms layer, 24 layers: 162 / 14.4 s.
  assert.ok(Math.abs(l.residues_per_s! - 162 / 14.4) < 1e-9);
  assert.ok(Math.abs(j.peers.pytorch_residues_per_s! - 162 / (0.29 * 24)) < 1e-9);
  assert.is(j.peers.pytorch_layer_ms, 290);
  assert.is(j.peers.tfjs_layer_ms, 1800);
  const text = formatBenchJson(j).join('\n');
  assert.match(text, /\| llvmpipe \(llvmpipe adapter\) \| 40\.0 \| 20\.00 \(50%\) \| 10\.00 \(25%, L 512\) \| 600 \| 1800 \| 0\.48× \| 3\.00× \|/);
  assert.match(text, /PyTorch 1\.13 CPU fp32, 2 threads, BLAS \/usr\/lib\/x86_64-linux-gnu\/openblas-pthread\/libblas\.so\.3: 290 ms per layer/);
});

test('PASS / SHORT: llvmpipe at half PyTorch\'s speed passes, under it is short; attention at 40% of each adapter\'s ceiling', () => {
  const at = (layerMs: number, attention: number) => buildBenchJson([fig('llvmpipe', { layer_ms: layerMs, attention_gflops: attention })], peers()).goals;
  const pass = at(2 * 290, 16); // exactly 1/2 and exactly 40%
  assert.equal(pass.map((g) => g.status), ['PASS', 'PASS']);
  assert.is(pass[0].target, GOALS.llvmpipeVsPytorch);
  const short = at(2 * 290 + 1, 15.9);
  assert.equal(short.map((g) => g.status), ['SHORT', 'SHORT']);
  assert.match(short[1].goal, /attention ≥ 40% of the ceiling on llvmpipe \(L = 512\)/);
  // The speed goal's bound: PyTorch's 290 ms over the layer's FLOPs at llvmpipe's 40 GFLOP/s ceiling; attention has none.
  const bound = 290 / (xlLayerFlops(162) / 40 / 1e6);
  assert.ok(Math.abs(short[0].at_ceiling! - bound) < 1e-12 && short[1].at_ceiling === null, JSON.stringify(short));
  const unreachable = formatBenchJson(buildBenchJson([fig('llvmpipe', { ceiling_gflops: 10 })], peers())).join('\n');
  assert.match(unreachable, /\| ours on llvmpipe ≥ 1\/2 of PyTorch CPU's layer speed \| 0\.48 \| 0\.5 \| SHORT \| 0\.\d\d \|/);
  assert.match(unreachable, /out of reach there/);
  assert.not.match(formatBenchJson(buildBenchJson([fig('llvmpipe', { ceiling_gflops: 1e6 })], peers())).join('\n'), /out of reach there/);
  // No PyTorch (not installed) or no llvmpipe: the speed goal is n/a, not a pass.
  const noTorch = buildBenchJson([fig('llvmpipe')], peers({ pytorch_layer_ms: null, pytorch_unavailable: 'no torch' }));
  assert.is(noTorch.goals[0].status, 'n/a');
  assert.is(noTorch.adapters[0].speed_vs_pytorch, null);
  assert.match(formatBenchJson(noTorch).join('\n'), /PyTorch: not run \(no torch\)/);
  assert.is(verdicts({ adapters: buildBenchJson([fig('swiftshader')], peers()).adapters })[0].status, 'n/a');
  // PyTorch on Debian's reference BLAS (libblas3 without OpenBLAS) is ~100× slow: no fair peer, so n/a, not a pass.
  const reference = buildBenchJson([fig('llvmpipe', { layer_ms: 10 })], peers({ pytorch_blas: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0' }));
  assert.is(reference.goals[0].status, 'n/a');
  assert.match(reference.goals[0].goal, /reference BLAS: no fair peer/);
  assert.is(buildBenchJson([fig('llvmpipe', { layer_ms: 10 })], peers({ pytorch_blas: null })).goals[0].status, 'PASS');
  assert.ok(!isReferenceBlas('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3') && isReferenceBlas('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3'));
  // A layer that did not run gives no ratio and no residues/s, and the JSON still has its shape.
  const failed = buildBenchJson([fig('llvmpipe', { layer_ms: null })], peers());
  assert.ok(failed.adapters[0].speed_vs_pytorch === null && failed.adapters[0].residues_per_s === null);
  assert.equal(benchJsonProblems(failed), []);
});

test('benchJsonProblems names what a --json file lacks', () => {
  assert.equal(benchJsonProblems(null), ['not an object']);
  const bad = benchJsonProblems({ adapters: [{ name: 'x', kind: 'gpu', ceiling_gflops: 'fast', matmul: { gflops: 1 }, attention: { gflops: 1, pct_ceiling: 2 }, layer_ms: 3 }] });
  assert.ok(bad.includes('adapters[0].kind is "gpu"'), bad.join('; '));
  assert.ok(bad.includes('adapters[0].ceiling_gflops is "fast", not a number'), bad.join('; '));
  assert.ok(bad.includes('adapters[0].matmul.pct_ceiling is undefined, not a number'), bad.join('; '));
  assert.ok(bad.includes('peers is missing'), bad.join('; '));
  assert.ok(benchJsonProblems({ adapters: [], peers: {} }).includes('adapters is not a non-empty array'));
});

test('residues/s and the layer\'s FLOPs', () => {
  assert.is(residuesPerSecond(1000, 240, 24), 10);
  assert.is(residuesPerSecond(null, 240), null);
  assert.is(residuesPerSecond(0, 240), null);
  // 2·T·(4·1024·4096 + 2·1024·16384) + 4·T²·4096 at T = 1.
  assert.is(xlLayerFlops(1), 2 * (4 * 1024 * 4096 + 2 * 1024 * 16384) + 4 * 4096);
});

test('PyTorch is timed without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE; the rest of the environment is kept', () => {
  const env = torchEnv({ OPENBLAS_CORETYPE: 'haswell', OPENBLAS_L2_SIZE: '512', PATH: '/bin', OMP_NUM_THREADS: '2' });
  assert.equal(env, { PATH: '/bin', OMP_NUM_THREADS: '2' });
});

test('bench:gpu pieces: the synthetic proteome is seeded and human-like (median ~415, mean ~550, 30..max); the f16 peak kernel compiles where shader-f16 exists', async () => {
  const a = humanLikeLengths(4000, 1), b = humanLikeLengths(4000, 1);
  assert.equal(a, b, 'the same lengths for the same seed');
  assert.not.equal(humanLikeLengths(50, 2), a.slice(0, 50));
  const sorted = [...a].sort((x, y) => x - y), mean = a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(sorted[2000] > 380 && sorted[2000] < 450, `median ${sorted[2000]}`);
  assert.ok(mean > 480 && mean < 620, `mean ${mean}`);
  assert.ok(sorted[0] >= 30 && sorted.at(-1)! <= 5000 && humanLikeLengths(500, 3, 600).every((l) => l <= 600));
  const seq = randomProtein(300, rng(5));
  assert.match(seq, /^[ACDEFGHIKLMNPQRSTVWY]{300}$/);
  const text = peakWgsl(4, true);
  assert.ok(text.startsWith('enable f16;') && !text.includes('vec4<f32>'), text.slice(0, 400));
  const rt = await runtime();
  if (rt.device.features.has('shader-f16')) await rt.pipeline('peak_f16', text);
  await rt.pipeline('peak_f32', peakWgsl(4, false));
});

test.run();
