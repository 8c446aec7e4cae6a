// Soak test of "nothing lost": seeded runs of `prott5 embed` on 60 records, each hit by one
// random fault at a random moment (SIGKILL, SIGINT, a full disk injected after a random byte
// count, a second writer on the same output), then `--resume` until it succeeds. Every final
// file must equal the uninterrupted run's, bit for bit. Prints the fault counts; exits 1 on any
// difference. Run: npm run build && node build/scripts/soak.js [--runs 30] [--seed 1]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readHdf5Embeddings, readHdf5RootAttributes } from '../src/cli/hdf5.js';
import { rng } from '../src/gpu/numeric.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, seed: { type: 'string', default: '1' } } });
const RUNS = Number(values.runs), SEED = Number(values.seed);
const MODEL = 'test/fixtures/t5-tiny/t5-tiny-f32';
const BIN = 'bin/prott5.js';
const FAULTS = ['sigkill', 'sigint', 'enospc', 'second-writer'] as const;
type Fault = (typeof FAULTS)[number];

interface Run { code: number | null; stderr: string }

function prott5(args: string[], env: Record<string, string> = {}, onStart?: (kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    onStart?.((s) => child.kill(s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fasta(): string {
  const r = rng(99);
  let s = '';
  for (let i = 0; i < 60; i++) {
    let seq = '';
    const n = 5 + Math.floor(r() * 80);
    for (let j = 0; j < n; j++) seq += 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(r() * 20)];
    s += `>rec${i} soak record ${i}\n${seq}\n`;
  }
  return s;
}

async function same(a: string, b: string): Promise<string | null> {
  const [x, y] = [await readHdf5Embeddings(a), await readHdf5Embeddings(b)];
  if (x.size !== y.size) return `${x.size} datasets, ${y.size} expected`;
  for (const [k, want] of y) {
    const got = x.get(k);
    if (!got) return `missing ${k}`;
    if (got.shape.join() !== want.shape.join() || JSON.stringify(got.attrs) !== JSON.stringify(want.attrs)) return `${k}: shape or attributes differ`;
    for (let i = 0; i < want.data.length; i++) if (!Object.is(got.data[i], want.data[i])) return `${k}[${i}] ${got.data[i]} vs ${want.data[i]}`;
  }
  if (JSON.stringify(await readHdf5RootAttributes(a)) !== JSON.stringify(await readHdf5RootAttributes(b))) return 'root attributes differ';
  return null;
}

const dir = mkdtempSync(join(tmpdir(), 'prott5-soak-'));
try {
  const input = join(dir, 'in.fa');
  writeFileSync(input, fasta());
  const args = (out: string) => ['embed', input, '-o', out, '--model', MODEL, '--per-residue', '--per-protein', '--max-batch', '2', '-q'];
  const ref = join(dir, 'ref.h5');
  const t0 = Date.now();
  const base = await prott5(args(ref));
  if (base.code !== 0) throw new Error(`uninterrupted run failed: ${base.stderr}`);
  const runMs = Date.now() - t0;
  const refBytes = [...(await readHdf5Embeddings(ref)).values()].reduce((a, d) => a + d.data.length * 4, 0);
  const r = rng(SEED);
  const counts: Record<string, number> = {};
  let bad = 0;
  for (let i = 0; i < RUNS; i++) {
    const fault: Fault = FAULTS[Math.floor(r() * FAULTS.length)];
    const at = r();
    const out = join(dir, `run${i}.h5`);
    let first: Run;
    let note = '';
    if (fault === 'enospc') {
      first = await prott5(args(out), { NODE_OPTIONS: `--import=${join(process.cwd(), 'build/test/faults/enospc.js')}`, FAULT_ENOSPC_AFTER_BYTES: String(Math.round(refBytes * at)), FAULT_ENOSPC_ONCE: r() < 0.5 ? '1' : '0' });
    } else if (fault === 'second-writer') {
      const p = prott5(args(out));
      await sleep(runMs * at);
      const second = await prott5(args(out));
      if (second.code !== 7 && second.code !== 0) throw new Error(`run ${i}: the second writer exited ${second.code}: ${second.stderr}`);
      note = second.code === 7 ? ', the second writer refused' : ', the second ran after the first';
      first = await p;
    } else {
      first = await prott5(args(out), {}, (kill) => void sleep(runMs * at).then(() => kill(fault === 'sigkill' ? 'SIGKILL' : 'SIGINT')));
    }
    let tries = 0, last = first;
    while (!existsSync(out) && tries++ < 5) last = await prott5([...args(out), '--resume']);
    const diff = existsSync(out) ? await same(out, ref) : `no output after ${tries} resumes: ${last.stderr}`;
    const outcome = `${fault} (exit ${first.code}${note})${diff ? ` DIFFERENT: ${diff}` : ''}`;
    counts[fault] = (counts[fault] ?? 0) + 1;
    if (diff) bad++;
    console.log(`run ${i}: ${outcome}, ${tries} resume(s)`);
  }
  console.log(`\nfaults: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}; ${RUNS - bad} of ${RUNS} final files equal to the uninterrupted run`);
  process.exitCode = bad ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
