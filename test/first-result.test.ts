// Time to first result: the demo model loads and embeds examples/sample.fasta, first with an
// empty tune store (cold), then again on a new device with the store the first load left
// (warm: what a second run of an app sees). Prints both times, asserts nothing about them;
// asserts the embeddings: within 1e-4 of a float64 PyTorch computation of the same model
// (test/fixtures/demo-sample/make.py), and equal between the two loads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeRuntime, demoModel, FileTuneStore, loadProtT5, parseFasta } from '../src/node.js';
import { expectClose, fixturesDir, repoRoot } from './helpers.js';

const want: { records: Array<{ id: string; per_protein: number[] }> } = JSON.parse(readFileSync(join(fixturesDir(), 'demo-sample', 'per-protein.json'), 'utf8'));
const records = parseFasta(readFileSync(join(repoRoot(), 'examples', 'sample.fasta'), 'utf8'));

test('demo model: load + embed the sample, cold and warm (times printed); the embeddings match float64 PyTorch to 1e-4', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-first-'));
  try {
    const store = new FileTuneStore(join(dir, 'autotune.json'));
    const runs: Float32Array[][] = [];
    for (const pass of ['cold', 'warm']) {
      const rt = await createNodeRuntime();
      try {
        const t0 = performance.now();
        const model = await loadProtT5(demoModel(), { runtime: rt, tuneStore: store });
        const t1 = performance.now();
        const out = await model.embed(records);
        const t2 = performance.now();
        await model.dispose();
        console.log(`  ${pass} (${rt.adapter.kind}): load ${(t1 - t0).toFixed(0)} ms + embed ${(t2 - t1).toFixed(0)} ms = ${(t2 - t0).toFixed(0)} ms`);
        runs.push(out.map((e) => e.perProtein.data));
      } finally {
        rt.destroy();
      }
    }
    assert.is(runs[0].length, want.records.length);
    want.records.forEach((r, i) => {
      assert.is(records[i].id, r.id);
      expectClose(`${r.id} (cold)`, runs[0][i], Float32Array.from(r.per_protein), 1e-4);
      expectClose(`${r.id} (warm)`, runs[1][i], runs[0][i], 1e-6);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
