// The prott5 command end to end, each run a child process (node bin/prott5.js): a FASTA with
// every quirk into HDF5 (both kinds, default), safetensors, stdin and a pytorch_model.bin,
// checked against the t5-tiny float64 references; resume after SIGKILL and after Ctrl-C,
// checked against an uninterrupted run; bad input and bad command lines (exit code, message,
// nothing left behind); --help and info.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHdf5Embeddings, readHdf5RootAttributes, type Hdf5Embedding } from '../src/cli/hdf5.js';
import { FileSource } from '../weights/node-files.js';
import { encodeSafetensors, readSafetensors } from '../weights/safetensors.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import { expectClose, fixturesDir, repoRoot, expected } from './helpers.js';

const ROOT = repoRoot();
const BIN = join(ROOT, 'bin', 'prott5.js');
const TINY = join(fixturesDir(), 't5-tiny');
const F32_MODEL = 'test/fixtures/t5-tiny/t5-tiny-f32';
const TORCH_MODEL = 'test/fixtures/t5-tiny/t5-tiny-torch-f16';
const D = 64;
const TOL = 1e-4;
const cases: Array<{ index: number; sequence: string; length: number }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;

// ---------------------------------------------------------------- running the command

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

interface Running {
  child: ReturnType<typeof spawn>;
  done: Promise<Result>;
  /** Resolves with the first stderr line matching re (and `accept`); rejects if the process ends first. */
  waitForLine(re: RegExp, accept?: (m: RegExpExecArray) => boolean): Promise<RegExpExecArray>;
}

/** Starts `node bin/prott5.js ...args` in the repository root; a run longer than limitMs is killed. */
function start(args: string[], { stdin, env, limitMs = 90_000 }: { stdin?: string; env?: Record<string, string>; limitMs?: number } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '', pending = '';
  const watchers: Array<{ re: RegExp; accept: (m: RegExpExecArray) => boolean; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }> = [];
  const onLine = (line: string) => {
    for (const w of [...watchers]) {
      const m = w.re.exec(line);
      if (m && w.accept(m)) { watchers.splice(watchers.indexOf(w), 1); w.resolve(m); }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of watchers.splice(0)) w.reject(new Error(`prott5 ${args.join(' ')} ended (code ${code}, signal ${signal}) before a stderr line matched ${w.re}\n${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitForLine: (re, accept = () => true) => new Promise((resolve, reject) => watchers.push({ re, accept, resolve, reject })),
  };
}

const prott5 = (args: string[], opts?: Parameters<typeof start>[1]): Promise<Result> => start(args, opts).done;

/** Asserts the exit code, showing the output when it is not the expected one. */
function exits(r: Result, code: number, what: string): void {
  assert.ok(r.code === code, `${what}: expected exit ${code}, got ${r.code} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** The command's own error line(s), without Dawn's adapter warnings. */
const errorText = (r: Result): string => r.stderr.split('\n').filter((l) => l.startsWith('prott5:')).join('\n');

let dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'prott5-cli-'));
  dirs.push(d);
  return d;
}
function cleanup(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
}
test.after.each(cleanup);

// ---------------------------------------------------------------- expected values

const want = expected;

let worst = 0;
let worstAt = '';
async function close(where: string, got: Float32Array, key: string): Promise<void> {
  const err = expectClose(`${where} vs ${key}`, got, await want(key), TOL);
  if (err > worst) [worst, worstAt] = [err, `${where} vs ${key}`];
}

// ---------------------------------------------------------------- the quirky FASTA

/** One record per case: its id, the dataset name ProtTrans makes of it, its full header. */
const RECORDS = [
  { case: 0, id: 'sp|P1.2/x', name: 'sp|P1_2_x', header: 'sp|P1.2/x Case zero: one residue, lower case, stop' },
  { case: 1, id: 'tr/Q9.8', name: 'tr_Q9_8', header: 'tr/Q9.8 five residues\twith a tab and gaps' },
  { case: 2, id: 'case.2', name: 'case_2', header: 'case.2 OS=Homo sapiens OX=9606 GN=ABC.1/2' },
  { case: 3, id: 'UniRef50_A0A.1/3-130', name: 'UniRef50_A0A_1_3-130', header: 'UniRef50_A0A.1/3-130 mixed case, rare letters' },
  { case: 4, id: 'plain4', name: 'plain4', header: 'plain4' },
];

/** Wraps s into lines of n characters. */
const wrap = (s: string, n: number): string[] => s.match(new RegExp(`.{1,${n}}`, 'g')) ?? [];

/**
 * The cases as one FASTA with every accepted quirk: \r\n line ends, blank lines (before the first
 * record, between records, inside one), headers with descriptions, ids with '/' '.' '|', records
 * wrapped over many lines, gaps '-' and '.', lower case, a trailing '*' (also on a line of its own),
 * whitespace inside a sequence line, no line end after the last line. Records are not in case order.
 * `all` false leaves out the 300-residue case 4, the slow one on SwiftShader.
 */
function quirkyFasta(all = true): string {
  const seq = (i: number) => cases[i].sequence;
  const body: Record<number, string[]> = {
    0: [seq(0).toLowerCase() + '*'],
    1: ['IN-', 'd-e', 'V', '*'],
    2: wrap(seq(2), 10).map((l, k) => (k % 2 ? l.toLowerCase() : `${l.slice(0, 3)}--${l.slice(3)}`)),
    3: [...wrap(seq(3), 60).slice(0, 1), '', ...wrap(seq(3), 60).slice(1).map((l) => `${l.slice(0, 20)} ${l.slice(20, 30)}..${l.slice(30)}`)],
    4: [`${seq(4).slice(0, 100)}..${seq(4).slice(100, 200)}-.-${seq(4).slice(200)}*`],
  };
  const lines: string[] = ['', ''];
  for (const i of [2, 0, 4, 1, 3].filter((k) => all || k !== 4)) {
    const r = RECORDS.find((x) => x.case === i)!;
    lines.push(`>${r.header}`, ...body[i], '');
  }
  lines.pop();
  return lines.join('\r\n');
}

/**
 * Checks the datasets written for the quirky FASTA: names (in groups per_residue/per_protein, or at
 * the root), original_id, shapes, and values against the `dtype` references.
 */
async function checkH5(where: string, got: Map<string, Hdf5Embedding>, kinds: Array<'residue' | 'protein'>, grouped: boolean, all = true, dtype = 'F32'): Promise<void> {
  const records = all ? RECORDS : RECORDS.filter((r) => r.case !== 4);
  const names = records.flatMap((r) => kinds.map((k) => (grouped ? `per_${k}/${r.name}` : r.name)));
  assert.equal([...got.keys()].sort(), names.sort(), `${where}: dataset names`);
  for (const r of records) {
    for (const k of kinds) {
      const name = grouped ? `per_${k}/${r.name}` : r.name;
      const ds = got.get(name)!;
      assert.is(ds.attrs.original_id, r.header, `${where} ${name}: original_id`);
      assert.equal(ds.shape, k === 'residue' ? [cases[r.case].length, D] : [D], `${where} ${name}: shape`);
      await close(`${where} ${name}`, ds.data, `${dtype}.${k}.${r.case}`);
    }
  }
}

function writeQuirky(dir: string, all = true): string {
  const path = join(dir, 'in.fa');
  writeFileSync(path, quirkyFasta(all));
  return path;
}

// ---------------------------------------------------------------- 1. output formats

test('quirky FASTA, --per-residue --per-protein: groups, sanitised names, original_id, shapes, values', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir);
  const text = readFileSync(input, 'latin1');
  for (const quirk of ['\r\n\r\n>', '*\r\n', '--', '..', ' ', 'idrrt', '\t']) assert.ok(text.includes(quirk), `the FASTA has ${JSON.stringify(quirk)}`);
  const out = join(dir, 'out.h5');
  const r = await prott5(['embed', input, '-o', out, '--model', F32_MODEL, '--per-residue', '--per-protein', '-q']);
  exits(r, 0, 'embed');
  assert.is(r.stdout, '', 'nothing on stdout');
  // Dawn itself may print an adapter warning from native code when it probes a Vulkan driver it
  // refuses (lavapipe here); everything the command writes is silenced by -q.
  const dawn = /^(Warning: .*| - While .*|\s+at .*|)$/;
  assert.equal(r.stderr.split('\n').filter((l) => !dawn.test(l)), [], '-q: nothing of ours on stderr');
  assert.ok(!existsSync(`${out}.partial`), 'the .partial file is renamed');
  await checkH5('both', await readHdf5Embeddings(out), ['residue', 'protein'], true);
  const root = await readHdf5RootAttributes(out);
  assert.is(root.prott5_input, 'in.fa');
});

test('default output: per-protein datasets at the root; progress on stderr', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir, false);
  const out = join(dir, 'out.h5');
  const r = await prott5(['embed', input, '-o', out, '--model', F32_MODEL]);
  exits(r, 0, 'embed');
  assert.match(r.stderr, /4\/4 records/);
  assert.match(r.stderr, /wrote 4 records to .*out\.h5/);
  await checkH5('default', await readHdf5Embeddings(out), ['protein'], false, false);
});

test('.safetensors output: per_protein/ID and per_residue/ID tensors (ids unsanitised), F32', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir, false);
  const out = join(dir, 'out.safetensors');
  const r = await prott5(['embed', input, '-o', out, '--model', F32_MODEL, '--per-residue', '--per-protein', '-q']);
  exits(r, 0, 'embed');
  assert.ok(!existsSync(`${out}.partial`), 'the .partial file is renamed');
  const src = await FileSource.open(out);
  try {
    const st = await readSafetensors(src);
    const records = RECORDS.filter((x) => x.case !== 4);
    const names = records.flatMap((x) => [`per_residue/${x.id}`, `per_protein/${x.id}`]);
    assert.equal(st.tensors.map((t) => t.name).sort(), names.sort());
    for (const x of records) {
      for (const k of ['residue', 'protein'] as const) {
        const t = st.tensors.find((e) => e.name === `per_${k}/${x.id}`)!;
        assert.is(t.dtype, 'F32');
        assert.equal(t.shape, k === 'residue' ? [cases[x.case].length, D] : [D]);
        await close(`safetensors ${t.name}`, toFloat32(t.dtype, await t.read()), `F32.${k}.${x.case}`);
      }
    }
  } finally {
    await src.close();
  }
});

test('.safetensors output, default and --per-residue alone: one tensor per record named by its bare id', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir, false);
  const records = RECORDS.filter((x) => x.case !== 4);
  for (const [flag, k] of [[[], 'protein'], [['--per-residue'], 'residue']] as const) {
    const out = join(dir, `${k}.safetensors`);
    exits(await prott5(['embed', input, '-o', out, '--model', F32_MODEL, '-q', ...flag]), 0, `embed ${flag.join(' ')}`);
    const src = await FileSource.open(out);
    try {
      const st = await readSafetensors(src);
      assert.equal(st.tensors.map((t) => t.name).sort(), records.map((x) => x.id).sort());
      for (const x of records) {
        const t = st.tensors.find((e) => e.name === x.id)!;
        assert.equal(t.shape, k === 'residue' ? [cases[x.case].length, D] : [D]);
        await close(`safetensors ${k} ${t.name}`, toFloat32(t.dtype, await t.read()), `F32.${k}.${x.case}`);
      }
    } finally {
      await src.close();
    }
  }
});

test('the bundled demo model: embeds, and says on stderr that its weights are random', async () => {
  const dir = tempDir();
  const out = join(dir, 'demo.h5');
  const r = await prott5(['embed', 'examples/sample.fasta', '-o', out, '--model', 'examples/demo-model']);
  exits(r, 0, 'embed with the demo model');
  assert.match(r.stderr, /demo model with RANDOM weights: its embeddings mean nothing/);
  assert.ok(existsSync(out));
  const plain = await prott5(['embed', writeQuirky(dir, false), '-o', join(dir, 'tiny.h5'), '--model', F32_MODEL]);
  exits(plain, 0, 'embed with t5-tiny');
  assert.not.match(plain.stderr, /RANDOM weights/, 'no such note for other models');
});

test('"-" reads the FASTA from standard input', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.h5');
  const r = await prott5(['embed', '-', '-o', out, '--model', F32_MODEL, '--per-residue', '-q'], { stdin: quirkyFasta(false) });
  exits(r, 0, 'embed -');
  await checkH5('stdin', await readHdf5Embeddings(out), ['residue'], false, false);
  assert.is((await readHdf5RootAttributes(out)).prott5_input, '<stdin>');
});

test('--model with pytorch_model.bin (F16) matches the F16 references', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir, false);
  const out = join(dir, 'out.h5');
  const r = await prott5(['embed', input, '-o', out, '--model', TORCH_MODEL, '--per-residue', '--per-protein', '-q']);
  exits(r, 0, 'embed torch');
  await checkH5('torch-f16', await readHdf5Embeddings(out), ['residue', 'protein'], true, false, 'F16');
});

// ---------------------------------------------------------------- 2. resume

const N_MANY = 60;

/** 60 records with distinct ids and short sequences cut from the cases (each batch is quick). */
function manyFasta(): string {
  let s = '';
  for (let i = 0; i < N_MANY; i++) {
    const c = cases[i % cases.length].sequence;
    const len = 1 + ((i * 7) % 24);
    const seq = (c + cases[4].sequence).slice(0, len);
    s += `>m${i}.v/${i % 3} record ${i} of ${N_MANY}\n${seq}\n`;
  }
  return s;
}

/** Writes many.fa into dir; the same file name everywhere so the root attributes agree. */
function writeMany(dir: string): string {
  const p = join(dir, 'many.fa');
  writeFileSync(p, manyFasta());
  return p;
}

const manyArgs = (input: string, out: string) => ['embed', input, '-o', out, '--model', F32_MODEL, '--per-residue', '--per-protein', '--max-batch', '1'];

let reference: Promise<{ data: Map<string, Hdf5Embedding>; root: Record<string, unknown> }> | null = null;
/** An uninterrupted run of many.fa (run once, shared by the resume tests). */
function uninterrupted(): Promise<{ data: Map<string, Hdf5Embedding>; root: Record<string, unknown> }> {
  reference ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prott5-cli-ref-'));
    try {
      const out = join(dir, 'ref.h5');
      const r = await prott5([...manyArgs(writeMany(dir), out), '-q']);
      exits(r, 0, 'uninterrupted run');
      return { data: await readHdf5Embeddings(out), root: await readHdf5RootAttributes(out) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return reference;
}

/** Every dataset of `out` equals the uninterrupted run's: names, shapes, attributes, bit-exact values. */
async function sameAsUninterrupted(where: string, out: string): Promise<void> {
  const ref = await uninterrupted();
  const got = await readHdf5Embeddings(out);
  assert.is(ref.data.size, 2 * N_MANY);
  assert.equal([...got.keys()].sort(), [...ref.data.keys()].sort(), `${where}: dataset names`);
  for (const [name, want] of ref.data) {
    const g = got.get(name)!;
    assert.equal(g.shape, want.shape, `${where} ${name}: shape`);
    assert.equal(g.attrs, want.attrs, `${where} ${name}: attributes`);
    assert.is(g.data.length, want.data.length);
    for (let i = 0; i < want.data.length; i++) {
      if (!Object.is(g.data[i], want.data[i])) assert.unreachable(`${where} ${name}[${i}]: ${g.data[i]} after resume, ${want.data[i]} uninterrupted`);
    }
  }
  assert.equal(await readHdf5RootAttributes(out), ref.root, `${where}: root attributes`);
}

/** Waits for the progress line of batch `k` or later (non-TTY stderr: one line per batch, after its flush). */
async function waitForBatch(run: Running, k: number): Promise<number> {
  const m = await run.waitForLine(new RegExp(`^(\\d+)/${N_MANY} records`), (x) => Number(x[1]) >= k);
  return Number(m[1]);
}

test('SIGKILL mid-run keeps OUT.partial (no OUT); --resume finishes it, equal to an uninterrupted run', async () => {
  await uninterrupted();
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.h5');
  const run = start(manyArgs(input, out));
  const seen = await waitForBatch(run, 10);
  run.child.kill('SIGKILL');
  const r = await run.done;
  assert.is(r.signal, 'SIGKILL', `killed (exit ${r.code}); stderr: ${r.stderr}`);
  assert.ok(!existsSync(out), 'no OUT after a kill');
  assert.ok(existsSync(`${out}.partial`), 'OUT.partial kept');
  const partial = await readHdf5Embeddings(`${out}.partial`);
  assert.ok(partial.size >= 2 * seen && partial.size < 2 * N_MANY, `the partial holds ${partial.size} datasets; progress had reported ${seen} records`);

  const again = await prott5([...manyArgs(input, out), '--resume']);
  exits(again, 0, 'embed --resume');
  const m = /resuming .*: (\d+) of 60 records already done/.exec(again.stderr);
  assert.ok(m, `resume message in: ${again.stderr}`);
  assert.ok(Number(m![1]) >= seen && Number(m![1]) < N_MANY, `resumed after ${m![1]} records`);
  assert.ok(!existsSync(`${out}.partial`), 'the .partial file is renamed');
  await sameAsUninterrupted('after SIGKILL + --resume', out);
});

test('device lost mid-run: exit 5 naming it, OUT.partial keeps the finished batches; --resume completes it', async () => {
  await uninterrupted();
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.h5');
  const r = await prott5(manyArgs(input, out), { env: { FAULT_LOSE_DEVICE_AFTER_BATCHES: '7', NODE_OPTIONS: `--import=${join(ROOT, 'build/test/faults/lose-device.js')}` } });
  exits(r, 5, 'embed with the device lost after 7 batches');
  assert.match(errorText(r), /device was lost/);
  assert.match(r.stderr, /kept 7 of 60 finished records in .*out\.h5\.partial; run the same command with --resume/);
  assert.ok(!existsSync(out), 'no OUT after a failure');
  const partial = await readHdf5Embeddings(`${out}.partial`);
  assert.is(partial.size, 2 * 7, 'the 7 finished batches (1 record each, 2 kinds) are kept');
  const again = await prott5([...manyArgs(input, out), '--resume']);
  exits(again, 0, 'embed --resume after device loss');
  assert.match(again.stderr, /resuming .*: 7 of 60 records already done/);
  await sameAsUninterrupted('after device loss + --resume', out);
});

test('a full disk mid-run (ENOSPC injected after N bytes): exit 7, nothing half-written counts as done; --resume gives the uninterrupted file', async () => {
  const ref = await uninterrupted();
  const bytes = [...ref.data.values()].reduce((a, d) => a + d.data.length * 4, 0);
  const seen: string[] = [];
  // Persistent: every write past the limit fails. Once: one write fails, then the disk has room.
  for (const [fraction, once] of [[0.35, false], [0.6, true]] as const) {
    const dir = tempDir();
    const input = writeMany(dir);
    const out = join(dir, 'out.h5');
    const preload = `--import=${join(ROOT, 'build/test/faults/enospc.js')}`;
    const r = await prott5(manyArgs(input, out), { env: { NODE_OPTIONS: preload, FAULT_ENOSPC_AFTER_BYTES: String(Math.round(bytes * fraction)), FAULT_ENOSPC_ONCE: once ? '1' : '0' } });
    exits(r, 7, `embed with the disk full after ${fraction} of the data`);
    assert.match(errorText(r), /no space left on device/i, "the reason is said in words, not as an errno number");
    assert.ok(!existsSync(out), 'no OUT after a failure');
    const kept = /kept (\d+) of 60 finished records/.exec(r.stderr);
    const removed = /removed .*out\.h5\.partial: the failed write left it damaged/.test(r.stderr);
    // Either the partial is kept, and said so, or it is gone (damaged, or no record was finished).
    if (kept) assert.ok(existsSync(`${out}.partial`) && !removed, `kept and removed both said, or the kept partial is missing:\n${r.stderr}`);
    else assert.ok(!existsSync(`${out}.partial`), `a partial left without "kept N" said:\n${r.stderr}`);
    const again = await prott5([...manyArgs(input, out), '--resume']);
    exits(again, 0, `embed --resume after the full disk at ${fraction}`);
    assert.not.match(again.stderr, /already in the file/);
    const resumed = /resuming .*: (\d+) of 60 records already done/.exec(again.stderr);
    if (kept && resumed) assert.ok(Number(resumed[1]) <= Number(kept[1]), `resume trusts at most the ${kept[1]} records the failed run kept, not ${resumed[1]}`);
    seen.push(`${fraction}${once ? ' once' : ''}: ${removed ? 'damaged partial removed' : `kept ${kept?.[1] ?? 0}`}, resumed ${resumed?.[1] ?? 'none'}${/partly written/.test(again.stderr) ? ', partly written records dropped' : ''}`);
    await sameAsUninterrupted(`after ENOSPC at ${fraction} + --resume`, out);
  }
  console.log(`   full disk: ${seen.join('; ')}`);
});

test('a second writer on the same output refuses before any work (exit 7, naming the first); the first run is untouched', async () => {
  await uninterrupted();
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.h5');
  const first = start(manyArgs(input, out));
  await first.waitForLine(/^\d+\/60 records/); // it is writing
  assert.ok(existsSync(`${out}.lock`), 'the first run holds OUT.lock');
  for (const args of [manyArgs(input, out), [...manyArgs(input, out), '--resume']]) {
    const second = await prott5(args);
    exits(second, 7, `second writer (${args.slice(-1)[0]})`);
    assert.match(errorText(second), new RegExp(`another prott5 \\(pid ${first.child.pid} on [^)]+\\) is writing .*out\\.h5`));
    assert.not.match(second.stderr, /starting over|resuming/);
  }
  const r = await first.done;
  exits(r, 0, 'first writer');
  assert.ok(!existsSync(`${out}.lock`), 'the lock is released');
  await sameAsUninterrupted('with a second writer refused', out);
});

test('-o naming a directory is an IO error before any work (exit 7), not a crash at the rename', async () => {
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'dir.h5');
  mkdirSync(out);
  const r = await prott5(manyArgs(input, out));
  exits(r, 7, '-o a directory');
  assert.match(errorText(r), /dir\.h5 \(the output\) is a directory/);
  assert.not.match(r.stderr, /records|at .*\.js:\d+/);
});

test('an unusable cache (PROTT5_CACHE=/proc/x) does not hang: the run goes on without it; an output under a file is exit 7 before any work', async () => {
  const dir = tempDir();
  const input = join(dir, 'one.fa');
  writeFileSync(input, '>one\nMKTAYIAK\n');
  const out = join(dir, 'out.h5');
  const r = await prott5(['embed', input, '-o', out, '--model', F32_MODEL], { env: { PROTT5_CACHE: '/proc/prott5-no-such-cache' }, limitMs: 60_000 });
  exits(r, 0, 'embed with an unusable cache');
  assert.ok(existsSync(out));
  writeFileSync(join(dir, 'afile'), 'x');
  const bad = await prott5(['embed', input, '-o', join(dir, 'afile', 'sub', 'out.h5'), '--model', F32_MODEL]);
  exits(bad, 7, 'output under a file');
  assert.match(errorText(bad), /afile is a file, not a folder/);
  assert.not.match(bad.stderr, /^model /m, 'refused before the model was loaded');
});

test('a closed stderr pipe does not stop the run (EPIPE ignored): the output is complete', async () => {
  await uninterrupted();
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.h5');
  const run = start(manyArgs(input, out));
  run.child.stderr!.destroy(); // the reader went away (as `| head -c 50` does)
  const r = await run.done;
  exits(r, 0, 'embed with stderr closed');
  await sameAsUninterrupted('with stderr closed', out);
});

test('Ctrl-C inside one long record stops at the next layer (exit 130, no partial left, the layers were shown); a second Ctrl-C quits at once leaving none', async () => {
  const dir = tempDir();
  const input = join(dir, 'long.fa');
  // Long enough that a layer outlasts the progress interval on the faster CPU driver too (llvmpipe ran 2,000 residues in under 5 s).
  let seq = '';
  for (let i = 0; i < 5000; i++) seq += 'ACDEFGHIKLMNPQRSTVWY'[(i * 7 + (i >> 3)) % 20];
  writeFileSync(input, `>long\n${seq}\n`);
  const out = join(dir, 'out.h5');
  const run = start(['embed', input, '-o', out, '--model', F32_MODEL]);
  await run.waitForLine(/batch of 1 record\(s\): layer [12] of 3/);
  run.child.kill('SIGINT');
  const r = await run.done;
  exits(r, 130, 'Ctrl-C in a long batch');
  assert.match(r.stderr, /stopping at the next layer/);
  assert.match(r.stderr, /no record was finished: removed .*out\.h5\.partial/);
  assert.not.match(r.stderr, /wrote 1 records|layer 3 of 3/, 'the batch did not run to its end');
  assert.ok(!existsSync(`${out}.partial`) && !existsSync(out) && !existsSync(`${out}.lock`), 'nothing left behind');

  const twice = start(['embed', input, '-o', out, '--model', F32_MODEL]);
  await twice.waitForLine(/^model /);
  twice.child.kill('SIGINT');
  await twice.waitForLine(/stopping at the next layer/);
  twice.child.kill('SIGINT');
  const r2 = await twice.done;
  exits(r2, 130, 'Ctrl-C twice');
  assert.ok(!existsSync(`${out}.partial`), 'no unreadable partial after a second Ctrl-C with nothing finished');
});

test('Ctrl-C (SIGINT) between short batches: exits 130, keeps OUT.partial; --resume completes it', async () => {
  await uninterrupted();
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.h5');
  const run = start(manyArgs(input, out));
  await waitForBatch(run, 10);
  run.child.kill('SIGINT');
  const r = await run.done;
  exits(r, 130, 'interrupted');
  assert.match(r.stderr, /interrupted/);
  const saved = /saved (\d+) of 60 records in .*out\.h5\.partial; run the same command with --resume/.exec(r.stderr);
  assert.ok(saved, `"saved N of 60" in: ${r.stderr}`);
  assert.ok(!existsSync(out), 'no OUT after Ctrl-C');
  const partial = await readHdf5Embeddings(`${out}.partial`);
  assert.is(partial.size, 2 * Number(saved![1]), 'the partial holds both kinds of every saved record');
  assert.ok(Number(saved![1]) < N_MANY, 'interrupted before the end');

  // --resume with other outputs is refused (exit 2) and leaves the partial alone.
  const bytes = readFileSync(`${out}.partial`);
  const other = await prott5(['embed', input, '-o', out, '--model', F32_MODEL, '--per-protein', '--max-batch', '1', '--resume']);
  exits(other, 2, '--resume with other settings');
  assert.match(errorText(other), /out\.h5\.partial was written with other settings/);
  assert.ok(readFileSync(`${out}.partial`).equals(bytes), 'the partial is untouched');

  const again = await prott5([...manyArgs(input, out), '--resume']);
  exits(again, 0, 'embed --resume');
  assert.match(again.stderr, new RegExp(`resuming .*: ${saved![1]} of 60 records already done`));
  await sameAsUninterrupted('after SIGINT + --resume', out);
});

test('--resume over a partial killed before its first flush (not readable HDF5) starts over', async () => {
  const dir = tempDir();
  const input = writeQuirky(dir, false);
  const out = join(dir, 'out.h5');
  // What a SIGKILL during the first batch leaves: the superblock's first bytes, nothing else.
  writeFileSync(`${out}.partial`, Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(40)]));
  const r = await prott5(['embed', input, '-o', out, '--model', F32_MODEL, '--resume']);
  exits(r, 0, 'embed --resume');
  assert.match(r.stderr, /starting over: .*out\.h5\.partial is not a readable HDF5 file/);
  assert.ok(!existsSync(`${out}.partial`));
  await checkH5('restarted', await readHdf5Embeddings(out), ['protein'], false, false);
});

test('Ctrl-C with safetensors output: exit 130, no OUT, and the partial (not resumable) removed', async () => {
  const dir = tempDir();
  const input = writeMany(dir);
  const out = join(dir, 'out.safetensors');
  const run = start(['embed', input, '-o', out, '--model', F32_MODEL, '--max-batch', '1']);
  await waitForBatch(run, 5);
  run.child.kill('SIGINT');
  const r = await run.done;
  exits(r, 130, 'interrupted');
  assert.not.match(r.stderr, /--resume to finish/, 'no --resume promised for safetensors');
  assert.match(r.stderr, /cannot be resumed/);
  assert.equal(readdirSync(dir), ['many.fa'], 'neither OUT nor OUT.partial left');
});

// ---------------------------------------------------------------- 3. bad input, bad command lines

/** Runs a failing embed in a fresh dir holding `files`; checks exit code, message, and that nothing was left. */
async function fails(args: (dir: string) => string[], code: number, fragments: string[], files: Record<string, string> = {}): Promise<Result> {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const before = readdirSync(dir).sort();
  const r = await prott5(args(dir));
  exits(r, code, args(dir).join(' '));
  const msg = errorText(r);
  for (const f of fragments) assert.ok(msg.includes(f), `stderr ${JSON.stringify(msg)} lacks ${JSON.stringify(f)}`);
  assert.equal(readdirSync(dir).sort(), before, 'no output (and no .partial) left behind');
  return r;
}

const embedArgs = (input: string, out: string, ...rest: string[]) => (dir: string) => ['embed', join(dir, input), '-o', join(dir, out), '--model', F32_MODEL, ...rest];

test('bad letter: exit 3, names the file, line, column and record', async () => {
  const fa = '>rec1 first\nMKVLA\nGGS\n>rec2 second\nMKVJLA\nGG\n';
  await fails(embedArgs('bad.fa', 'out.h5'), 3, ['bad.fa:5:4', "'J'", '"rec2"'], { 'bad.fa': fa });
});

test('a digit in a record, safetensors output: exit 3, no OUT and no .partial', async () => {
  const fa = '>rec1\nMKVLA\n>rec2 second\nMK\nMK\nMK\nMK1L\n';
  await fails(embedArgs('bad.fa', 'out.safetensors', '--per-residue'), 3, ['bad.fa:7:3', "'1'", '"rec2"'], { 'bad.fa': fa });
});

test('an empty record: exit 3, names the record and its line', async () => {
  const fa = '>a\nMK\n>empty has no residues\n\n>c\nMK\n';
  await fails(embedArgs('e.fa', 'out.h5'), 3, ['e.fa:3', 'empty record', '"empty"'], { 'e.fa': fa });
});

test('a duplicate id: exit 3, names the id and both lines', async () => {
  const fa = '>a x\nMK\n>b\nMK\n>a y\nMK\n';
  await fails(embedArgs('d.fa', 'out.safetensors'), 3, ['d.fa:5', 'duplicate id "a"', 'line 1'], { 'd.fa': fa });
});

test('sequence before any header: exit 3, line 1', async () => {
  await fails(embedArgs('s.fa', 'out.h5'), 3, ['s.fa:1:1', 'before the first'], { 's.fa': 'MKV\n>a\nMK\n' });
});

test('a FASTA with no records: exit 3, names the file', async () => {
  await fails(embedArgs('blank.fa', 'out.h5'), 3, ['blank.fa', 'no FASTA records'], { 'blank.fa': '\r\n\n  \n' });
});

test('a missing input file: exit 7, names the file', async () => {
  await fails(embedArgs('missing.fa', 'out.h5'), 7, ['missing.fa']);
});

test('a model folder without weights: exit 4, names the folder', async () => {
  const dir = tempDir();
  const model = join(dir, 'no-weights');
  mkdirSync(model);
  copyFileSync(join(TINY, 't5-tiny-f32', 'config.json'), join(model, 'config.json'));
  // The output's folder (made when missing) is not made for a run that fails before any output.
  const r = await fails((d) => ['embed', join(d, 'ok.fa'), '-o', join(d, 'new', 'out.safetensors'), '--model', model], 4, [model, 'no weights'], { 'ok.fa': '>a\nMK\n' });
  assert.not.match(r.stderr, /\n\s+at /, 'a known error, not a stack trace');
});

test('weights with NaN: a warning naming the tensor; with --strict, exit 4 and no output', async () => {
  const dir = tempDir();
  const model = join(dir, 'nan-model');
  mkdirSync(model);
  copyFileSync(join(TINY, 't5-tiny-f32', 'config.json'), join(model, 'config.json'));
  const src = await FileSource.open(join(TINY, 't5-tiny-f32', 'model.safetensors'));
  const st = await readSafetensors(src);
  const bad = 'encoder.block.1.layer.1.DenseReluDense.wo.weight';
  const tensors = [];
  for (const t of st.tensors) {
    const data = toFloat32(t.dtype, await t.read());
    if (t.name === bad) data[5] = NaN;
    tensors.push({ name: t.name, dtype: 'F32' as const, shape: t.shape, data });
  }
  await src.close();
  writeFileSync(join(model, 'model.safetensors'), encodeSafetensors(tensors));
  writeFileSync(join(dir, 'in.fa'), '>a\nMKV\n');
  const strict = await prott5(['embed', join(dir, 'in.fa'), '-o', join(dir, 'out.h5'), '--model', model, '--strict']);
  exits(strict, 4, 'embed --strict with a NaN weight');
  assert.ok(errorText(strict).includes(bad), `names the tensor: ${errorText(strict)}`);
  assert.ok(!existsSync(join(dir, 'out.h5')) && !existsSync(join(dir, 'out.h5.partial')), 'no output');
  const lax = await prott5(['embed', join(dir, 'in.fa'), '-o', join(dir, 'out.h5'), '--model', model, '-q']);
  assert.ok(lax.stderr.includes('warning') && lax.stderr.includes(bad), `warning names the tensor: ${lax.stderr}`);
  // The NaN weight reaches the embedding: checked before writing, exit 4 naming the record.
  exits(lax, 4, 'embed with a NaN weight, not --strict');
  assert.match(errorText(lax), /record "a": the perProtein embedding holds NaN or Inf/);
  assert.ok(!existsSync(join(dir, 'out.h5')) && !existsSync(join(dir, 'out.h5.partial')), 'NaN embeddings are not written, no partial left');
});

test('two ids that become one HDF5 name (a.1, a_1): exit 3 before any work, names both records and lines', async () => {
  const fa = '>a.1 first\nMK\n>b\nMK\n>a_1 second\nMKV\n';
  await fails(embedArgs('clash.fa', 'out.h5'), 3, ['"a_1" (line 5)', '"a.1" (line 1)', 'dataset "a_1"'], { 'clash.fa': fa });
});

test('one sequence over the buffer cap (PROTT5_MAX_BUFFER_BYTES): exit 6 naming --max-residues, nothing left', async () => {
  // 512 KiB per buffer holds every weight of t5-tiny and a short record, not the 3,000-token one
  // (its q alone is 3001 × 128 × 4 bytes; a sequence runs alone past --max-seq-len, so no split helps).
  const fa = `>short\nMKVLAGG\n>long\n${'MKVLAGGSTRW'.repeat(273).slice(0, 3000)}\n`;
  const dir = tempDir();
  writeFileSync(join(dir, 'in.fa'), fa);
  const r = await prott5(['embed', join(dir, 'in.fa'), '-o', join(dir, 'out.h5'), '--model', F32_MODEL], { env: { PROTT5_MAX_BUFFER_BYTES: String(512 * 1024) } });
  exits(r, 6, 'embed with a 512 KiB buffer cap');
  assert.match(errorText(r), /over this device's limit of 0\.5 MiB; lower --max-residues or --max-batch/);
  assert.equal(readdirSync(dir), ['in.fa'], 'no output and no .partial left');
});

test('--resume over a partial made from other input records: exit 2, the partial untouched', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.h5');
  writeFileSync(join(dir, 'in.fa'), '>a\nMKV\n>b\nMKVL\n');
  exits(await prott5(['embed', join(dir, 'in.fa'), '-o', out, '--model', F32_MODEL, '-q']), 0, 'first run');
  renameSync(out, `${out}.partial`);
  const bytes = readFileSync(`${out}.partial`);
  writeFileSync(join(dir, 'in.fa'), '>a\nMKV\n>b\nMKVW\n'); // same ids and file name, one residue changed
  const r = await prott5(['embed', join(dir, 'in.fa'), '-o', out, '--model', F32_MODEL, '--resume']);
  exits(r, 2, '--resume with other input');
  assert.match(errorText(r), /out\.h5\.partial was written for other input records \(from in\.fa\)/);
  assert.ok(readFileSync(`${out}.partial`).equals(bytes), 'the partial is untouched');
  assert.ok(!existsSync(out));
});

test('--model OWNER/NAME offline: exit 7, says which files to put in which cache folder; nothing left', async () => {
  const cache = tempDir();
  const dir = tempDir();
  writeFileSync(join(dir, 'ok.fa'), '>a\nMK\n');
  // Port 9 (discard) on the loopback: nothing listens, the connection is refused at once.
  const run = await prott5(['embed', join(dir, 'ok.fa'), '-o', join(dir, 'out.h5'), '--model', 'Rostlab/prot_t5_xl_half_uniref50-enc'], {
    env: { HF_ENDPOINT: 'http://127.0.0.1:9', PROTT5_CACHE: cache },
  });
  exits(run, 7, 'embed with an unreachable hub');
  const msg = errorText(run);
  assert.match(msg, /cannot reach http:\/\/127\.0\.0\.1:9 to download Rostlab\/prot_t5_xl_half_uniref50-enc/);
  assert.match(msg, /Without network access, put .*config\.json/);
  assert.ok(msg.includes(join(cache, 'Rostlab--prot_t5_xl_half_uniref50-enc')), `names the cache folder: ${msg}`);
  assert.equal(readdirSync(dir), ['ok.fa'], 'no output left');
});

test('an unknown option: exit 2, names it', async () => {
  await fails(embedArgs('ok.fa', 'out.h5', '--frobnicate'), 2, ['--frobnicate'], { 'ok.fa': '>a\nMK\n' });
});

test('-o out.txt: exit 2, names the file and the extensions', async () => {
  await fails(embedArgs('ok.fa', 'out.txt'), 2, ['out.txt', '.h5', '.safetensors'], { 'ok.fa': '>a\nMK\n' });
});

test('--max-batch 0: exit 2, names the option', async () => {
  await fails(embedArgs('ok.fa', 'out.h5', '--max-batch', '0'), 2, ['--max-batch', '"0"'], { 'ok.fa': '>a\nMK\n' });
});

test('--help for the command, embed, info and bench: exit 0 with usage; no command: exit 2', async () => {
  const [main, embed, info, none, bench] = await Promise.all([
    prott5(['--help']), prott5(['embed', '--help']), prott5(['info', '--help']), prott5([]), prott5(['bench', '--help']),
  ]);
  exits(bench, 0, 'bench --help');
  assert.match(bench.stdout, /Usage: prott5 bench \[--quick\] \[--json FILE\] \[--md FILE\]/);
  assert.match(main.stdout, /bench +benchmark/);
  exits(main, 0, '--help');
  assert.match(main.stdout, /Usage: prott5 <command>/);
  assert.match(main.stdout, /embed/);
  assert.match(main.stdout, /130 interrupted/);
  exits(embed, 0, 'embed --help');
  assert.match(embed.stdout, /Usage: prott5 embed INPUT\.fasta -o OUT\.h5 --model DIR/);
  for (const opt of ['--per-residue', '--per-protein', '--max-residues', '--max-seq-len', '--max-batch', '--resume', '--quiet']) assert.ok(embed.stdout.includes(opt), `embed --help lists ${opt}`);
  exits(info, 0, 'info --help');
  assert.match(info.stdout, /Usage: prott5 info/);
  exits(none, 2, 'no command');
  assert.match(none.stdout, /Usage: prott5 <command>/);
});

test('info: exit 0; says SwiftShader on the CPU driver; --json parses', async () => {
  const [text, json] = await Promise.all([
    prott5(['info'], { env: { PROTT5_ADAPTER: 'swiftshader' } }),
    prott5(['info', '--json']),
  ]);
  exits(text, 0, 'info');
  assert.match(text.stdout, /^adapter: /m);
  assert.match(text.stdout, /SwiftShader/);
  assert.match(text.stdout, /maxStorageBufferBindingSize\s+\d+/);
  exits(json, 0, 'info --json');
  const j = JSON.parse(json.stdout) as { swiftshader: boolean; limits: Record<string, number> };
  assert.type(j.swiftshader, 'boolean');
  assert.ok(j.limits.maxBufferSize > 0);
});

test.after(() => {
  cleanup();
  console.log(`cli worst relative error vs float64 references: ${worst.toExponential(2)} (${worstAt})`);
});
test.run();
