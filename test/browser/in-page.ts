// The in-page half of the browser tests, bundled for the browser (build/browser-test/in-page.js)
// and loaded by test/browser/index.html. Each check runs in Chromium on its WebGPU adapter and
// reports to browser.test.ts (Node), which registers one uvu test per check:
//   window.prott5Tests.names()     the checks, in order
//   window.prott5Tests.run(name)   { ok, error?, worst?, note?, data? }
// Kernels are compared with kernels/reference.ts; the t5-tiny fixtures are loaded over HTTP
// through UrlFiles (Range requests) and compared with expected.safetensors. `data` carries
// embeddings (base64 float32) back to Node, which checks them against Dawn in Node.
import {
  BlobFiles, DirectoryHandleFiles, UrlFiles, clearModelCache, createBrowserRuntime, loadProtT5, parseFasta, readSafetensors, registeredHeads,
  type Embedding, type PredictingHeadSpec, type Runtime,
} from '../../src/browser.js';
import { expectClose, randomArray, rng } from '../numeric.js';
import { runHead, type HeadInput } from '../head-run.js';
import { attention } from '../../kernels/attention.js';
import { LLVMPIPE_SG4_TILE, matmul, matmulRequires, type Epilogue, type MatmulTile } from '../../kernels/matmul.js';
import { unmet } from '../../src/gpu/requires.js';
import { embedding } from '../../kernels/embedding.js';
import { meanpool } from '../../kernels/meanpool.js';
import { rmsnorm } from '../../kernels/rmsnorm.js';
import { attentionRef } from '../../kernels/attention.ref.js';
import { embeddingRef } from '../../kernels/embedding.ref.js';
import { matmulRef } from '../../kernels/matmul.ref.js';
import { meanpoolRef } from '../../kernels/meanpool.ref.js';
import { rmsnormRef } from '../../kernels/rmsnorm.ref.js';
import { layernorm } from '../../kernels/layernorm.js';
import { layernormRef } from '../../kernels/layernorm.ref.js';
import { rotary, rotaryTable } from '../../kernels/rotary.js';
import { rotaryRef } from '../../kernels/rotary.ref.js';
import { fromFloat32, toFloat32, type DType } from '../../src/gpu/dtype.js';
import type { TensorDType } from '../../src/gpu/tensor.js';

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

// The sg4 family (subgroups of 4: the tuner's choice on SwiftShader, llvmpipe's untuned tile
// where its subgroups are 4) in the page: Chromium's adapter has to report subgroups of at least
// 4 for the tuner to time it, so a device without them fails here, saying why.
const SG4_TILES: MatmulTile[] = [{ family: 'sg4', tm: 4, tn: 3, wgX: 4, wgY: 1 }, LLVMPIPE_SG4_TILE];
check('matmul sg4 (4-lane subgroup broadcasts) f16 and f32, and the gemm attention over it', async () => {
  const rt = await runtime();
  const why = unmet(matmulRequires(SG4_TILES[0]), rt);
  if (why !== null) throw new Error(`sg4 cannot run on this adapter: ${why}`);
  let worst = 0;
  for (const tile of SG4_TILES) {
    for (const [dtype, [M, N, K]] of [['f16', [33, 70, 40]], ['f32', [17, 131, 64]]] as Array<[TensorDType, [number, number, number]]>) {
      const xv = randomArray(M * K, (seed += 3)), w = asWeights(randomArray(N * K, seed + 1), dtype), y0 = randomArray(M * N, seed + 2);
      const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], dtype, 'w'), y = rt.upload(y0, [M, N], 'f32', 'y');
      try {
        await matmul(rt, { x, w: wt, y, epilogue: 'add', tile });
        worst = Math.max(worst, expectClose(`matmul ${JSON.stringify(tile)} ${dtype}`, await rt.read(y), matmulRef(xv, w.values, M, N, K, 'add', y0), MATMUL_TOL));
      } finally {
        for (const t of [x, wt, y]) t.release();
      }
    }
  }
  const [B, L, H, DK, R] = [2, 45, 2, 64, 16], lengths = [45, 30], n = B * L * H * DK, shape = [B, L, H * DK];
  const qv = randomArray(n, 501, 0.5), kv = randomArray(n, 502, 0.5), vv = randomArray(n, 503), bv = randomArray(H * (2 * R + 1), 504, 2);
  const q = rt.upload(qv, shape, 'f32', 'q'), k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v');
  const bias = rt.upload(bv, [H, 2 * R + 1], 'f32', 'bias'), len = rt.upload(Uint32Array.from(lengths), [B], 'u32', 'lengths'), out = rt.empty(shape, 'f32', 'out');
  try {
    await attention(rt, { q, k, v, bias, lengths: len, out, heads: H, tile: { family: 'gemm', tq: 64, tk: 0, matmul: SG4_TILES[0] } });
    worst = Math.max(worst, expectClose('attention gemm over sg4', await rt.read(out), attentionRef(qv, kv, vv, bv, lengths, B, L, H, DK, R), ATTENTION_TOL));
  } finally {
    for (const t of [q, k, v, bias, len, out]) t.release();
  }
  return { worst, note: `subgroupMinSize ${rt.adapter.subgroupMinSize}` };
});

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

// Same bounds and reasons as test/kernels.test.ts: embedding is an exact copy, meanpool 1e-6.
for (const [dtype, T, vocab, D] of [['f16', 17, 128, 65], ['bf16', 3, 5, 17], ['f32', 200, 128, 64]] as Array<[TensorDType, number, number, number]>) {
  const s = (seed += 5);
  check(`embedding ${dtype} T=${T} vocab=${vocab} D=${D}`, async () => {
    const rt = await runtime();
    const r = rng(s);
    const ids = Uint32Array.from({ length: T }, () => Math.floor(r() * vocab));
    if (T > 2) ids[T - 1] = vocab + 3; // out of range: a zero row
    const w = asWeights(randomArray(vocab * D, s + 1), dtype);
    const idt = rt.upload(ids, [T], 'u32', 'ids'), wt = rt.upload(w.bytes, [vocab, D], dtype, 'table'), y = rt.empty([T, D], 'f32', 'y');
    try {
      await embedding(rt, idt, wt, y);
      const got = await rt.read(y), exp = embeddingRef(ids, w.values, vocab, D);
      for (let i = 0; i < exp.length; i++) if (got[i] !== exp[i]) throw new Error(`embedding[${i}] = ${got[i]}, want ${exp[i]}`);
      return { worst: 0 };
    } finally {
      for (const t of [idt, wt, y]) t.release();
    }
  });
}

for (const [B, L, D] of [[3, 17, 5], [2, 65, 33]]) {
  const s = (seed += 5);
  check(`meanpool B=${B} L=${L} D=${D}`, async () => {
    const rt = await runtime();
    const r = rng(s);
    const counts = Uint32Array.from({ length: B }, (_, b) => (b === 0 ? L : Math.floor(r() * (L + 1))));
    const starts = Uint32Array.from({ length: B }, (_, b) => b % 2);
    const xv = randomArray(B * L * D, s + 1);
    const x = rt.upload(xv, [B, L, D], 'f32', 'x'), s0 = rt.upload(starts, [B], 'u32', 'starts'), c = rt.upload(counts, [B], 'u32', 'counts');
    const y = rt.empty([B, D], 'f32', 'y');
    try {
      await meanpool(rt, x, s0, c, y);
      return { worst: expectClose('meanpool', await rt.read(y), meanpoolRef(xv, starts, counts, B, L, D), 1e-6) };
    } finally {
      for (const t of [x, s0, c, y]) t.release();
    }
  });
}

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

check('fixture t5-tiny-sharded from a folder handle (DirectoryHandleFiles over the origin private file system)', async () => {
  // showDirectoryPicker() needs a user gesture; the origin private file system hands out the same
  // kind of FileSystemDirectoryHandle, so the folder code path is the one a picked folder takes.
  const rt = await runtime();
  const root = await navigator.storage.getDirectory();
  await root.removeEntry('t5-tiny-sharded', { recursive: true }).catch(() => undefined);
  const dir = await root.getDirectoryHandle('t5-tiny-sharded', { create: true });
  const names = ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  for (const name of names) {
    const bytes = await (await fetch(`${TINY}t5-tiny-sharded/${name}`)).arrayBuffer();
    const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
    await w.write(bytes);
    await w.close();
  }
  const files = new DirectoryHandleFiles(dir);
  try {
    if ((await files.open('model.safetensors')) !== null) throw new Error('a missing file must open as null');
    let escaped = false;
    await files.open('../t5-tiny-sharded/config.json').then((f) => (escaped = f !== null), () => undefined);
    if (escaped) throw new Error('a name with a path must not open');
    const model = await loadProtT5(files, { runtime: rt, autotune: false });
    try {
      const c = (await cases())[3];
      const [e] = await model.embed([c.sequence], ALL);
      return { worst: await compare('folder handle', 'F32', e, c) };
    } finally {
      model.dispose();
    }
  } finally {
    await root.removeEntry('t5-tiny-sharded', { recursive: true });
  }
});

check('URL weights: onDownload reports growing byte counts up to the whole download', async () => {
  const rt = await runtime();
  const seen: Array<{ file: string; received: number }> = [];
  const model = await loadProtT5(`${TINY}t5-tiny-f16/`, { runtime: rt, autotune: false, onDownload: (d) => seen.push({ file: d.file, received: d.received }) });
  model.dispose();
  if (seen.length < 2) throw new Error(`onDownload called ${seen.length} times`);
  for (let i = 1; i < seen.length; i++) if (seen[i].received < seen[i - 1].received) throw new Error(`received went down at call ${i}`);
  const size = (await (await fetch(`${TINY}t5-tiny-f16/model.safetensors`)).arrayBuffer()).byteLength;
  const last = seen[seen.length - 1].received;
  // Every weight byte arrives at least once. Reads under 4 KiB (norms, the header) fetch a 64 KiB
  // window, which on a model this small is a large share; on ProtT5-XL it is ~3 MB of 2.4 GB.
  if (last < size) throw new Error(`last report ${last} B; model.safetensors holds ${size} B`);
  if (!seen.some((s) => s.file.endsWith('/t5-tiny-f16/model.safetensors'))) throw new Error(`no report names model.safetensors: ${JSON.stringify(seen.slice(0, 3))}`);
  return { note: `${seen.length} reports, last ${last} B; model.safetensors holds ${size} B` };
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

// ---- BERT-style and ESM-2 fixtures over HTTP (test/fixtures/families) ------------------------

const FAMILIES = new URL('/test/fixtures/families/', location.href).href;

interface FamilyCase { index: number; sequence: string; input_ids: number[]; residue_start: number; residue_count: number; masked_rows?: number[] }
let familyCasesP: Promise<Record<string, { cases: FamilyCase[] }>> | null = null;
const familyCases = () => (familyCasesP ??= fetch(FAMILIES + 'cases-bert-esm.json').then((r) => r.json()).then((j) => j.families));

let familyExpectedP: Promise<Map<string, () => Promise<Float32Array>>> | null = null;
async function familyWant(key: string): Promise<Float32Array> {
  familyExpectedP ??= (async () => {
    const src = await new UrlFiles(FAMILIES).open('expected-bert-esm.safetensors');
    if (!src) throw new Error('expected-bert-esm.safetensors not found over HTTP');
    const st = await readSafetensors(src);
    return new Map(st.tensors.map((t) => [t.name, async () => toFloat32(t.dtype, await t.read())]));
  })();
  const get = (await familyExpectedP).get(key);
  if (!get) throw new Error(`expected-bert-esm.safetensors has no ${key}`);
  return get();
}

/** The case's input text: masked rows become the literal `<mask>`. */
const familyInput = (c: FamilyCase) => {
  if (!c.masked_rows) return c.sequence;
  const rows = new Set(c.masked_rows.map((r) => r - c.residue_start));
  return [...c.sequence].map((ch, i) => (rows.has(i) ? '<mask>' : ch)).join('');
};

async function familyCompare(where: string, key: string, e: Embedding, c: FamilyCase, D: number): Promise<number> {
  const hidden = await familyWant(`${key}.hidden.${c.index}`), protein = await familyWant(`${key}.protein.${c.index}`);
  const residue = hidden.subarray(c.residue_start * D, (c.residue_start + c.residue_count) * D);
  return Math.max(
    expectClose(`${where} last_hidden_state`, e.lastHiddenState!.data, hidden, MODEL_TOL),
    expectClose(`${where} per-residue`, e.perResidue!.data, residue, MODEL_TOL),
    expectClose(`${where} per-protein`, e.perProtein!.data, protein, MODEL_TOL),
  );
}

/** Folder, fixture key in expected-bert-esm.safetensors, family. */
export const FAMILY_FOLDERS: Array<[string, string, string]> = [['protbert', 'protbert.F32', 'bert'], ['esm2', 'esm2.F32', 'esm']];

for (const [folder, key, family] of FAMILY_FOLDERS) {
  check(`family fixture ${folder} over HTTP: token ids, every case alone and batched vs float64`, async () => {
    const rt = await runtime();
    const model = await loadProtT5(FAMILIES + folder + '/', { runtime: rt, autotune: false });
    let worst = 0;
    const data: Record<string, string> = {};
    try {
      if (model.family.name !== family) throw new Error(`family ${model.family.name}, expected ${family}`);
      const cs = (await familyCases())[key.split('.')[0]].cases;
      const D = model.hiddenSize;
      for (const c of cs) {
        const ids = Array.from(model.tokenizer.encode(familyInput(c), `case ${c.index}`).ids);
        if (ids.join() !== c.input_ids.join()) throw new Error(`case ${c.index}: ids ${ids.join(' ')}, expected ${c.input_ids.join(' ')}`);
        const [e] = await model.embed([familyInput(c)], ALL);
        worst = Math.max(worst, await familyCompare(`${folder} case ${c.index} alone`, key, e, c, D));
        data[`hidden.${c.index}`] = b64(e.lastHiddenState!.data);
        data[`protein.${c.index}`] = b64(e.perProtein!.data);
      }
      const batched = await model.embed(cs.map(familyInput), { ...ALL, maxBatch: 100, maxResidues: 100000 });
      for (const [i, c] of cs.entries()) worst = Math.max(worst, await familyCompare(`${folder} case ${c.index} batched`, key, batched[i], c, D));
    } finally {
      model.dispose();
    }
    return { worst, data, note: `${family}: weights on the GPU ${[...model.encoder.weightDtypes].join('/')}` };
  });
}

check('layernorm, rotary and the bias + GELU matmul epilogue vs float64', async () => {
  const rt = await runtime();
  const [rows, D] = [37, 65];
  const xv = randomArray(rows * D, 41, 3), wv = randomArray(D, 42), bv = randomArray(D, 43);
  const x = rt.upload(xv, [rows, D], 'f32', 'x'), w = rt.upload(wv, [D], 'f32', 'w'), b = rt.upload(bv, [D], 'f32', 'b'), y = rt.empty([rows, D], 'f32', 'y');
  await layernorm(rt, x, w, b, y, 1e-12);
  let worst = expectClose('layernorm', await rt.read(y), layernormRef(xv, wv, bv, rows, D, 1e-12), 1e-5);
  const [B, L, H, DK] = [2, 19, 3, 16];
  const inv = Float32Array.from({ length: DK / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / DK));
  const qv = randomArray(B * L * H * DK, 44);
  const q = rt.upload(qv, [B, L, H * DK], 'f32', 'q'), table = rt.upload(rotaryTable(inv, L), [L, DK / 2, 2], 'f32', 'cs');
  await rotary(rt, q, table, H);
  worst = Math.max(worst, expectClose('rotary', await rt.read(q), rotaryRef(qv, inv, B * L, L, H), 1e-6));
  const [M, N, K] = [17, 33, 40];
  const mx = randomArray(M * K, 45), mw = randomArray(N * K, 46), mb = randomArray(N, 47);
  const tx = rt.upload(mx, [M, K], 'f32', 'mx'), tw = rt.upload(mw, [N, K], 'f32', 'mw'), tb = rt.upload(mb, [N], 'f32', 'mb'), ty = rt.empty([M, N], 'f32', 'my');
  await matmul(rt, { x: tx, w: tw, y: ty, bias: tb, epilogue: 'bias_gelu' });
  worst = Math.max(worst, expectClose('matmul bias_gelu', await rt.read(ty), matmulRef(mx, mw, M, N, K, 'bias_gelu', undefined, mb), MATMUL_TOL));
  for (const t of [x, w, b, y, q, table, tx, tw, tb, ty]) t.release();
  return { worst };
});


// ---- prediction heads on their fixtures over HTTP ------------------------------------------

// The bound of test/heads.test.ts: each upstream module's float64 outputs, f32 here.
const HEAD_TOL = 1e-5;
const HEADS_AT = new URL('/test/fixtures/heads/', location.href).href;
const HEAD_CHECKS: Record<string, { tensors: Record<string, string>; strings: (c: Record<string, unknown>) => Record<string, string> }> = {
  secstruct: {
    tensors: { 'dssp3.probs': 'secstruct.dssp3', 'dssp8.probs': 'secstruct.dssp8', 'diso.probs': 'secstruct.diso', 'dssp3.logits': 'secstruct.dssp3.logits' },
    strings: (c) => ({ dssp3: c.dssp3 as string, dssp8: c.dssp8 as string, diso: c.diso as string }),
  },
  la: {
    tensors: { 'loc.logits': 'la.loc.logits', 'mem.logits': 'la.mem.logits' },
    strings: (c) => ({ loc: c.localization as string, mem: c.membrane as string }),
  },
  tmbed: {
    tensors: { 'ensemble.probs': 'tmbed.topology', 'fold0.logits': 'tmbed.fold0.logits', 'fold4.logits': 'tmbed.fold4.logits' },
    strings: (c) => ({ topology: (c.ensemble as Record<string, string>).format0 }),
  },
};
for (const [name, hc] of Object.entries(HEAD_CHECKS)) {
  check(`head ${name}: fixture cases alone and batched (checkpoints over HTTP)`, async () => {
    const rt = await runtime();
    const files = new UrlFiles(`${HEADS_AT}${name}/`);
    const cs: Array<Record<string, unknown> & { index: number; length: number }> = (await (await fetch(`${HEADS_AT}${name}/cases.json`)).json()).cases;
    const src = await files.open('expected.safetensors');
    if (!src) throw new Error(`${name}/expected.safetensors not found over HTTP`);
    const st = await readSafetensors(src);
    const tensor = async (key: string) => {
      const t = st.tensors.find((x) => x.name === key);
      if (!t) throw new Error(`${name}/expected.safetensors has no ${key}`);
      return { data: toFloat32(t.dtype, await t.read()), shape: [...t.shape] };
    };
    const inputs: HeadInput[] = [];
    for (const c of cs) inputs.push({ rows: (await tensor(`embedding.${c.index}`)).data, residues: c.length });
    const D = (await tensor('embedding.0')).shape[1];
    const spec = registeredHeads().find((h) => h.name === name) as PredictingHeadSpec;
    const head = await spec.load(rt, { hiddenSize: D, files });
    let worst = 0;
    try {
      // Alone: the three short cases; batched: all four, padded, at an offset, junk in the padding.
      const alone: Array<Map<string, Float32Array>> = [];
      for (const x of inputs.slice(0, 3)) alone.push((await runHead(rt, head, [x], D, { extra: 1 }))[0]);
      const batched = await runHead(rt, head, inputs, D, { shift: 1, extra: 2, junk: 0.75 });
      for (const [i, c] of cs.entries()) {
        for (const [what, out] of [['batched', batched[i]], ...(i < 3 ? [['alone', alone[i]] as const] : [])] as const) {
          for (const [fkey, okey] of Object.entries(hc.tensors)) {
            const got = out.get(okey);
            if (!got) throw new Error(`${name}: no output ${okey}`);
            worst = Math.max(worst, expectClose(`${name} case ${c.index} ${fkey} ${what}`, got, (await tensor(`${fkey}.${c.index}`)).data, HEAD_TOL));
          }
          for (const [o, wantStr] of Object.entries(hc.strings(c))) {
            const p = spec.predictions.find((x) => x.name === o)!;
            const got = p.decode(out.get(p.kind.key)!, c.length);
            if (got !== wantStr) throw new Error(`${name} case ${c.index} ${o} ${what}: ${got}, want ${wantStr}`);
          }
        }
      }
    } finally {
      head.dispose();
    }
    return { worst };
  });
}

// ---- time to first result ------------------------------------------------------------------

check('demo model over HTTP: load + embed the sample, cold then warm (times in the note; values checked in Node)', async () => {
  // A cache of its own: the first load downloads and tunes into it, the second finds both there.
  const cache = `prott5-first-result-${Date.now()}`;
  const records = parseFasta(await (await fetch('/examples/sample.fasta')).text());
  const times: string[] = [];
  const data: Record<string, string> = {};
  try {
    for (const pass of ['cold', 'warm']) {
      const t0 = performance.now();
      const model = await loadProtT5(new URL('/examples/demo-model/', location.href), { cache });
      const t1 = performance.now();
      const out = await model.embed(records);
      const t2 = performance.now();
      await model.dispose();
      times.push(`${pass}: load ${(t1 - t0).toFixed(0)} ms + embed ${(t2 - t1).toFixed(0)} ms = ${(t2 - t0).toFixed(0)} ms`);
      out.forEach((e, i) => (data[`${pass}.${i}`] = b64(e.perProtein.data)));
    }
  } finally {
    await clearModelCache(cache);
  }
  return { data, note: times.join('; ') };
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
