// The in-page half of the browser tests, bundled for the browser (build/browser-test/in-page.js)
// and loaded by test/browser/index.html. Each check runs in Chromium on its WebGPU adapter and
// reports to browser.test.ts (Node), which registers one uvu test per check:
//   window.prott5Tests.names()     the checks, in order
//   window.prott5Tests.run(name)   { ok, error?, worst?, note?, data? }
// Kernels are compared with kernels/reference.ts; the t5-tiny fixtures are loaded over HTTP
// through UrlFiles (Range requests) and compared with expected.safetensors. `data` carries
// embeddings (base64 float32) back to Node, which checks them against Dawn in Node.
import {
  BlobFiles, UrlFiles, clearModelCache, createBrowserRuntime, loadProtT5, readSafetensors,
  type Embedding, type Runtime,
} from '../../src/browser.js';
import { expectClose, randomArray, rng } from '../numeric.js';
import { attention } from '../../kernels/attention.js';
import { matmul, type Epilogue } from '../../kernels/matmul.js';
import { rmsnorm } from '../../kernels/rmsnorm.js';
import { attentionRef, matmulRef, rmsnormRef } from '../../kernels/reference.js';
import { fromFloat32, toFloat32, type DType } from '../../weights/tensor-entry.js';
import type { TensorDType } from '../../src/tensor.js';

export interface CheckResult {
  ok: boolean;
  error?: string;
  /** Worst relative (Frobenius) error seen by the check. */
  worst?: number;
  note?: string;
  /** Named float32 arrays, base64 of their little-endian bytes. */
  data?: Record<string, string>;
}

type Check = () => Promise<{ worst?: number; note?: string; data?: Record<string, string> } | void>;
const checks = new Map<string, Check>();
const check = (name: string, fn: Check) => checks.set(name, fn);


const FILE_DTYPE: Record<string, DType> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
function asWeights(values: Float32Array, dtype: TensorDType): { bytes: Uint8Array; values: Float32Array } {
  const bytes = fromFloat32(FILE_DTYPE[dtype], values);
  return { bytes, values: toFloat32(FILE_DTYPE[dtype], bytes) };
}

function b64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

let rtPromise: Promise<Runtime> | null = null;
const runtime = () => (rtPromise ??= createBrowserRuntime());

// ---- environment ---------------------------------------------------------------------

check('WebGPU adapter in this page', async () => {
  const rt = await runtime();
  const a = rt.adapter;
  return { note: `${a.vendor} ${a.architecture} ${a.description} (fallback: ${a.isFallbackAdapter}; features: ${a.features.join(', ')})` };
});

// ---- kernels ----------------------------------------------------------------------------

// Same bounds and reasons as test/matmul.test.ts and test/attention.test.ts.
const MATMUL_TOL = 1e-5;
const ATTENTION_TOL = 2e-5;
const MATMUL_SHAPES: Array<[number, number, number]> = [[1, 1, 1], [3, 17, 65], [17, 65, 3], [65, 200, 33], [33, 1, 200]];
const EPILOGUES: Epilogue[] = ['none', 'relu', 'add'];
let seed = 1;
for (const dtype of ['f32', 'f16', 'bf16'] as TensorDType[]) {
  MATMUL_SHAPES.forEach(([M, N, K], i) => {
    const epilogue = EPILOGUES[i % 3];
    const s = (seed += 3);
    check(`matmul ${dtype} M=${M} N=${N} K=${K} ${epilogue}`, async () => {
      const rt = await runtime();
      const xv = randomArray(M * K, s), w = asWeights(randomArray(N * K, s + 1), dtype), y0 = randomArray(M * N, s + 2);
      const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], dtype, 'w'), y = rt.upload(y0, [M, N], 'f32', 'y');
      try {
        await matmul(rt, { x, w: wt, y, epilogue });
        return { worst: expectClose('matmul', await rt.read(y), matmulRef(xv, w.values, M, N, K, epilogue, y0), MATMUL_TOL) };
      } finally {
        for (const t of [x, wt, y]) t.release();
      }
    });
  });
}

check('rmsnorm bf16 rows=7 D=65', async () => {
  const rt = await runtime();
  const [rows, D] = [7, 65];
  const xv = randomArray(rows * D, 41, 3), w = asWeights(randomArray(D, 42), 'bf16');
  const x = rt.upload(xv, [rows, D], 'f32', 'x'), wt = rt.upload(w.bytes, [D], 'bf16', 'w'), y = rt.empty([rows, D], 'f32', 'y');
  try {
    await rmsnorm(rt, x, wt, y, 1e-6);
    return { worst: expectClose('rmsnorm', await rt.read(y), rmsnormRef(xv, w.values, rows, D, 1e-6), 1e-5) };
  } finally {
    for (const t of [x, wt, y]) t.release();
  }
});

const ATTENTION_CASES: Array<[number, number, number, number, number]> = [
  // B, L, H, DK, R
  [1, 1, 1, 32, 8],
  [2, 17, 4, 32, 8],
  [3, 65, 2, 64, 16],
  [2, 40, 2, 17, 4],
];
for (const [B, L, H, DK, R] of ATTENTION_CASES) {
  const s = (seed += 10);
  check(`attention B=${B} L=${L} H=${H} DK=${DK} R=${R}, padded batch`, async () => {
    const rt = await runtime();
    const r = rng(s);
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    const n = B * L * H * DK;
    const qv = randomArray(n, s, 0.5), kv = randomArray(n, s + 1, 0.5), vv = randomArray(n, s + 2), bv = randomArray(H * (2 * R + 1), s + 3, 2);
    const shape = [B, L, H * DK];
    const q = rt.upload(qv, shape, 'f32', 'q'), k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v');
    const bias = rt.upload(bv, [H, 2 * R + 1], 'f32', 'bias'), len = rt.upload(Uint32Array.from(lengths), [B], 'u32', 'lengths');
    const out = rt.empty(shape, 'f32', 'out');
    try {
      await attention(rt, { q, k, v, bias, lengths: len, out, heads: H });
      return { worst: expectClose('attention', await rt.read(out), attentionRef(qv, kv, vv, bv, lengths, B, L, H, DK, R), ATTENTION_TOL) };
    } finally {
      for (const t of [q, k, v, bias, len, out]) t.release();
    }
  });
}

// ---- t5-tiny fixtures over HTTP ------------------------------------------------------------

const TINY = new URL('/test/fixtures/t5-tiny/', location.href).href;
// The acceptance bound of test/model.test.ts: f32 compute against a float64 reference.
const MODEL_TOL = 1e-4;
const ALL = { perResidue: true, perProtein: true, lastHiddenState: true };

interface Case { index: number; sequence: string; length: number }
let casesP: Promise<Case[]> | null = null;
const cases = () => (casesP ??= fetch(TINY + 'cases.json').then((r) => r.json()).then((j: { cases: Case[] }) => j.cases));

let expectedP: Promise<Map<string, () => Promise<Float32Array>>> | null = null;
async function want(key: string): Promise<Float32Array> {
  expectedP ??= (async () => {
    const src = await new UrlFiles(TINY).open('expected.safetensors');
    if (!src) throw new Error('expected.safetensors not found over HTTP');
    const st = await readSafetensors(src);
    return new Map(st.tensors.map((t) => [t.name, async () => toFloat32(t.dtype, await t.read())]));
  })();
  const get = (await expectedP).get(key);
  if (!get) throw new Error(`expected.safetensors has no ${key}`);
  return get();
}

async function compare(where: string, dtype: string, e: Embedding, c: Case): Promise<number> {
  if (e.length !== c.length) throw new Error(`${where}: length ${e.length}, expected ${c.length}`);
  let worst = 0;
  for (const [kind, got] of [['hidden', e.lastHiddenState], ['residue', e.perResidue], ['protein', e.perProtein]] as const) {
    if (!got) throw new Error(`${where}: ${kind} missing`);
    worst = Math.max(worst, expectClose(`${where} ${dtype}.${kind}.${c.index}`, got.data, await want(`${dtype}.${kind}.${c.index}`), MODEL_TOL));
  }
  return worst;
}

export const FIXTURE_FOLDERS: Array<[string, string]> = [
  ['t5-tiny-f32', 'F32'],
  ['t5-tiny-f16', 'F16'],
  ['t5-tiny-bf16', 'BF16'],
  ['t5-tiny-sharded', 'F32'],
  ['t5-tiny-seq2seq', 'F32'],
  ['t5-tiny-torch-f16', 'F16'],
];

for (const [folder, dtype] of FIXTURE_FOLDERS) {
  check(`fixture ${folder} over HTTP (Range): every case vs float64`, async () => {
    const rt = await runtime();
    // Default kernel variants (no autotuning): the Node side of the comparison uses the same.
    const model = await loadProtT5(TINY + folder + '/', { runtime: rt, autotune: false });
    let worst = 0;
    const data: Record<string, string> = {};
    try {
      for (const c of await cases()) {
        const [e] = await model.embed([c.sequence], ALL);
        worst = Math.max(worst, await compare(`${folder} alone`, dtype, e, c));
        data[`hidden.${c.index}`] = b64(e.lastHiddenState!.data);
        data[`protein.${c.index}`] = b64(e.perProtein!.data);
      }
      if (folder === 't5-tiny-f16') {
        // Batched with padding must give the same numbers in the browser too.
        const cs = await cases();
        const batched = await model.embed(cs.map((c) => c.sequence), ALL);
        for (const c of cs) worst = Math.max(worst, await compare(`${folder} batched`, dtype, batched[c.index], c));
      }
    } finally {
      model.dispose();
    }
    return { worst, data, note: `weights on the GPU: ${[...model.encoder.weightDtypes].join('/')}` };
  });
}

check('fixture t5-tiny-bf16 from picked files (File objects, BlobFiles)', async () => {
  const rt = await runtime();
  const files: File[] = [];
  for (const name of ['config.json', 'model.safetensors']) {
    const res = await fetch(`${TINY}t5-tiny-bf16/${name}`);
    files.push(new File([await res.blob()], name));
  }
  const model = await loadProtT5(new BlobFiles(files), { runtime: rt, autotune: false });
  try {
    const c = (await cases())[2];
    const [e] = await model.embed([c.sequence], ALL);
    return { worst: await compare('picked files', 'BF16', e, c) };
  } finally {
    model.dispose();
  }
});

check('URL weights: Range reads, missing files, Cache API makes a second load download nothing', async () => {
  const rt = await runtime();
  const base = `${TINY}t5-tiny-f16/`;
  const files = new UrlFiles(base);
  if ((await files.open('model.safetensors.index.json')) !== null) throw new Error('a missing file must open as null');
  const src = (await files.open('model.safetensors'))!;
  const whole = new Uint8Array(await (await fetch(base + 'model.safetensors')).arrayBuffer());
  if (src.size !== whole.byteLength) throw new Error(`size ${src.size}, file has ${whole.byteLength}`);
  for (const [off, len] of [[0, 8], [12345, 100], [whole.byteLength - 70000, 70000], [whole.byteLength - 1, 1]]) {
    const got = await src.read(off, len);
    const exp = whole.subarray(off, off + len);
    if (got.byteLength !== len || got.some((b, i) => b !== exp[i])) throw new Error(`read(${off}, ${len}) returned different bytes`);
  }
  let outside = false;
  await src.read(whole.byteLength - 4, 8).catch(() => (outside = true));
  if (!outside) throw new Error('a read past the end must fail');

  const cacheName = 'prott5-webgpu-test';
  await clearModelCache(cacheName);
  const first = new UrlFiles(base, { cache: cacheName });
  const m1 = await loadProtT5(first, { runtime: rt, autotune: false });
  m1.dispose();
  const second = new UrlFiles(base, { cache: cacheName });
  const m2 = await loadProtT5(second, { runtime: rt, autotune: false });
  const [e] = await m2.embed([(await cases())[1].sequence], ALL);
  m2.dispose();
  await clearModelCache(cacheName);
  const worst = await compare('from the Cache API', 'F16', e, (await cases())[1]);
  // The second load only probes each file (1 byte each); everything else comes from the cache.
  if (second.stats.received > 16) throw new Error(`second load downloaded ${second.stats.received} bytes (expected only the 1-byte probes)`);
  if (second.stats.cached < first.stats.received - 16) throw new Error(`second load read ${second.stats.cached} bytes from the cache, first downloaded ${first.stats.received}`);
  return { worst, note: `first load ${first.stats.received} B from the network; second ${second.stats.received} B network, ${second.stats.cached} B cache` };
});

// ---- the interface Node drives ----------------------------------------------------------

async function run(name: string): Promise<CheckResult> {
  const fn = checks.get(name);
  if (!fn) return { ok: false, error: `no in-page check named "${name}"` };
  try {
    const r = (await fn()) ?? {};
    return { ok: true, ...r };
  } catch (e) {
    const err = e as Error;
    return { ok: false, error: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}${err?.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : ''}` };
  }
}

(globalThis as unknown as { prott5Tests: unknown }).prott5Tests = { names: () => [...checks.keys()], run };
