// workflow/Snakefile with Snakemake, locally (--cores 2, the demo model, N = 3): one shard's embed
// job is SIGKILLed mid-run, the workflow is run again, and the merged file must equal one
// `prott5 embed` of the whole input (same datasets, attributes and root attributes; values to
// 1e-6). Runs where Snakemake is installed (.ci/run installs Debian's snakemake); else a note.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffHdf5 } from './h5-diff.js';
import { repoRoot, rng } from './helpers.js';

const ROOT = repoRoot();
const BIN = join(ROOT, 'bin', 'prott5.js');
const MODEL = join(ROOT, 'examples', 'demo-model');
const ARGS = '--per-residue --per-protein --max-batch 3';
const hasSnakemake = spawnSync('snakemake', ['--version'], { stdio: 'ignore' }).status === 0;

function run(cmd: string, args: string[], cwd: string, onStart?: (pid: number) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    onStart?.(child.pid!);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fasta(path: string): void {
  const r = rng(15);
  let s = '';
  for (let i = 0; i < 45; i++) {
    let seq = '';
    for (let j = 0, n = 5 + Math.floor(r() * 90); j < n; j++) seq += 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(r() * 20)];
    s += `>wf${i}.${i % 4} workflow record ${i}\n${seq}\n`;
  }
  writeFileSync(path, s);
}

const snakemake = (dir: string) =>
  run('snakemake', ['-s', join(ROOT, 'workflow', 'Snakefile'), '--cores', '2', '--config', `input=${join(dir, 'in.fa')}`, `model=${MODEL}`, 'shards=3', `args=${ARGS}`, `prott5=${process.execPath} ${BIN}`], dir);

if (hasSnakemake) {
  test('Snakemake, N = 3: one shard job SIGKILLed mid-run, the workflow rerun: the merged file equals one embed of the whole input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prott5-workflow-'));
    try {
      fasta(join(dir, 'in.fa'));
      const shard = join(dir, 'embeddings', 'shards', '2-of-3.h5');
      const first = snakemake(dir);
      // The embed job of shard 2 names its pid in its OUT.lock; it is killed once its partial has
      // grown past its first flushed batch.
      let killed = false;
      for (let t = 0; t < 600 && !killed; t++) {
        await sleep(200);
        if (existsSync(shard)) break;
        if (existsSync(`${shard}.partial`) && statSync(`${shard}.partial`).size > 30_000 && existsSync(`${shard}.lock`)) {
          const pid = JSON.parse(readFileSync(`${shard}.lock`, 'utf8')).pid;
          process.kill(pid, 'SIGKILL');
          killed = true;
        }
      }
      const a = await first;
      assert.ok(killed, `shard 2's job was killed mid-run (it finished first?)\n${a.out}`);
      assert.is.not(a.code, 0, 'the first workflow run fails');
      assert.not.ok(existsSync(shard), 'no shard 2 output after the kill');
      assert.ok(existsSync(`${shard}.partial`), 'its partial is kept for --resume');
      assert.not.ok(existsSync(join(dir, 'embeddings', 'embeddings.h5')), 'no merged file after the kill');
      const kept = [1, 3].map((i) => join(dir, 'embeddings', 'shards', `${i}-of-3.h5`)).filter(existsSync).map((p) => [p, statSync(p).mtimeMs] as const);

      const b = await snakemake(dir);
      assert.is(b.code, 0, `the rerun succeeds\n${b.out}`);
      for (const [p, mtime] of kept) assert.is(statSync(p).mtimeMs, mtime, `${p}: a finished shard is not redone`);

      const single = join(dir, 'single.h5');
      const s = await run(process.execPath, [BIN, 'embed', join(dir, 'in.fa'), '-o', single, '--model', MODEL, ...ARGS.split(' '), '-q'], dir);
      assert.is(s.code, 0, s.out);
      const diff = await diffHdf5(join(dir, 'embeddings', 'embeddings.h5'), single, { tol: 1e-6 });
      assert.is(diff, null, `merged vs single run: ${diff}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
} else {
  test('Snakemake is not installed: the workflow test is not run', () => {
    console.log('  note: snakemake is not on PATH (apt-get install snakemake); the workflow test is not run');
  });
}

test.run();
