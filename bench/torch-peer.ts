// The PyTorch CPU peer: bench/torch_layer.py (torch ops, fp32, every core) run on the layer the
// bench's own processes run (bench/layer-inputs.ts), weights handed over as raw f32 files.
// PyTorch is Debian's python3-torch, installed by `npm run bench:setup` (bench/setup.sh), never
// by the tests; without it the peer is reported unavailable and the bench goes on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerLayer } from './layer-inputs.js';

/** bench/torch_layer.py from the source tree (the built bench runs from build/bench/ or dist/). */
export function torchScript(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'torch_layer.py'), resolve(here, '..', '..', 'bench', 'torch_layer.py'), resolve(here, '..', 'bench', 'torch_layer.py')]) if (existsSync(p)) return p;
  return null;
}

/**
 * The environment PyTorch is timed in: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on some
 * machines for other programs) make OpenBLAS pick slow kernels, so they are dropped.
 */
export function torchEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.OPENBLAS_CORETYPE;
  delete out.OPENBLAS_L2_SIZE;
  return out;
}

/**
 * The Python that has torch: $PROTT5_PYTHON, else `python3` on the PATH, else the system's
 * /usr/bin/python3 (where Debian's python3-torch goes, when a pyenv or venv python comes first).
 */
export function torchPython(): { python: string | null; why: string | null } {
  if (!torchScript()) return { python: null, why: 'bench/torch_layer.py not found' };
  const tried: string[] = [];
  for (const python of [process.env.PROTT5_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p))) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: torchEnv(), timeout: 60_000 });
    if (r.status === 0) return { python, why: null };
    tried.push(`${python}: ${r.error ? r.error.message : r.stderr.trim().split('\n').pop()}`);
  }
  return { python: null, why: `no Python with torch (${tried.join('; ')}); install it with: npm run bench:setup` };
}

export interface TorchResult {
  ms: number;
  threads: number;
  version: string;
  /** The BLAS library torch ran on (its path), null where the script could not tell. */
  blas: string | null;
  /** The layer's output [tokens, d_model] (before the final norm). */
  out: Float32Array;
}

/** Runs the layer in PyTorch (median of `reps` after a warm-up) on all cores. */
export function torchLayer(layer: PeerLayer, reps: number, python: string): TorchResult {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-torch-'));
  try {
    const w = layer.weights, L = layer.tokens, inner = w.heads * w.d_kv;
    const tensors: Record<string, [Float32Array, number[]]> = {
      h0: [layer.h0, [L, w.d_model]], ln0: [w.ln0, [w.d_model]], ln1: [w.ln1, [w.d_model]],
      q: [w.q, [inner, w.d_model]], k: [w.k, [inner, w.d_model]], v: [w.v, [inner, w.d_model]], o: [w.o, [w.d_model, inner]],
      wi: [w.wi, [w.d_ff, w.d_model]], wo: [w.wo, [w.d_model, w.d_ff]], bias: [w.biasTable, [w.heads, 2 * w.R + 1]],
    };
    for (const [n, [a]] of Object.entries(tensors)) writeFileSync(join(dir, `${n}.f32`), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const meta = { L, d_model: w.d_model, d_ff: w.d_ff, heads: w.heads, d_kv: w.d_kv, R: w.R, eps: 1e-6, tensors: Object.fromEntries(Object.entries(tensors).map(([n, [, s]]) => [n, s])) };
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
    const threads = cpus().length;
    const r = spawnSync(python, [torchScript()!, dir, '--reps', String(reps), '--threads', String(threads)], { encoding: 'utf8', env: torchEnv(), timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${python} bench/torch_layer.py failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().slice(-2000) || r.error?.message}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const bytes = readFileSync(join(dir, 'out.f32'));
    const out = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (out.length !== L * w.d_model) throw new Error(`bench/torch_layer.py wrote ${out.length} values, expected ${L * w.d_model}`);
    return { ms: res.ms, threads: res.threads, version: res.torch, blas: res.blas ?? null, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
