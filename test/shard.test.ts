// Sharding and merging, in process (no GPU): the shard plan (every record once, balanced by
// residues, the same for every N job), `prott5 merge` on shard files written here (input order,
// attributes, and each refusal: message, nothing left behind), float16 datasets (--half) read back
// by us and by h5dump, and a lock holder waited for with a timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hdf5EmbeddingWriter, makeHalf, readHdf5Embeddings, readHdf5RootAttributes } from '../src/cli/hdf5.js';
import { runMerge } from '../src/cli/merge.js';
import { recordsDigest } from '../src/cli/provenance.js';
import { lookup3 } from '../src/cli/hdf5-half.js';
import { parseShard, planShards, shardIndices } from '../src/embed/shard.js';
import { numberToF16, f16ToNumber } from '../src/gpu/dtype.js';
import { acquireLock } from '../weights/lock.js';
import { rng } from './helpers.js';

let dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'prott5-shard-'));
  dirs.push(d);
  return d;
};
test.after.each(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

// ---------------------------------------------------------------- the plan

test('planShards: every record in exactly one shard, contiguous, in input order, within one record of total/N residues', () => {
  const r = rng(7);
  for (const [n, count] of [[1, 1], [5, 8], [100, 3], [1000, 7], [37, 37]]) {
    const lengths = Array.from({ length: n }, () => 1 + Math.floor(r() * (r() < 0.05 ? 3000 : 400)));
    const plan = planShards(lengths, count);
    assert.is(plan.length, n);
    const total = lengths.reduce((a, b) => a + b, 0);
    const sums = new Array(count).fill(0);
    for (let i = 0; i < n; i++) {
      assert.ok(plan[i] >= 1 && plan[i] <= count, `record ${i} in shard ${plan[i]}`);
      if (i > 0) assert.ok(plan[i] >= plan[i - 1], 'shards are contiguous runs of the input');
      sums[plan[i] - 1] += lengths[i];
    }
    const longest = Math.max(...lengths);
    for (let s = 0; s < count; s++) assert.ok(Math.abs(sums[s] - total / count) <= longest, `${n} records, shard ${s + 1}/${count}: ${sums[s]} residues, ideal ${total / count}, longest record ${longest}`);
    // Every job computes the same plan: the union of the N jobs' records is the input, once each.
    const records = lengths.map((l) => ({ sequence: 'A'.repeat(l) }));
    const all = Array.from({ length: count }, (_, s) => shardIndices(records, { index: s + 1, count })).flat();
    assert.equal(all, [...lengths.keys()]);
  }
  // Balanced by residues, not record count: one long record and many short ones.
  const plan = planShards([1000, ...new Array(100).fill(10)], 2);
  assert.is(plan.filter((s) => s === 1).length, 1, 'the 1000-residue record is a shard of its own');
});

test('parseShard: I/N with 1 <= I <= N; anything else a usage error naming the option', () => {
  assert.equal(parseShard('2/8'), { index: 2, count: 8 });
  for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0', '-1/2', '1.5/3']) {
    assert.throws(() => parseShard(bad), (e: Error) => /--shard must be I\/N/.test(e.message) && e.message.includes(bad), bad);
  }
});

// ---------------------------------------------------------------- merge

const D = 4;
const FASTA = Array.from({ length: 9 }, (_, i) => ({ id: `p${i}.x`, header: `p${i}.x protein ${i}`, sequence: 'ACDEFGHIKLMNPQ'.slice(0, 2 + ((i * 5) % 12)) }));
const safe = (id: string) => id.replace(/[/.]/g, '_');

interface ShardOpts {
  index: number;
  count: number;
  outputs?: string[];
  weights?: string;
  records?: number[];
  dtype?: string;
}

/** A shard file as `embed --shard` writes it (datasets with prott5_index and prott5_complete). */
async function shardFile(dir: string, name: string, o: ShardOpts): Promise<string> {
  const path = join(dir, name);
  const outputs = o.outputs ?? ['perProtein'];
  const w = await Hdf5EmbeddingWriter.create(path, {
    attributes: {
      prott5_model: '/models/demo',
      prott5_model_id: 'owner/demo',
      prott5_model_revision: 'main',
      prott5_weights_sha256: o.weights ?? 'model.safetensors:aaaa',
      prott5_config_sha256: 'cccc',
      prott5_outputs: outputs.join(','),
      prott5_dtype: o.dtype ?? 'float32',
      prott5_input: 'in.fa',
      prott5_input_sha256: recordsDigest(FASTA),
      prott5_shard: `${o.index}/${o.count}`,
    },
  });
  const mine = o.records ?? shardIndices(FASTA, o);
  const written: string[] = [];
  // Written longest first, as batches are: the merge must restore input order.
  for (const i of [...mine].sort((a, b) => FASTA[b].sequence.length - FASTA[a].sequence.length)) {
    const r = FASTA[i];
    for (const k of outputs) {
      const group = outputs.length > 1 ? (k === 'perResidue' ? 'per_residue' : 'per_protein') : undefined;
      const shape = k === 'perResidue' ? [r.sequence.length, D] : [D];
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => i + j / 8);
      written.push(w.write(r.id, r.header, data, shape, group, { attributes: { prott5_index: i } }));
    }
  }
  w.flush();
  w.markComplete(written);
  w.close();
  return path;
}

const threeShards = (dir: string, o: Partial<ShardOpts> = {}) => Promise.all([1, 2, 3].map((i) => shardFile(dir, `s${i}.h5`, { index: i, count: 3, ...o })));

test('merge: three shards given in any order → one file in input order, no prott5_index or prott5_shard, every record complete', async () => {
  const dir = tempDir();
  const [a, b, c] = await threeShards(dir, { outputs: ['perResidue', 'perProtein'] });
  const fasta = join(dir, 'in.fa');
  writeFileSync(fasta, FASTA.map((r) => `>${r.header}\n${r.sequence}\n`).join(''));
  const out = join(dir, 'merged.h5');
  assert.is(await runMerge({ output: out, shards: [c, a, b], input: fasta, quiet: true }), 0);
  assert.equal(readdirSync(dir).sort(), ['in.fa', 'merged.h5', 's1.h5', 's2.h5', 's3.h5'], 'no partial or lock left');
  const got = await readHdf5Embeddings(out);
  assert.is(got.size, 2 * FASTA.length);
  FASTA.forEach((r, i) => {
    const e = got.get(`per_residue/${safe(r.id)}`)!;
    assert.equal(e.shape, [r.sequence.length, D]);
    assert.equal(e.attrs, { original_id: r.header, prott5_complete: 1 });
    assert.is(e.data[1], i + 1 / 8);
  });
  const root = await readHdf5RootAttributes(out);
  assert.is(root.prott5_shard, undefined);
  assert.is(root.prott5_outputs, 'perResidue,perProtein');
  assert.is(root.prott5_input_sha256, recordsDigest(FASTA));
});

/** Runs a merge that must be refused: the message matches every pattern; nothing is left. */
async function refused(shards: string[], patterns: RegExp[], input?: string): Promise<void> {
  const out = join(tempDir(), 'merged.h5');
  let msg = '';
  try {
    await runMerge({ output: out, shards, input, quiet: true });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.ok(msg !== '', 'the merge is refused');
  for (const p of patterns) assert.match(msg, p);
  for (const left of [out, `${out}.partial`, `${out}.lock`]) assert.not.ok(existsSync(left), `${left} left behind`);
}

test('merge refuses a duplicated shard, naming both files and the shard', async () => {
  const dir = tempDir();
  const [a, b, c] = await threeShards(dir);
  const again = await shardFile(dir, 'again.h5', { index: 2, count: 3 });
  await refused([a, b, again, c], [/again\.h5 and .*s2\.h5 are both shard 2\/3/]);
});

test('merge refuses a missing shard, naming it', async () => {
  const dir = tempDir();
  const [a, , c] = await threeShards(dir);
  await refused([a, c], [/shard 2\/3 is missing/, /s1\.h5 = 1\/3/]);
});

test('merge refuses shards of two models, naming the shard and the models', async () => {
  const dir = tempDir();
  const [a, b] = await threeShards(dir);
  const other = await shardFile(dir, 'other.h5', { index: 3, count: 3, weights: 'model.safetensors:bbbb' });
  await refused([a, b, other], [/other\.h5 was made by another model than .*s1\.h5/, /prott5_weights_sha256 model\.safetensors:bbbb vs model\.safetensors:aaaa/]);
});

test('merge refuses per-residue mixed with per-protein, naming the shard and both outputs', async () => {
  const dir = tempDir();
  const [a, b] = await threeShards(dir, { outputs: ['perProtein'] });
  const res = await shardFile(dir, 'res.h5', { index: 3, count: 3, outputs: ['perResidue'] });
  await refused([a, b, res], [/res\.h5 holds other outputs \(perResidue\) than .*s1\.h5 \(perProtein\)/]);
});

test('merge refuses a record held by no shard (with --input: names the record and the shard that should hold it) and a record in two shards', async () => {
  const dir = tempDir();
  const fasta = join(dir, 'in.fa');
  writeFileSync(fasta, FASTA.map((r) => `>${r.header}\n${r.sequence}\n`).join(''));
  const two = shardIndices(FASTA, { index: 2, count: 3 });
  const [a, , c] = await threeShards(dir);
  const short = await shardFile(dir, 'short.h5', { index: 2, count: 3, records: two.slice(1) });
  const lost = FASTA[two[0]].id;
  await refused([a, short, c], [new RegExp(`record "${lost.replace('.', '\\.')}" \\(.*in\\.fa line \\d+\\) is in no shard: shard 2/3 \\(.*short\\.h5\\) should hold it`)], fasta);
  await refused([a, short, c], [/input position \d+ is in no shard/]);
  const extra = await shardFile(dir, 'extra.h5', { index: 2, count: 3, records: [...two, shardIndices(FASTA, { index: 3, count: 3 })[0]] });
  await refused([a, extra, c], [/record "p\d_x" is in both .*extra\.h5 and .*s3\.h5/]);
});

// ---------------------------------------------------------------- float16

test('--half storage: float16 datasets (h5dump and our reader agree), a float32 dataset beside them untouched, makeHalf idempotent', async () => {
  const dir = tempDir();
  const path = join(dir, 'half.h5');
  const r = rng(3);
  const values = Float32Array.from({ length: 7 * 6 }, () => (r() - 0.5) * 10);
  const w = await Hdf5EmbeddingWriter.create(path, { attributes: { prott5_dtype: 'float16' } });
  w.write('a.1', 'a.1 first', values, [7, 6], 'per_residue', { half: true });
  w.write('a.1', 'a.1 first', values.subarray(0, 6), [6], 'per_protein', { half: true });
  w.write('a.1', 'a.1 first', values.subarray(0, 3), [3], 'secstruct3');
  w.close();
  assert.is(await makeHalf(path, ['per_residue/a_1', 'per_protein/a_1']), 2);
  assert.is(await makeHalf(path, ['per_residue/a_1', 'per_protein/a_1']), 0, 'already float16: nothing to do');
  const got = await readHdf5Embeddings(path);
  const res = got.get('per_residue/a_1')!;
  assert.equal([res.shape, res.half], [[7, 6], true]);
  for (let i = 0; i < values.length; i++) assert.is(res.data[i], f16ToNumber(numberToF16(values[i])), `[${i}]`);
  assert.equal(got.get('per_protein/a_1')!.shape, [6]);
  assert.equal([got.get('secstruct3/a_1')!.half, [...got.get('secstruct3/a_1')!.data]], [false, [...values.subarray(0, 3)]]);
  if (spawnSync('h5dump', ['--version'], { stdio: 'ignore' }).status === 0) {
    const dump = spawnSync('h5dump', ['-d', '/per_residue/a_1', path], { encoding: 'utf8' });
    assert.is(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /16-bit little-endian floating-point/);
    assert.match(dump.stdout, /DATASPACE\s+SIMPLE \{ \( 7, 6 \) \/ \( 7, 6 \) \}/);
    const first = Number(/\(0,0\): ([-\d.e]+)/.exec(dump.stdout)![1]);
    assert.ok(Math.abs(first - res.data[0]) <= 1e-3 * Math.abs(res.data[0]), `h5dump ${first} vs ${res.data[0]}`);
  } else console.log('  note: h5dump is not installed; the float16 check with the reference tool is not run');
});

test('lookup3 (HDF5 metadata checksums): the published test vectors', () => {
  // From Bob Jenkins' lookup3.c driver5(): hashlittle("", 0, 0) and "Four score and seven years ago".
  assert.is(lookup3(new Uint8Array(0)), 0xdeadbeef);
  assert.is(lookup3(new TextEncoder().encode('Four score and seven years ago')), 0x17770551);
});

// ---------------------------------------------------------------- waiting for a lock

test('acquireLock with a wait: waits for a live holder, gets the lock when it is let go; times out with the holder named', async () => {
  const dir = tempDir();
  const lock = join(dir, '.download.lock');
  // A live process on this host (this one's parent) holds it.
  writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: hostname() }));
  let waited = 0;
  setTimeout(() => rmSync(lock), 300);
  const t0 = Date.now();
  const release = await acquireLock(lock, () => 'busy', { waitMs: 5000, pollMs: 20, onWait: () => waited++ });
  assert.ok(Date.now() - t0 >= 250, 'it waited for the holder');
  assert.is(waited, 1);
  await release();
  writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: hostname() }));
  try {
    await acquireLock(lock, (o) => `held by ${String(o.pid)}`, { waitMs: 200, pollMs: 20 });
    assert.unreachable('a held lock times out');
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`held by ${process.ppid} \\(gave up after waiting 0 s\\)`));
  }
});

test.run();
