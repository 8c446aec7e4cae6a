// HDF5 embeddings writer (ProtTrans layout) via h5wasm: round trips, bytes on disk, append/resume,
// errors, and, where h5py or h5dump is installed, a check with the reference HDF5 tools.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import h5wasm from 'h5wasm/node';
import { compactHdf5, Hdf5EmbeddingWriter, readHdf5Embeddings, readHdf5RootAttributes } from '../src/cli/hdf5.js';
import { safeDatasetName, summarizeHdf5Error } from '../src/embed/hdf5-layout.js';
import { IOError, SequenceError, UsageError } from '../src/errors.js';
import { randomArray } from './helpers.js';

// Child mode (see the 'killed run' test): write without closing, then exit abruptly.
if (process.env.HDF5_TEST_CHILD) {
  const w = await Hdf5EmbeddingWriter.create(process.env.HDF5_TEST_CHILD, { flushEvery: 10 });
  for (let i = 0; i < 25; i++) w.write(`p${i}`, `p${i} header`, new Float32Array(1024).fill(i), [1024], 'per_protein');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'hdf5-test-'));
const tmp = (name: string): string => join(dir, name);
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function rejects<E extends Error>(p: Promise<unknown> | (() => unknown), cls: new (...a: never[]) => E, ...fragments: string[]): Promise<E> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (err) {
    if (!(err instanceof cls)) throw new Error(`expected ${cls.name}, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return err;
  }
  throw new Error(`expected ${cls.name} containing ${JSON.stringify(fragments)}, nothing thrown`);
}

/** Captures stderr (process.stderr.write and console.error) while fn runs. */
async function captureStderr(fn: () => Promise<unknown>): Promise<string> {
  let text = '';
  const write = process.stderr.write.bind(process.stderr);
  const cerr = console.error;
  process.stderr.write = ((chunk: string | Uint8Array) => { text += String(chunk); return true; }) as typeof process.stderr.write;
  console.error = (...a: unknown[]) => { text += a.join(' ') + '\n'; };
  try { await fn(); } catch { /* the caller checks the error separately */ } finally {
    process.stderr.write = write;
    console.error = cerr;
  }
  return text;
}

interface Item { id: string; header: string; data: Float32Array; shape: number[]; group?: string }

// Odd shapes, ids with '/' and '.', unicode headers, both groups.
const ITEMS: Item[] = [
  { id: 'sp|P12345|ABC_HUMAN', header: 'sp|P12345|ABC_HUMAN Some protein OS=Homo sapiens', data: randomArray(3 * 1024, 1), shape: [3, 1024], group: 'per_residue' },
  { id: 'sp|P12345|ABC_HUMAN', header: 'sp|P12345|ABC_HUMAN Some protein OS=Homo sapiens', data: randomArray(1024, 2), shape: [1024], group: 'per_protein' },
  { id: 'pdb/1abc.A', header: 'pdb/1abc.A chain A µ-crystallin ✓', data: randomArray(7 * 1024, 3), shape: [7, 1024], group: 'per_residue' },
  { id: 'pdb/1abc.A', header: 'pdb/1abc.A chain A µ-crystallin ✓', data: randomArray(1024, 4), shape: [1024], group: 'per_protein' },
  { id: 'odd', header: 'odd', data: randomArray(15, 5), shape: [5, 3], group: 'per_residue' },
  { id: 'one', header: '', data: new Float32Array([Math.PI]), shape: [1, 1], group: 'per_residue' },
  { id: 'special', header: 'special', data: new Float32Array([0, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38]), shape: [7], group: 'per_protein' },
];
const fullName = (it: Item): string => (it.group ? `${it.group}/` : '') + safeDatasetName(it.id);

function sameFloats(got: Float32Array, want: Float32Array, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.unreachable(`${what}[${i}]: got ${got[i]} want ${want[i]} (bits differ)`);
}

test('safeDatasetName: ProtTrans rule (/ and . → _), never empty, idempotent', () => {
  assert.is(safeDatasetName('sp|P12345|ABC_HUMAN'), 'sp|P12345|ABC_HUMAN');
  assert.is(safeDatasetName('pdb/1abc.A'), 'pdb_1abc_A');
  assert.is(safeDatasetName('a.b/c..d'), 'a_b_c__d');
  assert.is(safeDatasetName(''), '_');
  assert.is(safeDatasetName('.'), '_');
  assert.is(safeDatasetName('..'), '__');
  assert.is(safeDatasetName('/'), '_');
  assert.is(safeDatasetName('a\0b'), 'a_b');
  assert.is(safeDatasetName('µ|✓'), 'µ|✓');
  for (const s of ['pdb/1abc.A', '', '.', 'x', 'a\0.b']) assert.is(safeDatasetName(safeDatasetName(s)), safeDatasetName(s));
});

test('write both groups, close, file is on disk at the real path with the raw float32 bytes', async () => {
  const path = tmp('both.h5');
  const w = await Hdf5EmbeddingWriter.create(path, { attributes: { model: 'Rostlab/prot_t5_xl_half_uniref50-enc', dim: 1024, scale: 0.5 } });
  for (const it of ITEMS) assert.is(w.write(it.id, it.header, it.data, it.shape, it.group), fullName(it));
  assert.equal(w.names(), ITEMS.map(fullName));
  assert.ok(w.has('pdb/1abc.A', 'per_residue'));
  assert.ok(w.has('pdb_1abc_A', 'per_residue'));
  assert.not.ok(w.has('pdb/1abc.A'));
  assert.is(w.originalHeader('pdb/1abc.A', 'per_protein'), 'pdb/1abc.A chain A µ-crystallin ✓');
  w.close();
  w.close(); // idempotent
  assert.ok(w.closed);

  assert.ok(existsSync(path), 'file not on disk');
  const bytes = readFileSync(path);
  assert.equal([...bytes.subarray(0, 8)], [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 'HDF5 signature');
  const payload = ITEMS.reduce((n, it) => n + it.data.byteLength, 0);
  assert.ok(statSync(path).size > payload, 'file smaller than its data');
  for (const it of ITEMS.filter((x) => x.data.length >= 1024)) {
    const raw = Buffer.from(it.data.buffer, it.data.byteOffset, it.data.byteLength);
    assert.ok(bytes.indexOf(raw) >= 0, `raw little-endian float32 bytes of ${fullName(it)} not found in the file`);
  }
});

test('reopen with our reader: values bit-exact, shapes, original_id attributes, root attributes', async () => {
  const path = tmp('both.h5');
  const got = await readHdf5Embeddings(path);
  assert.equal([...got.keys()].sort(), ITEMS.map(fullName).sort());
  for (const it of ITEMS) {
    const e = got.get(fullName(it))!;
    assert.equal(e.shape, it.shape, fullName(it));
    sameFloats(e.data, it.data, fullName(it));
    assert.equal(e.attrs, { original_id: it.header });
  }
  const root = await readHdf5RootAttributes(path);
  assert.equal(root, { model: 'Rostlab/prot_t5_xl_half_uniref50-enc', dim: 1024, scale: 0.5 });
});

test('reopen with h5wasm directly: dtype <f4, contiguous, vlen UTF-8 scalar attribute (as h5py writes str)', async () => {
  await h5wasm.ready;
  const f = new h5wasm.File(tmp('both.h5'), 'r');
  try {
    assert.equal(f.keys().sort(), ['per_protein', 'per_residue']);
    const ds = f.get('per_residue/pdb_1abc_A') as InstanceType<typeof h5wasm.Dataset>;
    assert.ok(ds instanceof h5wasm.Dataset);
    assert.is(ds.dtype, '<f');
    assert.is(ds.metadata.size, 4);
    assert.equal(ds.shape, [7, 1024]);
    assert.is(ds.metadata.chunks, null);
    const attr = ds.attrs['original_id'];
    assert.is(attr.metadata.vlen, true);
    assert.is(attr.metadata.cset, 1); // H5T_CSET_UTF8
    assert.equal(attr.shape, []);
    assert.is(attr.value, 'pdb/1abc.A chain A µ-crystallin ✓');
  } finally {
    f.close();
  }
});

test('root layout (no groups) as prott5_embedder.py writes it, relative path resolves against cwd', async () => {
  const rel = relative(process.cwd(), tmp('root.h5'));
  const w = await Hdf5EmbeddingWriter.create(rel);
  w.write('Q9/X.1', '>?? no: header is free text', randomArray(1024, 9), [1024]);
  w.write('Q8', 'Q8', randomArray(2 * 1024, 10), [2, 1024]);
  w.close();
  const got = await readHdf5Embeddings(tmp('root.h5'));
  assert.equal([...got.keys()].sort(), ['Q8', 'Q9_X_1']);
  assert.equal(got.get('Q8')!.shape, [2, 1024]);
  sameFloats(got.get('Q9_X_1')!.data, randomArray(1024, 9), 'Q9_X_1');
});

test('append to an existing file (resume): index of existing datasets, new writes, old data intact', async () => {
  const path = tmp('resume.h5');
  let w = await Hdf5EmbeddingWriter.create(path);
  w.write('a.1', 'a.1 first', randomArray(1024, 21), [1024], 'per_protein');
  w.write('b', 'b second', randomArray(4 * 1024, 22), [4, 1024], 'per_residue');
  w.write('root1', 'root1', randomArray(8, 23), [8]);
  w.flush();
  w.close();

  w = await Hdf5EmbeddingWriter.open(path, 'a');
  assert.equal(w.names().sort(), ['per_protein/a_1', 'per_residue/b', 'root1']);
  assert.ok(w.has('a.1', 'per_protein'));
  assert.ok(w.has('b', 'per_residue'));
  assert.not.ok(w.has('b', 'per_protein'));
  assert.is(w.originalHeader('a.1', 'per_protein'), 'a.1 first');
  // a colliding id against a dataset that was in the file before it was opened
  const e = await rejects(() => w.write('a_1', 'a_1 other', randomArray(1024, 0), [1024], 'per_protein'), SequenceError, '"a.1"', '"a_1"', 'per_protein/a_1');
  assert.equal((e.context as { ids: string[] }).ids, ['a.1', 'a_1']);
  await rejects(() => w.write('b', 'b second', randomArray(1024, 0), [1, 1024], 'per_residue'), SequenceError, 'already in the file');
  w.write('c', 'c third', randomArray(1024, 24), [1024], 'per_protein');
  w.write('c', 'c third', randomArray(2 * 1024, 25), [2, 1024], 'per_residue');
  w.write('extra', 'extra', randomArray(3, 26), [3], 'other_group');
  w.close();

  const got = await readHdf5Embeddings(path);
  assert.equal([...got.keys()].sort(), ['other_group/extra', 'per_protein/a_1', 'per_protein/c', 'per_residue/b', 'per_residue/c', 'root1']);
  sameFloats(got.get('per_protein/a_1')!.data, randomArray(1024, 21), 'old a_1');
  sameFloats(got.get('per_residue/b')!.data, randomArray(4 * 1024, 22), 'old b');
  sameFloats(got.get('root1')!.data, randomArray(8, 23), 'old root1');
  sameFloats(got.get('per_residue/c')!.data, randomArray(2 * 1024, 25), 'new c');
  assert.equal(got.get('per_protein/a_1')!.attrs, { original_id: 'a.1 first' });

  // 'r' reads the index but refuses writes; 'r+' needs the file to exist; 'a' creates a missing file
  const r = await Hdf5EmbeddingWriter.open(path, 'r');
  assert.is(r.names().length, 6);
  await rejects(() => r.write('z', 'z', new Float32Array(1), [1]), UsageError, 'read-only');
  r.close();
  await rejects(Hdf5EmbeddingWriter.open(tmp('missing.h5'), 'r+'), IOError, 'missing.h5', 'no such file');
  await rejects(Hdf5EmbeddingWriter.open(tmp('missing.h5'), 'r'), IOError, 'no such file');
  const created = await Hdf5EmbeddingWriter.open(tmp('created.h5'), 'a');
  created.write('x', 'x', new Float32Array([1, 2]), [2]);
  created.close();
  assert.equal([...(await readHdf5Embeddings(tmp('created.h5'))).keys()], ['x']);
});

test('a killed run (no close) keeps what the periodic flush wrote, and resumes from there', async () => {
  const path = tmp('killed.h5');
  const res = spawnSync(process.execPath, [process.argv[1]], { env: { ...process.env, HDF5_TEST_CHILD: path }, encoding: 'utf8' });
  assert.is(res.status, 0, res.stderr);
  const w = await Hdf5EmbeddingWriter.open(path, 'a');
  const have = w.names().length;
  assert.ok(have >= 20 && have <= 25, `expected 20..25 datasets after flushes every 10, found ${have}`);
  for (let i = 0; i < 25; i++) {
    if (w.has(`p${i}`, 'per_protein')) continue;
    w.write(`p${i}`, `p${i} header`, new Float32Array(1024).fill(i), [1024], 'per_protein');
  }
  w.close();
  const got = await readHdf5Embeddings(path);
  assert.is(got.size, 25);
  for (let i = 0; i < 25; i++) {
    const e = got.get(`per_protein/p${i}`)!;
    assert.is(e.data[1023], i);
    assert.equal(e.attrs, { original_id: `p${i} header` });
  }
  await rejects(Hdf5EmbeddingWriter.create(tmp('bad-opt.h5'), { flushEvery: -1 }), UsageError, 'flushEvery');
  assert.not.ok(existsSync(tmp('bad-opt.h5')), 'bad options must not create the file');
});

test('complete marks: only marked datasets of the right shape count; compactHdf5 keeps exactly the listed ones, attributes and values', async () => {
  const path = tmp('marks.h5');
  const w = await Hdf5EmbeddingWriter.create(path, { attributes: { prott5_model: 'm', prott5_outputs: 'perResidue,perProtein' } });
  const a = randomArray(6, 1), b = randomArray(4, 2), c = randomArray(2, 3);
  const pa = w.write('a', 'a first', a, [3, 2], 'per_residue');
  const pb = w.write('b', 'b second', b, [2, 2], 'per_residue');
  const pc = w.write('c', 'c third', c, [2], 'per_protein');
  w.flush();
  w.markComplete([pa, pc]);
  w.close();
  const r = await Hdf5EmbeddingWriter.open(path, 'r');
  assert.ok(r.isComplete('a', 'per_residue', [3, 2]));
  assert.not.ok(r.isComplete('a', 'per_residue', [2, 3]), 'a shape that differs is not complete');
  assert.not.ok(r.isComplete('b', 'per_residue'), 'written but never marked');
  assert.not.ok(r.isComplete('z', 'per_residue'), 'absent');
  assert.ok(r.isComplete('c', 'per_protein', [2]));
  r.close();
  await compactHdf5(path, new Set([pa, pc]));
  const got = await readHdf5Embeddings(path);
  assert.equal([...got.keys()].sort(), [pa, pc].sort());
  assert.equal(Array.from(got.get(pa)!.data), Array.from(a));
  assert.equal(got.get(pa)!.shape, [3, 2]);
  assert.equal(got.get(pc)!.attrs, { original_id: 'c third', prott5_complete: 1 });
  assert.equal(await readHdf5RootAttributes(path), { prott5_model: 'm', prott5_outputs: 'perResidue,perProtein' });
  assert.not.ok(existsSync(`${path}.rebuild`));
});

test('duplicate dataset names after sanitising name both original ids', async () => {
  const w = await Hdf5EmbeddingWriter.create(tmp('dup.h5'));
  w.write('sp|P1.2', 'sp|P1.2 desc', new Float32Array(4), [4]);
  const e = await rejects(() => w.write('sp|P1_2', 'sp|P1_2 desc', new Float32Array(4), [4]), SequenceError, '"sp|P1.2"', '"sp|P1_2"', 'both map to');
  assert.is(e.context.dataset, 'sp|P1_2');
  // the same name in another group is fine
  w.write('sp|P1_2', 'sp|P1_2 desc', new Float32Array(4), [4], 'per_protein');
  // an id that maps onto a group name
  await rejects(() => w.write('per_protein', 'per_protein', new Float32Array(1), [1]), SequenceError, 'is a group');
  // a group name that is a dataset already
  await rejects(() => w.write('q', 'q', new Float32Array(1), [1], 'sp|P1_2'), UsageError, 'dataset of that name');
  w.close();
  assert.equal([...(await readHdf5Embeddings(tmp('dup.h5'))).keys()].sort(), ['per_protein/sp|P1_2', 'sp|P1_2']);
});

test('usage errors: shape mismatch, bad shapes, wrong array type, bad group names, use after close', async () => {
  const w = await Hdf5EmbeddingWriter.create(tmp('usage.h5'));
  await rejects(() => w.write('a', 'a', new Float32Array(10), [3, 4]), UsageError, '12 elements', 'data has 10');
  await rejects(() => w.write('a', 'a', new Float32Array(0), []), UsageError, 'bad shape');
  await rejects(() => w.write('a', 'a', new Float32Array(2), [2.5]), UsageError, 'bad shape');
  await rejects(() => w.write('a', 'a', new Float32Array(2), [-2]), UsageError, 'bad shape');
  await rejects(() => w.write('a', 'a', new Float64Array(2) as unknown as Float32Array, [2]), UsageError, 'Float32Array');
  for (const g of ['', 'a/b', '.', '..']) await rejects(() => w.write('a', 'a', new Float32Array(1), [1], g), UsageError, 'group name');
  // nothing half-written by the failures
  w.write('a', 'a', new Float32Array(0), [0, 1024]);
  w.close();
  await rejects(() => w.write('b', 'b', new Float32Array(1), [1]), UsageError, 'closed');
  await rejects(() => w.flush(), UsageError, 'closed');
  const got = await readHdf5Embeddings(tmp('usage.h5'));
  assert.equal([...got.keys()], ['a']);
  assert.equal(got.get('a')!.shape, [0, 1024]);
});

test('IO errors: missing directory, no overwrite, not an HDF5 file — typed, named, no HDF5-DIAG spam', async () => {
  await rejects(Hdf5EmbeddingWriter.create(tmp('no/such/dir/x.h5')), IOError, 'does not exist');
  writeFileSync(tmp('exists.h5'), 'x');
  await rejects(Hdf5EmbeddingWriter.create(tmp('exists.h5'), { overwrite: false }), IOError, 'already exists');
  await rejects(Hdf5EmbeddingWriter.create(dir), IOError, 'is a directory');
  writeFileSync(tmp('text.h5'), 'this is not an HDF5 file\n'.repeat(100));
  let err: unknown;
  const stderr = await captureStderr(async () => {
    try { await Hdf5EmbeddingWriter.open(tmp('text.h5'), 'a'); } catch (e) { err = e; throw e; }
  });
  assert.ok(err instanceof IOError, `got ${String(err)}`);
  assert.ok((err as IOError).message.includes('text.h5'));
  assert.ok((err as IOError).message.includes('H5Fopen()'), (err as IOError).message);
  assert.not.ok((err as IOError).message.includes('\n'), 'message should be one line');
  assert.not.ok(stderr.includes('HDF5-DIAG'), `HDF5-DIAG printed: ${stderr.slice(0, 200)}`);
  await rejects(readHdf5Embeddings(tmp('text.h5')), IOError, 'text.h5');
  // overwrite (default) replaces a non-HDF5 file
  const w = await Hdf5EmbeddingWriter.create(tmp('text.h5'));
  w.write('k', 'k', new Float32Array([5]), [1]);
  w.close();
  assert.equal([...(await readHdf5Embeddings(tmp('text.h5'))).keys()], ['k']);
});

test('summarizeHdf5Error: the first and last frames, led by the operating system\'s reason, named', () => {
  const trace = 'Error: HDF5-DIAG: Error detected in HDF5 (2.0.0):\n' +
    '  #000: /src/H5F.c line 821 in H5Fopen(): unable to synchronously open file\n    major: File accessibility\n' +
    '  #007: /src/H5FDsec2.c line 288 in H5FD__sec2_open(): unable to open file: errno = 44\n    minor: Unable to open file\n';
  assert.is(summarizeHdf5Error(new Error(trace)), 'ENOENT: H5Fopen(): unable to synchronously open file; H5FD__sec2_open(): unable to open file');
  // As h5wasm writes a full disk (HDF5's ctime() puts a newline inside the frame).
  const full = 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n' +
    '  #000: /src/H5VLcallback.c line 4045 in H5VL__file_specific(): file specific failed\n    major: Virtual Object Layer\n' +
    '  #008: /src/H5FDsec2.c line 775 in H5FD__sec2_write(): file write failed: time = Wed Dec  2 00:46:05 2026\n' +
    ", filename = '/tmp/o.h5.partial', file descriptor = 3, errno = 51, error message = 'No space left on device', buf = 0x2f7be8, offset = 48\n    major: Low-level I/O\n" +
    '  #009: /src/H5Fint.c line 2380 in H5F__flush_phase2(): secure from MDC flush failed\n';
  assert.is(summarizeHdf5Error(new Error(full)), 'No space left on device (ENOSPC): H5VL__file_specific(): file specific failed; H5F__flush_phase2(): secure from MDC flush failed');
  assert.is(summarizeHdf5Error(new Error('plain')), 'plain');
});

test('a large per-residue dataset (4000 x 1024) round-trips; write throughput', async () => {
  const path = tmp('large.h5');
  const data = randomArray(4000 * 1024, 99);
  const w = await Hdf5EmbeddingWriter.create(path);
  const t0 = performance.now();
  w.write('titin-ish', 'titin-ish', data, [4000, 1024], 'per_residue');
  w.close();
  const ms = performance.now() - t0;
  console.log(`  wrote ${(data.byteLength / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms (${(data.byteLength / 1e3 / ms).toFixed(0)} MB/s)`);
  const got = (await readHdf5Embeddings(path)).get('per_residue/titin-ish')!;
  assert.equal(got.shape, [4000, 1024]);
  sameFloats(got.data, data, 'large');
});

// ---- check with the reference HDF5 tools, only where one is installed ---------------------------

const hasH5py = spawnSync('python3', ['-c', 'import h5py'], { stdio: 'ignore' }).status === 0;
const hasH5dump = !hasH5py && spawnSync('h5dump', ['--version'], { stdio: 'ignore' }).status === 0;

if (hasH5py) {
  test('h5py reads the file: names, shapes, float32, original_id, values', () => {
    const script = `
import h5py, json, sys, base64
out = {}
with h5py.File(sys.argv[1], 'r') as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            a = obj[()]
            oid = obj.attrs['original_id']
            out[name] = {'shape': list(obj.shape), 'dtype': str(obj.dtype), 'original_id': oid if isinstance(oid, str) else oid.decode(),
                         'bytes': base64.b64encode(a.astype('<f4').tobytes()).decode()}
    f.visititems(visit)
print(json.dumps(out))
`;
    const res = spawnSync('python3', ['-c', script, tmp('both.h5')], { encoding: 'utf8' });
    assert.is(res.status, 0, res.stderr);
    const got = JSON.parse(res.stdout) as Record<string, { shape: number[]; dtype: string; original_id: string; bytes: string }>;
    assert.equal(Object.keys(got).sort(), ITEMS.map(fullName).sort());
    for (const it of ITEMS) {
      const g = got[fullName(it)];
      assert.equal(g.shape, it.shape);
      assert.is(g.dtype, 'float32');
      assert.is(g.original_id, it.header);
      const b = Buffer.from(g.bytes, 'base64');
      sameFloats(new Float32Array(new Uint8Array(b).buffer), it.data, `h5py ${fullName(it)}`);
    }
  });
} else if (hasH5dump) {
  test('h5dump reads the file: names, shapes, float32, original_id, raw values', () => {
    const file = tmp('both.h5');
    const res = spawnSync('h5dump', ['-A', file], { encoding: 'utf8' });
    assert.is(res.status, 0, res.stderr);
    for (const it of ITEMS) {
      const name = safeDatasetName(it.id);
      const at = res.stdout.indexOf(`DATASET "${name}"`, res.stdout.indexOf(`GROUP "${it.group}"`));
      assert.ok(at >= 0, `h5dump lacks ${fullName(it)}`);
      const block = res.stdout.slice(at, at + 1500);
      assert.ok(block.includes('H5T_IEEE_F32LE'), `${fullName(it)} not float32 LE`);
      assert.ok(block.includes(`( ${it.shape.join(', ')} )`), `${fullName(it)} shape: ${block.slice(0, 300)}`);
      if (it.header !== '') assert.ok(block.includes('ATTRIBUTE "original_id"') && block.includes(JSON.stringify(it.header).slice(1, -1).slice(0, 10)), `${fullName(it)} original_id`);
      const out = tmp(`dump-${name.replace(/[^\w]/g, '_')}-${it.group}.bin`);
      const bin = spawnSync('h5dump', ['-d', `/${fullName(it)}`, '-b', 'LE', '-o', out, file], { encoding: 'utf8' });
      assert.is(bin.status, 0, bin.stderr);
      const b = readFileSync(out);
      sameFloats(new Float32Array(new Uint8Array(b).buffer), it.data, `h5dump ${fullName(it)}`);
    }
  });
} else {
  console.log('  note: neither h5py (python3 -c "import h5py") nor h5dump is installed; the reference-tool check is not run (not counted)');
}

test.run();
