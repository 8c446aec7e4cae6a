// `npm run bench` (and `prott5 bench`): the whole comparison in one run. Finds every adapter
// present (a GPU, llvmpipe, SwiftShader), runs the PyTorch peer once on the XL-shaped layer,
// then this bench on each adapter in a child process of its own (PROTT5_ADAPTER=kind, with
// PyTorch's output to compare against), and prints the summary: ceilings, matmul and attention
// as % of them, the layer's ms for ours / tfjs / PyTorch and their ratios, residues/s for the
// whole XL model, and PASS / SHORT against the goals. --json FILE writes bench/summary.ts's
// BenchJson (plus each adapter's own numbers under `runs`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { rmsnormRef } from '../kernels/rmsnorm.ref.js';
import type { AdapterKind } from '../src/gpu/env.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { peerTokens, type BenchOptions } from './bench.js';
import { peerLayer, XL_LAYER } from './layer-inputs.js';
import { buildBenchJson, formatBenchJson, isReferenceBlas, type AdapterFigures, type Peers } from './summary.js';
import { torchLayer, torchPython } from './torch-peer.js';

/** The adapters that give a device here, in the order `auto` prefers them. */
export async function presentAdapters(): Promise<AdapterKind[]> {
  const out: AdapterKind[] = [];
  for (const adapter of ['hardware', 'llvmpipe', 'swiftshader'] as const) {
    try {
      const rt = await createNodeRuntime({ adapter, quietDrivers: true });
      out.push(rt.adapter.kind);
      rt.destroy();
    } catch {
      // absent
    }
  }
  return out;
}

/** Runs this bench again (same entry: build/bench/main.js or `prott5 bench`) on one adapter; resolves to its exit code. */
function child(kind: AdapterKind, args: string[]): Promise<number | null> {
  const entry = process.argv[1];
  const sub = process.argv[2] === 'bench' ? ['bench'] : [];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [entry, ...sub, ...args], { env: { ...process.env, PROTT5_ADAPTER: kind }, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('close', (code) => resolve(code));
    p.on('error', () => resolve(null));
  });
}

export async function runSuite(options: BenchOptions): Promise<void> {
  const quick = options.quick ?? false;
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  log(`# prott5-webgpu bench: every adapter present, PyTorch CPU and tfjs-backend-webgpu\n`);
  log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString().slice(0, 10)}${quick ? ', --quick' : ''}\n`);
  const present = await presentAdapters();
  const asked = options.adapters?.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of asked ?? []) if (!['hardware', 'llvmpipe', 'swiftshader'].includes(k)) throw new Error(`--adapters: unknown adapter "${k}" (hardware, llvmpipe, swiftshader)`);
  const kinds = asked ? present.filter((k) => asked.includes(k)) : present;
  if (asked) for (const k of asked) if (!present.includes(k as AdapterKind)) log(`${k}: not present here`);
  log(`adapters: ${kinds.join(', ') || 'none'}\n`);
  if (!kinds.length) throw new Error('no WebGPU adapter here: install a Vulkan driver (npm run setup installs llvmpipe and SwiftShader)');
  const dir = mkdtempSync(join(tmpdir(), 'prott5-bench-'));
  try {
    const tokens = peerTokens(quick);
    const { python, why } = torchPython();
    const peers: Peers = { pytorch_layer_ms: null, tfjs_layer_ms: null, pytorch_threads: null, pytorch_version: null, pytorch_blas: null, pytorch_unavailable: why, layer_tokens: tokens };
    let reference: string | null = null;
    if (why) log(`PyTorch peer: not run: ${why}\n`);
    else {
      const layer = await peerLayer(tokens);
      const t = torchLayer(layer, quick ? 2 : 5, python!);
      Object.assign(peers, { pytorch_layer_ms: t.ms, pytorch_threads: t.threads, pytorch_version: t.version, pytorch_blas: t.blas });
      log(`PyTorch ${t.version} CPU fp32 (${python}, ${t.threads} threads, BLAS ${t.blas ?? 'unknown'}), the XL-shaped layer over ${tokens} tokens: ${t.ms.toFixed(0)} ms\n`);
      if (isReferenceBlas(t.blas)) log(`PyTorch ran on the reference BLAS (${t.blas}): not a fair peer, and the goal against it is n/a; npm run bench:setup installs OpenBLAS (libopenblas0-pthread)\n`);
      reference = join(dir, 'pytorch-out.f32');
      const normed = Float32Array.from(rmsnormRef(t.out, layer.finalNorm, tokens, XL_LAYER.d_model, 1e-6));
      writeFileSync(reference, new Uint8Array(normed.buffer, normed.byteOffset, normed.byteLength));
    }
    const figures: AdapterFigures[] = [];
    const runs: Record<string, unknown> = {};
    for (const kind of kinds) {
      const json = join(dir, `${kind}.json`), md = join(dir, `${kind}.md`);
      const args = ['--one-adapter', '--json', json, '--md', md, ...(quick ? ['--quick'] : []), ...(options.full ? ['--full'] : []), ...(reference ? ['--reference', reference] : [])];
      log(`\n---- ${kind} (a child process: PROTT5_ADAPTER=${kind}) ----\n`);
      const code = await child(kind, args);
      if (code !== 0 || !existsSync(json)) {
        log(`${kind}: the bench process failed (exit ${code}); left out of the summary\n`);
        continue;
      }
      const r = JSON.parse(readFileSync(json, 'utf8'));
      runs[kind] = r;
      figures.push(r.summary as AdapterFigures);
      if (existsSync(md)) lines.push(readFileSync(md, 'utf8'));
    }
    peers.tfjs_layer_ms = figures.find((f) => f.tfjs_layer_ms !== null)?.tfjs_layer_ms ?? null;
    const summary = buildBenchJson(figures, peers);
    log('');
    for (const l of formatBenchJson(summary)) log(l);
    if (options.json) writeFileSync(options.json, JSON.stringify({ ...summary, runs }, null, 2));
    if (options.md) writeFileSync(options.md, `${lines.join('\n')}\n`);
    if (figures.length < kinds.length) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
