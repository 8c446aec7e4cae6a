// One `prott5 embed` run SIGKILLed at 20 seeded random moments, each kill followed by
// `--resume` (which is itself the next one killed), then a last --resume: the file must equal an
// uninterrupted run's bit for bit. Most kills land inside a write to the output's files on disk
// (test/faults/kill-at-write: half of the k-th write's bytes reach OUT.partial or the journal
// that each commit writes first, then the process dies); the others are a SIGKILL from here at a
// random delay after a progress line (wherever the process is then: GPU work, HDF5 calls
// writing into the journal's memory, a commit). Prints where the kills landed and what each
// resume found. A run that ends before its kill point is started over (counted).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffHdf5 } from './h5-diff.js';
import { repoRoot, rng } from './helpers.js';

const ROOT = repoRoot();
const BIN = join(ROOT, 'bin', 'prott5.js');
const MODEL = join(ROOT, 'test', 'fixtures', 't5-tiny', 't5-tiny-f32');
const PRELOAD = join(ROOT, 'build', 'test', 'faults', 'kill-at-write.js');
const KILLS = 20;

interface Run { code: number | null; signal: NodeJS.Signals | null; stderr: string }

function embed(args: string[], env: Record<string, string> = {}, killAfterProgressMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let armed = killAfterProgressMs !== undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (armed && /^\d+\/\d+ records/m.test(d)) {
        armed = false;
        setTimeout(() => child.kill('SIGKILL'), killAfterProgressMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test(`embed SIGKILLed at ${KILLS} seeded moments of one run (most inside an HDF5 write), each followed by --resume: equal to an uninterrupted run`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-kill-'));
  try {
    const r = rng(20261202);
    const input = join(dir, 'in.fa');
    let s = '';
    for (let i = 0; i < 24; i++) {
      let seq = '';
      for (let j = 0, n = 5 + Math.floor(r() * 36); j < n; j++) seq += 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(r() * 20)];
      s += `>kr${i} record ${i}\n${seq}\n`;
    }
    writeFileSync(input, s);
    const args = (out: string) => ['embed', input, '-o', out, '--model', MODEL, '--per-residue', '--per-protein', '--max-batch', '2'];
    const ref = join(dir, 'ref.h5');
    const base = await embed(args(ref));
    assert.is(base.code, 0, base.stderr);

    const out = join(dir, 'out.h5');
    const report = join(dir, 'kills.txt');
    const landed = { write: 0, signal: 0 };
    const found = { unreadable: 0, partlyWritten: 0, resumed: 0, completedEarly: 0 };
    let resume = false;
    for (let kill = 0; kill < KILLS; ) {
      const inWrite = r() < 0.75;
      const run = inWrite
        ? await embed([...args(out), ...(resume ? ['--resume'] : [])], { NODE_OPTIONS: `--import=${PRELOAD}`, FAULT_KILL_AT_WRITE: String(1 + Math.floor(r() * 30)), FAULT_KILL_REPORT: report })
        : await embed([...args(out), ...(resume ? ['--resume'] : [])], {}, Math.floor(r() * 1500));
      if (/not a readable HDF5 file/.test(run.stderr)) found.unreadable++;
      if (/only partly written/.test(run.stderr)) found.partlyWritten++;
      if (/resuming .*: [1-9]\d* of 24 records already done/.test(run.stderr)) found.resumed++;
      // A timed kill can land after the final rename (the run was done, only not yet exited):
      // then OUT must be whole, like a run that finished.
      const finished = run.signal !== 'SIGKILL' || (!inWrite && existsSync(out));
      if (finished) {
        // The kill point lay beyond the run's end: it finished. Start the run over to place the rest.
        if (run.signal !== 'SIGKILL') assert.is(run.code, 0, run.stderr);
        found.completedEarly++;
        assert.is(await diffHdf5(out, ref), null, 'a run that finished between kills');
        rmSync(out);
        resume = false;
        continue;
      }
      assert.not.ok(existsSync(out), 'no OUT after a kill');
      landed[inWrite ? 'write' : 'signal']++;
      kill++;
      resume = true;
    }
    const last = await embed([...args(out), '--resume']);
    assert.is(last.code, 0, last.stderr);
    if (/only partly written/.test(last.stderr)) found.partlyWritten++;
    if (/not a readable HDF5 file/.test(last.stderr)) found.unreadable++;
    const where = existsSync(report) ? readFileSync(report, 'utf8').split('\n').filter(Boolean) : [];
    const inPartial = where.filter((w) => w === 'partial').length;
    assert.is(where.length, landed.write, 'each kill inside a write says where it landed');
    console.log(`  ${KILLS} kills: ${landed.write} inside a write (half its bytes written: ${inPartial} into OUT.partial while a commit applied its pages, ${landed.write - inPartial} into the commit's journal), ${landed.signal} by signal after a progress line; ` +
      `the resumes found ${found.unreadable} unreadable partial(s) (killed before the first commit), ${found.partlyWritten} with partly written records (dropped), ` +
      `${found.resumed} resumed past finished records; ${found.completedEarly} run(s) finished before their kill point`);
    assert.ok(landed.write >= KILLS / 2, 'most kills land inside a write');
    assert.is(await diffHdf5(out, ref), null, 'after the kills and resumes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
