// prott5 convert --dtype f16 of a pytorch_model.bin over 4 GiB (ZIP64), as ProtT5-XL-BFD and
// XXL are published: a sparse file holding one 4 GiB tensor of zeros (a decoder weight, which
// the encoder-only output skips) followed by the fp32 encoder tensors of t5-tiny at offsets past
// 4 GiB. The child's peak memory (maxRSS) stays under 1 GiB; the output equals the F16 twin
// and gives the fixture's outputs. Then tensors streamed in small pieces give the same bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProtT5 } from '../src/node.js';
import { convertWeights } from '../src/cli/convert.js';
import { FileSource } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import { expectClose, expected, fixturesDir, repoRoot } from './helpers.js';
import { runtime } from './gpu.js';
import { statePickle, writeTorchZipFile, type T } from './torch-zip.js';

const TINY = join(fixturesDir(), 't5-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'prott5-zip64-'));
// The 4 GiB file must not outlive the test, whatever happens.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Every tensor of a safetensors file: name → dtype, shape, bytes. */
async function tensorsOf(path: string): Promise<Map<string, { dtype: string; shape: readonly number[]; bytes: Uint8Array }>> {
  const src = await FileSource.open(path);
  try {
    const st = await readSafetensors(src);
    const out = new Map<string, { dtype: string; shape: readonly number[]; bytes: Uint8Array }>();
    for (const t of st.tensors) out.set(t.name, { dtype: t.dtype, shape: t.shape, bytes: await t.read() });
    return out;
  } finally {
    await src.close();
  }
}

function assertSame(got: Awaited<ReturnType<typeof tensorsOf>>, want: Awaited<ReturnType<typeof tensorsOf>>, what: string): void {
  assert.equal([...got.keys()].sort(), [...want.keys()].sort(), `${what}: names`);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.is(g.dtype, w.dtype, `${what}: ${name} dtype`);
    assert.equal([...g.shape], [...w.shape], `${what}: ${name} shape`);
    assert.ok(Buffer.from(g.bytes).equals(Buffer.from(w.bytes)), `${what}: ${name} bytes`);
  }
}

// A decoder weight of 16400 × 65536 f32: 4,299,161,600 bytes, past the 32-bit zip limit.
const BIG = { name: 'decoder.block.0.layer.2.DenseReluDense.wi.weight', size: [16400, 65536] };
const BIG_BYTES = BIG.size[0] * BIG.size[1] * 4;

test('a ZIP64 pytorch_model.bin over 4 GiB (sparse) → encoder-only F16 safetensors; child maxRSS < 1 GiB; the fixture outputs', async () => {
  // The file is sparse (a few hundred KB on disk), but check the disk first all the same.
  const fs = statfsSync(tmp);
  const free = fs.bavail * fs.bsize;
  assert.ok(free > 256 * 2 ** 20, `${tmp}: only ${(free / 2 ** 20).toFixed(0)} MiB free`);

  const f32 = await tensorsOf(join(TINY, 't5-tiny-f32', 'model.safetensors'));
  const names = [...f32.keys()];
  const pickled: T[] = [{ name: BIG.name, key: '0', numel: BIG_BYTES / 4, size: BIG.size }];
  names.forEach((name, i) => pickled.push({ name, key: String(i + 1), numel: f32.get(name)!.bytes.length / 4, size: [...f32.get(name)!.shape] }));
  const dir = join(tmp, 'bfd-like');
  mkdirSync(dir);
  const bin = join(dir, 'pytorch_model.bin');
  writeTorchZipFile(bin, [
    { name: 'archive/data.pkl', data: statePickle(pickled) },
    { name: 'archive/data/0', zeros: BIG_BYTES },
    ...names.map((name, i) => ({ name: `archive/data/${i + 1}`, data: f32.get(name)!.bytes })),
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
    { name: 'archive/byteorder', data: new TextEncoder().encode('little') },
  ]);
  copyFileSync(join(TINY, 't5-tiny-f32', 'config.json'), join(dir, 'config.json'));
  const st = statSync(bin);
  assert.ok(st.size > 2 ** 32 + 100_000, `the file is ${st.size} bytes: over 4 GiB`);
  assert.ok(st.blocks * 512 < 64 * 2 ** 20, `the file is sparse on disk (${st.blocks * 512} bytes allocated)`);

  // The conversion as a user runs it, in a child that reports its peak resident memory on exit.
  const preload = join(tmp, 'maxrss.mjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`maxRSS ${process.resourceUsage().maxRSS}\\n`));\n");
  const out = join(tmp, 'converted');
  mkdirSync(out);
  const r = spawnSync(process.execPath, ['--import', preload, join(repoRoot(), 'bin', 'prott5.js'), 'convert', bin, '-o', join(out, 'model.safetensors'), '--dtype', 'f16', '-q'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(r.status, 0, `convert failed: ${r.stderr}`);
  const kb = Number(/maxRSS (\d+)/.exec(r.stderr)?.[1]);
  assert.ok(kb > 0, `no maxRSS reported: ${r.stderr}`);
  console.log(`convert of a ${(st.size / 2 ** 30).toFixed(2)} GiB ZIP64 .bin: child maxRSS ${(kb / 1024).toFixed(0)} MiB`);
  assert.ok(kb * 1024 < 2 ** 30, `peak memory ${(kb / 1024).toFixed(0)} MiB is over 1 GiB`);
  rmSync(bin); // 4 GiB apparent: gone as soon as it is read

  // Encoder only, F16: the same bytes as the fixture's F16 folder (the same weights rounded to nearest even).
  const got = await tensorsOf(join(out, 'model.safetensors'));
  assert.ok(![...got.keys()].some((k) => k.startsWith('decoder.')), 'the decoder tensor is not converted');
  assertSame(got, await tensorsOf(join(TINY, 't5-tiny-f16', 'model.safetensors')), 'zip64 → f16');

  const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases;
  const model = await loadProtT5(out, { runtime: await runtime(), autotune: false });
  try {
    const res = await model.embed(cases.map((c) => c.sequence), { perProtein: true, lastHiddenState: true });
    for (const c of cases) {
      expectClose(`converted hidden ${c.index}`, res[c.index].lastHiddenState!.data, await expected(`F16.hidden.${c.index}`), 1e-4);
      expectClose(`converted protein ${c.index}`, res[c.index].perProtein!.data, await expected(`F16.protein.${c.index}`), 1e-4);
    }
  } finally {
    model.dispose();
  }
});

test('tensors streamed in 100-byte pieces (safetensors and torch .bin inputs) give the same bytes as whole', async () => {
  const want = await tensorsOf(join(TINY, 't5-tiny-f16', 'model.safetensors'));
  const a = join(tmp, 'pieces-st.safetensors');
  await convertWeights({ input: join(TINY, 't5-tiny-f32', 'model.safetensors'), output: a, dtype: 'F16', chunkBytes: 100 });
  assertSame(await tensorsOf(a), want, 'f32 safetensors → f16 in pieces');
  const b = join(tmp, 'pieces-bin.safetensors');
  await convertWeights({ input: join(TINY, 't5-tiny-torch-f16', 'pytorch_model.bin'), output: b, chunkBytes: 100 });
  assertSame(await tensorsOf(b), want, 'f16 .bin → f16 in pieces');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
