// prott5 tune end to end (child processes, a cache folder of their own): --model stores the
// choices with their times (--all-shapes: the tiny fixture's shapes, under the size rule
// otherwise), --reset removes this adapter's and says which, --reset --all every adapter's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

const ROOT = repoRoot();
const MODEL = 'test/fixtures/t5-tiny/t5-tiny-f32';
const cache = mkdtempSync(join(tmpdir(), 'prott5-cli-tune-'));
process.on('exit', () => rmSync(cache, { recursive: true, force: true }));
const store = join(cache, 'autotune.json');

function prott5(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'prott5.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PROTT5_CACHE: cache }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tune --model: the tiny model is under the size rule (nothing stored); --all-shapes stores each shape with its time', () => {
  const small = prott5(['tune', '--model', MODEL]);
  assert.is(small.code, 0, small.stderr);
  assert.match(small.stdout, /0 stored choices/);
  assert.match(small.stdout, /under the size rule/);
  const all = prott5(['tune', '--model', MODEL, '--all-shapes']);
  assert.is(all.code, 0, all.stderr);
  assert.match(all.stderr, /^tuning matmul /m);
  const data = JSON.parse(readFileSync(store, 'utf8'));
  const entries = Object.entries(data) as Array<[string, { choice: unknown; ms: number }]>;
  assert.ok(entries.length >= 2 && entries.some(([k]) => k.startsWith('matmul|')) && entries.some(([k]) => k.startsWith('attention|')), Object.keys(data).join('\n'));
  for (const [k, v] of entries) assert.ok(typeof v.choice === 'object' && v.ms > 0, `${k}: ${JSON.stringify(v)}`);
  assert.match(all.stdout, new RegExp(`${entries.length} stored choices`));
});

test('tune --reset removes this adapter\'s choices and names them; another adapter\'s stay until --reset --all', () => {
  const mine = Object.keys(JSON.parse(readFileSync(store, 'utf8')));
  assert.ok(mine.length > 0, 'the previous test stored choices');
  const foreign = 'matmul|0123456789abcd|dawn/vulkan|othervendor|gpu|Other GPU|shader-f16|inv1024|wgmem32768|f16|4096|1024';
  writeFileSync(store, JSON.stringify({ ...JSON.parse(readFileSync(store, 'utf8')), [foreign]: { choice: { family: 'k4' }, ms: 1, rows: 64 } }));
  const r = prott5(['tune', '--reset']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^removed ${mine.length} tuned choices? for .+ from ${store.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:`, 'm'));
  assert.match(r.stdout, /^ {2}matmul \w+\|\d+\|\d+$/m);
  assert.equal(Object.keys(JSON.parse(readFileSync(store, 'utf8'))), [foreign]);
  const again = prott5(['tune', '--reset']);
  assert.match(again.stdout, /^no tuned choices for /);
  const all = prott5(['tune', '--reset', '--all']);
  assert.is(all.code, 0, all.stderr);
  assert.match(all.stdout, /^removed 1 tuned choice for every adapter/);
  assert.ok(all.stdout.includes(foreign));
  assert.equal(JSON.parse(readFileSync(store, 'utf8')), {});
});

test('tune: bad command lines are exit 2 with the reason', () => {
  for (const [args, re] of [[[], /either --model DIR or --reset/], [['--all'], /--all goes with --reset/], [['--reset', '--model', MODEL], /either --model DIR or --reset/]] as const) {
    const r = prott5(['tune', ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const help = prott5(['tune', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /prott5 tune --reset \[--all\]/);
});

test.run();
