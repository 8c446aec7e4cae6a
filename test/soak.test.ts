// The soak of "nothing lost" (scripts/soak.ts) as a test: 30 seeded runs of `prott5 embed`, each
// hit by a random fault (SIGKILL, SIGINT, a full disk, a second writer) at a random moment, each
// followed by `--resume` until done; every final file must equal the uninterrupted run's, bit for
// bit. The fault counts are printed. PROTT5_SOAK_SEED picks another seed (default 1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

test('soak: 30 seeded faulty runs, each resumed, all equal to the uninterrupted run', () => {
  const seed = process.env.PROTT5_SOAK_SEED ?? '1';
  const r = spawnSync(process.execPath, [join(repoRoot(), 'build/scripts/soak.js'), '--runs', '30', '--seed', seed], { cwd: repoRoot(), encoding: 'utf8' });
  const summary = /faults: (.*); (\d+) of (\d+) final files equal/.exec(r.stdout);
  assert.ok(summary, `the soak printed no summary (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  console.log(`   soak (seed ${seed}): ${summary[1]}; ${summary[2]} of ${summary[3]} equal`);
  assert.is(summary[3], '30', 'runs');
  assert.is(summary[2], '30', `every final file equals the uninterrupted run's:\n${r.stdout.split('\n').filter((l) => /DIFFERENT|no output/.test(l)).join('\n')}`);
  assert.is(r.status, 0, r.stderr);
});

test.run();
