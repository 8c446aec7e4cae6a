// What `npm run bench` concludes, as plain functions over the numbers (unit-tested in
// test/bench.test.ts): each adapter's ceiling, matmul and attention as % of it, the XL layer's
// ms beside PyTorch's and tfjs's, whole-model residues/s, the goals met (PASS) or not (SHORT),
// and the JSON the bench writes with --json.
import type { AdapterKind } from '../src/gpu/env.js';
import { XL_LAYERS, xlLayerFlops } from './layer-inputs.js';

/** One adapter's figures, as its bench process reports them. */
export interface AdapterFigures {
  name: string;
  kind: AdapterKind;
  ceiling_gflops: number;
  /** GFLOP/s of the chosen variants over the ProtT5-XL matmul shapes (their FLOPs over their summed ms). */
  matmul_gflops: number;
  /** GFLOP/s of the chosen attention variant at L tokens, 2 heads of 128. */
  attention_gflops: number;
  attention_L: number;
  /** One ProtT5-XL-shaped layer (f32 weights) over `layer_tokens` tokens, ms; null if it did not run. */
  layer_ms: number | null;
  layer_tokens: number;
  /** tfjs-backend-webgpu on this adapter, the same layer and tokens; null where tfjs is absent. */
  tfjs_layer_ms: number | null;
  /** Relative Frobenius error of our layer's output against PyTorch's and tfjs's (null: that peer did not run). */
  rel_err_vs_pytorch: number | null;
  rel_err_vs_tfjs: number | null;
}

export interface Peers {
  pytorch_layer_ms: number | null;
  /** tfjs on the first adapter listed (the one `auto` picks); each adapter's own is in its entry. */
  tfjs_layer_ms: number | null;
  pytorch_threads: number | null;
  pytorch_version: string | null;
  /** The BLAS library PyTorch ran on (null: not run, or unknown). On the reference BLAS it is no fair peer: its goal is n/a. */
  pytorch_blas: string | null;
  /** Why PyTorch did not run, or null. */
  pytorch_unavailable: string | null;
  layer_tokens: number;
}

export interface AdapterEntry {
  name: string;
  kind: AdapterKind;
  ceiling_gflops: number;
  matmul: { gflops: number; pct_ceiling: number };
  attention: { gflops: number; pct_ceiling: number; L: number };
  layer_ms: number | null;
  tfjs_layer_ms: number | null;
  /** PyTorch's layer ms / ours: 1 is parity, over 1 faster than PyTorch. */
  speed_vs_pytorch: number | null;
  speed_vs_tfjs: number | null;
  /** The whole 24-layer XL encoder at this layer's speed (tokens per layer time / 24). */
  residues_per_s: number | null;
  rel_err_vs_pytorch: number | null;
  rel_err_vs_tfjs: number | null;
}

export type Status = 'PASS' | 'SHORT' | 'n/a';

export interface Verdict {
  goal: string;
  value: number | null;
  target: number;
  status: Status;
  /**
   * The value if the adapter ran at its measured ceiling (the speed goal: PyTorch's layer ms over
   * the layer's FLOPs at the ceiling), so a SHORT that no kernel work can close says so; null where
   * there is no such bound (attention's % of ceiling is bounded by 100).
   */
  at_ceiling: number | null;
}

export interface BenchJson {
  adapters: AdapterEntry[];
  peers: Peers & { pytorch_residues_per_s: number | null };
  goals: Verdict[];
}

/**
 * Whether `blas` is the netlib reference BLAS (Debian's libblas3, in .../blas/): PyTorch's
 * matmuls then run 100× slower than on OpenBLAS (measured: 1.7 vs 220 GFLOP/s at 162×1024×16384 on 2
 * cores), so it is no peer to compare with.
 */
export function isReferenceBlas(blas: string | null): boolean {
  return blas !== null && /\/blas\/libblas\.so/.test(blas);
}

/** The goals: ours on llvmpipe at least half PyTorch CPU's layer speed; attention at 40% of each adapter's ceiling. */
export const GOALS = { llvmpipeVsPytorch: 0.5, attentionPctCeiling: 40 } as const;

export const pctOf = (gflops: number, ceiling: number): number => (ceiling > 0 ? (100 * gflops) / ceiling : NaN);

/** Residues/s of the whole XL model (XL_LAYERS layers) at `layerMs` per layer over `tokens` tokens. */
export function residuesPerSecond(layerMs: number | null, tokens: number, layers = XL_LAYERS): number | null {
  return layerMs !== null && layerMs > 0 ? (tokens / (layerMs * layers)) * 1000 : null;
}

const ratio = (theirs: number | null, ours: number | null) => (theirs !== null && ours !== null && ours > 0 ? theirs / ours : null);

export function buildBenchJson(figures: readonly AdapterFigures[], peers: Peers): BenchJson {
  const adapters: AdapterEntry[] = figures.map((f) => ({
    name: f.name,
    kind: f.kind,
    ceiling_gflops: f.ceiling_gflops,
    matmul: { gflops: f.matmul_gflops, pct_ceiling: pctOf(f.matmul_gflops, f.ceiling_gflops) },
    attention: { gflops: f.attention_gflops, pct_ceiling: pctOf(f.attention_gflops, f.ceiling_gflops), L: f.attention_L },
    layer_ms: f.layer_ms,
    tfjs_layer_ms: f.tfjs_layer_ms,
    speed_vs_pytorch: ratio(peers.pytorch_layer_ms, f.layer_ms),
    speed_vs_tfjs: ratio(f.tfjs_layer_ms, f.layer_ms),
    residues_per_s: residuesPerSecond(f.layer_ms, f.layer_tokens),
    rel_err_vs_pytorch: f.rel_err_vs_pytorch,
    rel_err_vs_tfjs: f.rel_err_vs_tfjs,
  }));
  const json: BenchJson = { adapters, peers: { ...peers, pytorch_residues_per_s: residuesPerSecond(peers.pytorch_layer_ms, peers.layer_tokens) }, goals: [] };
  json.goals = verdicts(json, peers);
  return json;
}

const status = (value: number | null, target: number): Status => (value === null || !Number.isFinite(value) ? 'n/a' : value >= target ? 'PASS' : 'SHORT');

/** PASS / SHORT (n/a where a figure is missing) for each goal: llvmpipe vs PyTorch, and attention on every adapter. */
export function verdicts(json: Pick<BenchJson, 'adapters'>, peers?: Pick<Peers, 'pytorch_blas' | 'pytorch_layer_ms' | 'layer_tokens'>): Verdict[] {
  const out: Verdict[] = [];
  const llvmpipe = json.adapters.find((a) => a.kind === 'llvmpipe');
  const v = llvmpipe?.speed_vs_pytorch ?? null;
  const unfair = isReferenceBlas(peers?.pytorch_blas ?? null);
  // The layer's ms at llvmpipe's ceiling: its FLOPs over the measured peak.
  const floorMs = llvmpipe && peers && llvmpipe.ceiling_gflops > 0 ? xlLayerFlops(peers.layer_tokens) / llvmpipe.ceiling_gflops / 1e6 : null;
  out.push({
    goal: `ours on llvmpipe ≥ 1/2 of PyTorch CPU's layer speed${unfair ? ' (PyTorch on the reference BLAS: no fair peer)' : ''}`,
    value: v,
    target: GOALS.llvmpipeVsPytorch,
    status: unfair ? 'n/a' : status(v, GOALS.llvmpipeVsPytorch),
    at_ceiling: ratio(peers?.pytorch_layer_ms ?? null, floorMs),
  });
  for (const a of json.adapters) {
    out.push({ goal: `attention ≥ ${GOALS.attentionPctCeiling}% of the ceiling on ${a.kind} (L = ${a.attention.L})`, value: a.attention.pct_ceiling, target: GOALS.attentionPctCeiling, status: status(a.attention.pct_ceiling, GOALS.attentionPctCeiling), at_ceiling: null });
  }
  return out;
}

const f = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const e = (x: number | null) => (x === null ? '—' : x.toExponential(1));

/** The summary as markdown lines. */
export function formatBenchJson(json: BenchJson): string[] {
  const p = json.peers;
  const lines = [
    `## summary: every adapter, PyTorch and tfjs (ProtT5-XL-shaped layer, f32 weights, ${p.layer_tokens} tokens)\n`,
    '| adapter | ceiling GFLOP/s | matmul GFLOP/s (% ceiling) | attention GFLOP/s (% ceiling) | layer ms | tfjs ms | PyTorch ms / ours | tfjs ms / ours | XL residues/s | err vs PyTorch | err vs tfjs |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...json.adapters.map((a) =>
      `| ${a.kind} (${a.name}) | ${f(a.ceiling_gflops)} | ${f(a.matmul.gflops, 2)} (${f(a.matmul.pct_ceiling, 0)}%) | ${f(a.attention.gflops, 2)} (${f(a.attention.pct_ceiling, 0)}%, L ${a.attention.L}) | ${f(a.layer_ms, 0)} | ${f(a.tfjs_layer_ms, 0)} | ${f(a.speed_vs_pytorch, 2)}× | ${f(a.speed_vs_tfjs, 2)}× | ${f(a.residues_per_s, 2)} | ${e(a.rel_err_vs_pytorch)} | ${e(a.rel_err_vs_tfjs)} |`),
    '',
    p.pytorch_layer_ms !== null
      ? `PyTorch ${p.pytorch_version} CPU fp32, ${p.pytorch_threads} threads, BLAS ${p.pytorch_blas ?? 'unknown'}: ${f(p.pytorch_layer_ms, 0)} ms per layer, ${f(p.pytorch_residues_per_s, 2)} residues/s for the whole XL model`
      : `PyTorch: not run (${p.pytorch_unavailable})`,
    '',
    '| goal | value | target | | at the adapter\'s ceiling |',
    '| --- | --- | --- | --- | --- |',
    ...json.goals.map((g) => `| ${g.goal} | ${f(g.value, 2)} | ${g.target} | ${g.status} | ${f(g.at_ceiling, 2)} |`),
    '',
    ...(json.goals.some((g) => g.at_ceiling !== null && g.at_ceiling < g.target)
      ? ['A goal whose value at the adapter\'s ceiling is under its target is out of reach there: the kernels would have to run faster than the adapter\'s own arithmetic peak.', '']
      : []),
  ];
  return lines;
}

/** What is wrong with a --json file's shape (empty when it has every required field). */
export function benchJsonProblems(x: unknown): string[] {
  const bad: string[] = [];
  const num = (v: unknown, where: string, nullable = false) => {
    if (!((nullable && v === null) || (typeof v === 'number' && Number.isFinite(v)))) bad.push(`${where} is ${JSON.stringify(v)}, not a number${nullable ? ' or null' : ''}`);
  };
  const o = x as Partial<BenchJson> | null;
  if (!o || typeof o !== 'object') return ['not an object'];
  if (!Array.isArray(o.adapters) || o.adapters.length === 0) bad.push('adapters is not a non-empty array');
  for (const [i, a] of (Array.isArray(o.adapters) ? o.adapters : []).entries()) {
    const w = `adapters[${i}]`;
    if (typeof a?.name !== 'string') bad.push(`${w}.name is not a string`);
    if (!['llvmpipe', 'swiftshader', 'hardware'].includes(a?.kind as string)) bad.push(`${w}.kind is ${JSON.stringify(a?.kind)}`);
    num(a?.ceiling_gflops, `${w}.ceiling_gflops`);
    for (const k of ['matmul', 'attention'] as const) {
      num(a?.[k]?.gflops, `${w}.${k}.gflops`);
      num(a?.[k]?.pct_ceiling, `${w}.${k}.pct_ceiling`);
    }
    num(a?.layer_ms, `${w}.layer_ms`, true);
  }
  if (!o.peers || typeof o.peers !== 'object') bad.push('peers is missing');
  else {
    num(o.peers.pytorch_layer_ms, 'peers.pytorch_layer_ms', true);
    num(o.peers.tfjs_layer_ms, 'peers.tfjs_layer_ms', true);
  }
  return bad;
}
