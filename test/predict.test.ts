// prott5 predict (the CLI's main(), in this process):
// - `--embeddings` on an HDF5 of the head fixtures' inputs gives the fixtures' outputs
//   (probabilities, labels, decoded strings), into one HDF5 and into a folder of FASTA/TSV;
// - end to end on the demo model (d_model 128) with small head checkpoints made here for it,
//   every head at once: the FASTA run and `--embeddings` on `prott5 embed --per-residue`'s file
//   agree, the files hold every record, the strings decode the probabilities.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli/main.js';
import { Hdf5EmbeddingWriter, loadH5, readHdf5Embeddings, readHdf5RootAttributes } from '../src/cli/hdf5.js';
import { predictingHead } from '../src/embed/predict.js';
import { probabilitiesRef } from '../kernels/softmax.ref.js';
import { headDir, headFixture } from './head-fixtures.js';
import { expectClose, repoRoot } from './helpers.js';
import { demoHeads } from './demo-heads.js';

const tmp = mkdtempSync(join(tmpdir(), 'prott5-predict-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Fixture cases used here (the 257-residue case runs in heads.test.ts). */
const CASES = [0, 1, 2];

interface Read { data: Float32Array; shape: number[]; labels: string[]; prediction: string }
async function readPredictions(path: string): Promise<(key: string) => Read> {
  const lib = await loadH5();
  const f = new lib.File(path, 'r');
  const out = new Map<string, Read>();
  for (const head of f.keys()) {
    const hg = f.get(head);
    if (!(hg instanceof lib.Group)) continue; // embeddings at the root (predict --per-residue)
    for (const o of hg.keys()) {
      const og = hg.get(o);
      if (!(og instanceof lib.Group)) continue; // an embeddings group (per_residue/)
      for (const id of og.keys()) {
        const ds = og.get(id) as InstanceType<typeof lib.Dataset>;
        const labels = ds.get_attribute('labels', true) as unknown;
        out.set(`${head}/${o}/${id}`, {
          data: Float32Array.from(ds.value as Float32Array), shape: ds.shape ?? [],
          labels: Array.isArray(labels) ? (labels as string[]) : [labels as string],
          prediction: ds.get_attribute('prediction', true) as string,
        });
      }
    }
  }
  f.close();
  return (key) => {
    const v = out.get(key);
    if (!v) throw new Error(`${path} has no ${key} (it has ${[...out.keys()].slice(0, 8).join(', ')}...)`);
    return v;
  };
}

async function embeddingsFile(path: string, head: string, key = 'embedding'): Promise<void> {
  const fx = await headFixture(head);
  const h5 = await Hdf5EmbeddingWriter.create(path);
  for (const i of CASES) {
    const t = fx.get(`${key}.${i}`);
    // SETH's input carries a </s> row: per-residue embeddings have the residue rows only.
    const L = fx.cases[i].length;
    h5.write(`case${i}`, `case${i} fixture`, t.data.slice(0, L * t.shape[1]), [L, t.shape[1]]);
  }
  h5.close();
}

const softmax = (x: Float32Array) => probabilitiesRef(x, 1, x.length);
const cols = (x: Float32Array, C: number, c: number) => Float32Array.from({ length: x.length / C }, (_, r) => x[r * C + c]);

test('predict --embeddings on each head fixture\'s inputs gives the fixture outputs', async () => {
  /** Runs one head folder on its fixture's inputs; returns the output reader. */
  const run = async (head: string, folder = headDir(head), key = 'embedding') => {
    const input = join(tmp, `${head}-in.h5`), out = join(tmp, `${head}-out.h5`);
    await embeddingsFile(input, head, key);
    assert.is(await main(['predict', '--embeddings', input, '--heads', folder, '-o', out, '-q']), 0);
    return readPredictions(out);
  };
  const fxs = async (h: string) => {
    const fx = await headFixture(h);
    return { want: (k: string, i: number) => fx.get(`${k}.${i}`).data, c: (i: number) => fx.cases[i] as Record<string, unknown> };
  };
  const sec = await run('secstruct'), s = await fxs('secstruct');
  const sub = await run('subcell'), su = await fxs('subcell');
  const la = await run('la'), l = await fxs('la');
  const tm = await run('tmbed'), t = await fxs('tmbed');
  const cons = await run('prott5cons'), pc = await fxs('prott5cons');
  const di = await run('prostt5-3di'), p3 = await fxs('prostt5-3di');
  const bind = await run('bindembed21dl', headDir('bindembed21dl', 'trained_models')), be = await fxs('bindembed21dl');
  for (const i of CASES) {
    const id = `case${i}`;
    for (const o of ['dssp3', 'dssp8', 'diso']) {
      const r = sec(`secstruct/${o}/${id}`);
      expectClose(`secstruct ${o} ${id}`, r.data, s.want(`${o}.probs`, i), 1e-5);
      assert.is(r.prediction, s.c(i)[o]);
    }
    assert.equal(sec(`secstruct/dssp3/${id}`).labels, ['H', 'E', 'C']);
    for (const [h, r, f] of [['subcell', sub, su], ['la', la, l]] as const) {
      for (const [o, field] of [['loc', 'localization'], ['mem', 'membrane']]) {
        const got = r(`${h}/${o}/${id}`);
        expectClose(`${h} ${o} ${id}`, got.data, softmax(f.want(`${o}.logits`, i)), 1e-5);
        assert.is(got.prediction, f.c(i)[field]);
      }
    }
    assert.equal(sub(`subcell/mem/${id}`).labels, ['Soluble', 'Membrane bound']);
    assert.equal(la(`la/mem/${id}`).labels, ['Membrane bound', 'Soluble']);
    const topo = tm(`tmbed/topology/${id}`);
    expectClose(`tmbed ${id}`, topo.data, t.want('ensemble.probs', i), 1e-5);
    assert.is(topo.prediction, (t.c(i).ensemble as Record<string, string>).format0);
    const cv = cons(`prott5cons/conservation/${id}`);
    expectClose(`prott5cons ${id}`, cv.data, pc.want('probs', i), 1e-5);
    assert.is(cv.prediction, pc.c(i).classes);
    const st = di(`prostt5-3di/3di/${id}`);
    expectClose(`3di ${id}`, st.data, p3.want('probs', i), 1e-5);
    assert.is(st.prediction, p3.c(i)['3di']);
    const ens = be.want('ensemble.probs', i);
    const b5 = be.c(i).bio_embeddings_5_models as Record<string, string>;
    ['metal', 'nucleic', 'small'].forEach((n, ch) => {
      const got = bind(`bindembed21dl/${n}/${id}`);
      expectClose(`bindembed ${n} ${id}`, got.data, cols(ens, 3, ch), 1e-5);
      assert.is(got.prediction, b5[n]);
    });
  }
  // SETH on per-residue embeddings: the residue rows alone (no </s> row).
  const sethIn = join(tmp, 'seth.h5'), sethOut = join(tmp, 'seth-out.h5');
  await embeddingsFile(sethIn, 'seth', 'hidden');
  assert.is(await main(['predict', '--embeddings', sethIn, '--heads', `seth=${headDir('seth')}`, '-o', sethOut, '-q']), 0);
  const rs = await readPredictions(sethOut);
  for (const i of CASES) expectClose(`seth ${i}`, rs(`seth/zscore/case${i}`).data, (await headFixture('seth')).get(`zscore_residues_only.${i}`).data, 1e-5);

  // The upstream text files: bindPredict's own .bindPredict_out text, SETH's Cs scores.
  const up = join(tmp, 'pfolder-upstream');
  assert.is(await main(['predict', '--embeddings', join(tmp, 'bindembed21dl-in.h5'), '--heads', headDir('bindembed21dl', 'trained_models'), '-o', up, '-q']), 0);
  assert.is(await main(['predict', '--embeddings', sethIn, '--heads', `seth=${headDir('seth')}`, '-o', up, '-q']), 0);
  for (const i of CASES) assert.is(readFileSync(join(up, 'bindembed21dl', `case${i}.bindPredict_out`), 'utf8'), be.c(i).bindPredict_out_RI, `case${i}.bindPredict_out`);
  const cs = readFileSync(join(up, 'seth_Cs.txt'), 'utf8').trim().split('\n');
  assert.is(cs.length, 2 * CASES.length);
  for (const [j, i] of CASES.entries()) {
    assert.is(cs[2 * j], `>case${i} fixture`);
    expectClose(`seth_Cs case${i}`, Float32Array.from(cs[2 * j + 1].split(',').map(Number)), (await headFixture('seth')).get(`zscore_residues_only.${i}`).data, 1e-5);
  }

  // The same into a folder: FASTA-like files per per-residue output, a TSV per per-protein head.
  const dir = join(tmp, 'pfolder');
  assert.is(await main(['predict', '--embeddings', join(tmp, 'secstruct-in.h5'), '--heads', `${headDir('secstruct')},${headDir('subcell')}`, '-o', dir, '-q']), 0);
  const fasta = readFileSync(join(dir, 'secstruct_dssp3.fasta'), 'utf8');
  assert.is(fasta, CASES.map((i) => `>case${i}\n${s.c(i).dssp3}\n`).join(''));
  const dir2 = join(tmp, 'pfolder-subcell');
  assert.is(await main(['predict', '--embeddings', join(tmp, 'subcell-in.h5'), '--heads', headDir('subcell'), '-o', dir2, '-q']), 0);
  const tsv = readFileSync(join(dir2, 'subcell.tsv'), 'utf8').trim().split('\n').map((line) => line.split('\t'));
  assert.equal(tsv[0].slice(0, 4), ['id', 'loc', 'mem', 'loc:Cell-Membrane']);
  assert.is(tsv.length, 1 + CASES.length);
  CASES.forEach((i, j) => assert.equal(tsv[j + 1].slice(0, 3), [`case${i}`, su.c(i).localization, su.c(i).membrane]));
  assert.ok(existsSync(join(dir, 'subcell.tsv')));
  assert.ok(!existsSync(join(dir2, 'subcell.tsv.partial')));
});

test('predict: bad --heads folders and arguments are usage errors', async () => {
  const empty = join(tmp, 'empty-heads');
  mkdirSync(empty, { recursive: true });
  const stderr = process.stderr.write.bind(process.stderr);
  let said = '';
  process.stderr.write = ((s: string) => { said += s; return true; }) as typeof process.stderr.write;
  try {
    assert.is(await main(['predict', '--embeddings', join(tmp, 'x.h5'), '--heads', empty, '-o', join(tmp, 'o.h5'), '-q']), 2);
    assert.ok(said.includes('no head') && said.includes('secstruct_checkpoint.pt'), said);
    said = '';
    assert.is(await main(['predict', '--heads', headDir('secstruct'), '-o', join(tmp, 'o.h5'), '-q']), 2);
    assert.ok(said.includes('--embeddings'), said);
    // --per-residue: into an HDF5 output, from a FASTA; a record named like a head's group is refused before any GPU work.
    const model = join(repoRoot(), 'examples', 'demo-model');
    const clash = join(tmp, 'clash.fasta');
    writeFileSync(clash, '>p1\nMKV\n>secstruct\nMKVL\n');
    said = '';
    assert.is(await main(['predict', clash, '--model', model, '--heads', headDir('secstruct'), '--per-residue', '-o', join(tmp, 'o-dir'), '-q']), 2);
    assert.ok(said.includes('-o OUT.h5'), said);
    said = '';
    assert.is(await main(['predict', '--embeddings', join(tmp, 'x.h5'), '--heads', headDir('secstruct'), '--per-residue', '-o', join(tmp, 'o.h5'), '-q']), 2);
    assert.ok(said.includes('FASTA input'), said);
    said = '';
    assert.is(await main(['predict', clash, '--model', model, '--heads', headDir('secstruct'), '--per-residue', '-o', join(tmp, 'o.h5'), '-q']), 3);
    assert.ok(said.includes('"secstruct"') && said.includes('line 3'), said);
    assert.ok(!existsSync(join(tmp, 'o.h5')) && !existsSync(join(tmp, 'o.h5.partial')));
  } finally {
    process.stderr.write = stderr;
  }
});

// ---- end to end on the demo model ----

test('predict end to end on the demo model: FASTA → every head; the same from embed --per-residue (HDF5 and folder)', async () => {
  const model = join(repoRoot(), 'examples', 'demo-model');
  const fasta = join(repoRoot(), 'examples', 'sample.fasta');
  const dirs = demoHeads(join(tmp, 'demo-heads'));
  const out = join(tmp, 'demo.h5'), emb = join(tmp, 'demo-emb.h5'), out2 = join(tmp, 'demo-from-emb.h5'), folder = join(tmp, 'demo-out');
  const both = join(tmp, 'demo-both.h5');
  assert.is(await main(['predict', fasta, '--model', model, '--heads', dirs.join(','), '-o', out, '-q']), 0);
  assert.is(await main(['embed', fasta, '--model', model, '--per-residue', '--per-protein', '-o', emb, '-q']), 0);
  // The embeddings too, in one file: those of embed, laid out as embed lays them out.
  assert.is(await main(['predict', fasta, '--model', model, '--heads', dirs.join(','), '--per-residue', '--per-protein', '-o', both, '-q']), 0);
  assert.ok(!existsSync(`${both}.partial`));
  assert.is(await main(['predict', '--embeddings', emb, '--heads', dirs.join(','), '-o', out2, '-q']), 0);
  assert.is(await main(['predict', '--embeddings', emb, '--heads', dirs.join(','), '-o', folder, '-q']), 0);
  const a = await readPredictions(out), b = await readPredictions(out2);
  const c = await readPredictions(both);
  const embedded = await readHdf5Embeddings(emb), combined = await readHdf5Embeddings(both);
  const embKeys = [...embedded.keys()].sort();
  assert.ok(embKeys.length >= 4 && embKeys.every((k) => k.startsWith('per_residue/') || k.startsWith('per_protein/')), embKeys.join());
  assert.equal([...combined.keys()].filter((k) => !k.includes('/') || k.startsWith('per_')).sort(), embKeys);
  for (const k of embKeys) {
    const x = embedded.get(k)!, y = combined.get(k)!;
    assert.equal(y.shape, x.shape, k);
    assert.equal(y.attrs, x.attrs, `${k} attributes`);
    assert.ok(y.data.every((v, j) => v === x.data[j]), `${k}: the same values as embed wrote`);
  }
  const [ra, rb] = [await readHdf5RootAttributes(emb), await readHdf5RootAttributes(both)];
  for (const key of ['prott5_model', 'prott5_weights_sha256', 'prott5_config_sha256', 'prott5_outputs', 'prott5_dtype', 'prott5_input', 'prott5_input_sha256']) assert.is(rb[key], ra[key], key);
  assert.equal(String(rb.prott5_heads).split(',').sort(), ['bindembed21dl', 'la', 'prostt5-3di', 'prott5cons', 'secstruct', 'seth', 'subcell', 'tmbed']);
  // merge reads it as embed's output; predict --embeddings reads its per-residue group.
  const merged = join(tmp, 'demo-merged.h5');
  assert.is(await main(['merge', '-o', merged, both, '-q']), 0);
  assert.equal([...(await readHdf5Embeddings(merged)).keys()].sort(), embKeys);
  const ids = readFileSync(fasta, 'utf8').split('\n').filter((l) => l.startsWith('>')).map((l) => l.slice(1).trim().split(/\s/)[0].replace(/[/.]/g, '_'));
  assert.ok(ids.length >= 2);
  for (const name of ['secstruct', 'subcell', 'la', 'tmbed', 'seth', 'bindembed21dl', 'prott5cons', 'prostt5-3di']) {
    const spec = predictingHead(name);
    for (const p of spec.predictions) {
      const fastaFile = p.kind.per === 'residue' ? readFileSync(join(folder, `${name}_${p.name}.fasta`), 'utf8') : '';
      for (const id of ids) {
        const x = a(`${name}/${p.name}/${id}`), y = b(`${name}/${p.name}/${id}`);
        const z = c(`${name}/${p.name}/${id}`);
        assert.ok(z.data.length === x.data.length && z.data.every((v, j) => v === x.data[j]), `${name}/${p.name}/${id}: the same values with the embeddings as alone`);
        assert.is(z.prediction, x.prediction);
        assert.ok(x.data.every(Number.isFinite), `${name}/${p.name}/${id} finite`);
        assert.is(x.prediction, p.decode(x.data, x.shape[0]), `${name}/${p.name}/${id}: the prediction decodes the probabilities`);
        assert.equal(x.labels, [...p.labels]);
        // SETH reads the </s> row of a model run; per-residue embeddings have none.
        if (name !== 'seth') {
          expectClose(`${name}/${p.name}/${id} FASTA vs --embeddings`, x.data, y.data, 1e-5);
          assert.is(x.prediction, y.prediction);
        }
        if (p.kind.per === 'residue') assert.ok(fastaFile.includes(`>${id}\n${y.prediction}\n`), `${name}_${p.name}.fasta has ${id}`);
      }
    }
  }
  // Per-residue probabilities sum to 1 (softmax heads) and the predictions vary across heads' classes.
  const d3 = a(`secstruct/dssp3/${ids[0]}`);
  for (let r = 0; r < d3.shape[0]; r++) assert.ok(Math.abs(d3.data[r * 3] + d3.data[r * 3 + 1] + d3.data[r * 3 + 2] - 1) < 1e-5);
  const tsv = readFileSync(join(folder, 'la.tsv'), 'utf8').trim().split('\n');
  assert.is(tsv.length, 1 + ids.length);
});

test.run();
