// Browser tests: headless Chromium (/usr/bin/chromium, WebGPU on its adapter, SwiftShader on a
// machine without a GPU) driven by playwright-core. One uvu test per in-page check (kernels,
// t5-tiny fixtures over HTTP, picked files, Range and Cache API), Node-vs-Chromium agreement on
// the fixtures, the demo page end to end (with a screenshot in test/browser/output/), and the
// page's error messages. Also static checks of the browser build. Runs from `npm test` (and
// alone: `npm run test:browser`). Without Chromium every browser test fails, loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type StaticServer } from '../../web/serve.mjs';
import { loadProtT5, parseFasta, type ProtT5Model } from '../../src/node.js';
import { Hdf5EmbeddingWriter, loadH5, readHdf5Embeddings, readHdf5RootAttributes } from '../../src/cli/hdf5.js';
import { predictingHead } from '../../src/embed/predict.js';
import { hdf5Group, safeDatasetName } from '../../src/embed/hdf5-layout.js';
import { SequenceError, UsageError } from '../../src/errors.js';
import { encodeHdf5Embeddings, MAX_HDF5_DOWNLOAD_BYTES, type Hdf5Record } from '../../web/hdf5-download.js';
import { readSafetensors } from '../../weights/safetensors.js';
import { MemorySource } from '../../weights/source.js';
import { toFloat32 } from '../../src/gpu/dtype.js';
import { expectClose, randomArray, relFrobenius, repoRoot } from '../helpers.js';
import { runtime } from '../gpu.js';
import type { CheckResult } from './in-page.js';
import { demoHeads } from '../demo-heads.js';
import { DirectoryFiles } from '../../weights/node-files.js';

const ROOT = repoRoot();
const CHROMIUM = process.env.PROTT5_CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT = join(ROOT, 'test', 'browser', 'output');
/** Node (Dawn) and Chromium run the same WGSL on the same kind of adapter: they agree to this. */
const NODE_VS_CHROMIUM_TOL = 1e-5;
const CHECK_TIMEOUT_MS = 150_000;
const FIXTURE_FOLDERS = ['t5-tiny-f32', 't5-tiny-f16', 't5-tiny-bf16', 't5-tiny-sharded', 't5-tiny-seq2seq', 't5-tiny-torch-f16'];

// ---- static checks of the browser build ---------------------------------------------------

const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](?:node:[^"']*|webgpu(?:\/[^"']*)?)["']/g;

/** The demo page's lazily loaded h5wasm chunk (dist/web/chunks/hdf5_hl-HASH.js). */
const H5WASM_CHUNK = /\/dist\/web\/chunks\/hdf5_hl-[^/]*\.js$/;

test('dist/browser.js and dist/web/ (the page and its chunks) import no node: module and no webgpu', () => {
  const chunks = existsSync(join(ROOT, 'dist/web/chunks')) ? readdirSync(join(ROOT, 'dist/web/chunks')).filter((f) => f.endsWith('.js')).map((f) => `dist/web/chunks/${f}`) : [];
  assert.ok(chunks.some((f) => H5WASM_CHUNK.test(`/${f}`)), `no h5wasm chunk in dist/web/chunks/ (${chunks.join(', ') || 'empty'}): run npm run build`);
  for (const f of ['dist/browser.js', 'dist/web/app.js', ...chunks]) {
    const path = join(ROOT, f);
    assert.ok(existsSync(path), `${f} is missing: run npm run build`);
    const hits = readFileSync(path, 'utf8').match(NODE_IMPORT);
    assert.not.ok(hits, `${f} imports Node-only modules: ${hits?.join(', ')}`);
  }
});

test('dist/browser.js holds no h5wasm; the demo page imports it only lazily (a chunk of its own)', () => {
  const lib = readFileSync(join(ROOT, 'dist/browser.js'), 'utf8');
  assert.not.ok(/h5wasm|activate_throwing_error_handler/.test(lib), 'dist/browser.js bundles h5wasm');
  const app = readFileSync(join(ROOT, 'dist/web/app.js'), 'utf8');
  assert.not.ok(/activate_throwing_error_handler\(\)\s*\{|H5Fcreate/.test(app), 'dist/web/app.js bundles h5wasm itself');
  assert.not.match(app, /\bfrom\s*["'][^"']*hdf5_hl/, 'dist/web/app.js imports the h5wasm chunk statically');
  assert.match(app, /\bimport\(\s*["']\.\/chunks\/hdf5_hl-[^"']*\.js["']\s*\)/, 'dist/web/app.js has no import() of the h5wasm chunk');
  assert.ok(app.length < 1.5e6, `dist/web/app.js is ${app.length} bytes`);
});

test('package.json: an app bundled for the web gets dist/browser.js, Node gets dist/node.js', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dot = pkg.exports['.'];
  assert.is(dot.browser.default, './dist/browser.js');
  assert.is(dot.node.default, './dist/node.js');
  assert.ok(Object.keys(dot).indexOf('browser') < Object.keys(dot).indexOf('node'), 'browser must come before node (first match wins)');
  // What a web bundler resolves for `import ... from 'prott5-webgpu'` (self-reference by name).
  const { build } = await import('esbuild');
  const resolved = async (platform: 'browser' | 'node') => {
    const r = await build({
      stdin: { contents: "export { loadProtT5 } from 'prott5-webgpu';", resolveDir: ROOT },
      bundle: true, write: false, metafile: true, platform, format: 'esm', logLevel: 'silent',
      external: ['webgpu', 'h5wasm', 'h5wasm/*'], loader: { '.wgsl': 'text' },
    });
    return Object.keys(r.metafile!.inputs).filter((p) => p.startsWith('dist/'));
  };
  assert.equal(await resolved('browser'), ['dist/browser.js']);
  assert.equal(await resolved('node'), ['dist/node.js']);
});

test('package.json types: a web app type-checks against the browser API, a Node app against the Node API', () => {
  // Two tiny apps inside the package (so 'prott5-webgpu' resolves to this package by name),
  // type-checked by tsc against dist/types: each uses what only its own entry exports.
  const dir = join(ROOT, 'build', 'types-check');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const apps = {
    web: {
      code: "import { loadProtT5, UrlFiles, BlobFiles } from 'prott5-webgpu';\nexport const m = loadProtT5(new UrlFiles('https://example.org/model/'));\nexport const b: typeof BlobFiles = BlobFiles;\n",
      options: { module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['browser'] },
    },
    node: {
      code: "import { loadProtT5, FileTuneStore } from 'prott5-webgpu';\nexport const m = loadProtT5('/models/prot_t5', { tuneStore: new FileTuneStore() });\n",
      options: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    },
  };
  for (const [name, app] of Object.entries(apps)) {
    writeFileSync(join(dir, `${name}.ts`), app.code);
    writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify({
      compilerOptions: { ...app.options, target: 'ES2022', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: ['node', '@webgpu/types'] },
      files: [`${name}.ts`],
    }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, `tsconfig.${name}.json`)], { encoding: 'utf8' });
    assert.is(r.status, 0, `the ${name} app does not type-check:\n${r.stdout}${r.stderr}`);
  }
  // And the other way round fails: the browser-only class is not in the Node types.
  writeFileSync(join(dir, 'wrong.ts'), "import { UrlFiles } from 'prott5-webgpu';\nexport const u = UrlFiles;\n");
  writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify({
    compilerOptions: { ...apps.node.options, target: 'ES2022', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: ['node', '@webgpu/types'] },
    files: ['wrong.ts'],
  }));
  const wrong = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.wrong.json')], { encoding: 'utf8' });
  assert.match(wrong.stdout, /has no exported member 'UrlFiles'/);
});

// ---- the page's HDF5 writer vs the CLI's (Node; h5wasm's browser entry runs here too) ---------

test('HDF5 download (web/hdf5-download.ts, h5wasm in memory) writes the same file as the CLI writer; clashes and oversize refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prott5-h5-page-'));
  try {
    const d = 8;
    const recs: Hdf5Record[] = [
      { id: 'sp|P1|A.1', header: 'sp|P1|A.1 first protein OS=X', length: 3 },
      { id: 'x/y', header: 'x/y', length: 1 },
      { id: 'é_unicode', header: 'é_unicode ünïcödé header', length: 2 },
    ].map((r, i) => ({ ...r, perProtein: randomArray(d, i + 1), perResidue: randomArray(r.length * d, i + 11) }));
    for (const kinds of [['perResidue', 'perProtein'], ['perProtein']] as Array<Array<'perResidue' | 'perProtein'>>) {
      const input = recs.map((r) => ({ ...r, perResidue: kinds.includes('perResidue') ? r.perResidue : undefined }));
      const pagePath = join(dir, `page-${kinds.length}.h5`), cliPath = join(dir, `cli-${kinds.length}.h5`);
      writeFileSync(pagePath, await encodeHdf5Embeddings(input, { prott5_model: 'test' }));
      const w = await Hdf5EmbeddingWriter.create(cliPath);
      for (const r of input) for (const k of kinds) w.write(r.id, r.header, r[k]!, k === 'perResidue' ? [r.length, d] : [d], hdf5Group(k, kinds));
      w.close();
      const page = await readHdf5Embeddings(pagePath), cli = await readHdf5Embeddings(cliPath);
      assert.equal([...page.keys()].sort(), [...cli.keys()].sort(), `${kinds}: dataset paths`);
      assert.is(page.size, recs.length * kinds.length);
      for (const [name, c] of cli) {
        const p = page.get(name)!;
        assert.equal(p.shape, c.shape, `${name} shape`);
        assert.equal(p.attrs, c.attrs, `${name} attributes`);
        assert.equal([...p.data], [...c.data], `${name} values`);
      }
      assert.is(page.get(kinds.length > 1 ? 'per_protein/x_y' : 'x_y')?.attrs.original_id, 'x/y');
      const root = await readHdf5RootAttributes(pagePath);
      assert.is(root.prott5_outputs, kinds.join(','));
      assert.is(root.prott5_model, 'test');
    }
    const one = (id: string): Hdf5Record => ({ id, header: id, length: 1, perProtein: new Float32Array(d) });
    try {
      await encodeHdf5Embeddings([one('a.1'), one('b'), one('a_1')]);
      assert.unreachable('ids that become one dataset name must be refused');
    } catch (e) {
      assert.instance(e, SequenceError);
      assert.match((e as Error).message, /"a\.1" and "a_1" both become HDF5 dataset "a_1"/);
    }
    // Heads' outputs beside one kind at the root: a record named like a head's group is refused.
    const head = { head: 'secstruct', output: 'dssp3', data: new Float32Array(3), shape: [1, 3], labels: ['H', 'E', 'C'], prediction: 'H' };
    try {
      await encodeHdf5Embeddings([{ ...one('secstruct'), heads: [head] }, { ...one('b'), heads: [head] }]);
      assert.unreachable('a record named like a head must be refused');
    } catch (e) {
      assert.instance(e, SequenceError);
      assert.match((e as Error).message, /"secstruct".*head secstruct/);
    }
    try {
      await encodeHdf5Embeddings([{ ...one('big'), perProtein: { length: 1, byteLength: MAX_HDF5_DOWNLOAD_BYTES + 4 } as unknown as Float32Array }]);
      assert.unreachable('more than the in-page limit must be refused');
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, /use the safetensors download/i);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- UrlFiles against awkward servers (Node's fetch; no browser needed) ----------------------

test('UrlFiles: a server that ignores Range serves a small file whole and refuses a large one; 404 is null; 416 is empty', async () => {
  const { createServer } = await import('node:http');
  const big = 70 * 2 ** 20;
  const srv = createServer((req, res) => {
    const name = req.url!.split('/').pop();
    if (name === 'small.bin') return res.end(Buffer.from([1, 2, 3, 4, 5]));
    if (name === 'big.bin') {
      res.writeHead(200, { 'content-length': big });
      return res.end(); // the client must give up on the headers alone
    }
    if (name === 'empty.bin') {
      res.writeHead(416, { 'content-range': 'bytes */0' });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  try {
    const { UrlFiles } = await import('../../weights/browser-files.js');
    const files = new UrlFiles(`http://127.0.0.1:${(srv.address() as { port: number }).port}/m`, { retries: 0 });
    assert.is(files.name.endsWith('/m/'), true, 'the base gets a trailing slash');
    assert.is(await files.open('nothing.json'), null);
    const small = (await files.open('small.bin'))!;
    assert.is(small.size, 5);
    assert.equal([...(await small.read(1, 3))], [2, 3, 4]);
    const empty = (await files.open('empty.bin'))!;
    assert.is(empty.size, 0);
    try {
      await files.open('big.bin');
      assert.unreachable('a large file from a server without Range must be refused');
    } catch (e) {
      assert.match((e as Error).message, /ignores HTTP Range requests/);
    }
    try {
      await files.open('../x');
      assert.unreachable('a path outside the folder must be refused');
    } catch (e) {
      assert.match((e as Error).message, /not a plain file name/);
    }
  } finally {
    srv.closeAllConnections();
    await new Promise((ok) => srv.close(ok));
  }
});

test('demo server: Range, suffix range, 416, HEAD, no escape from its folders', async () => {
  const s = await startServer();
  try {
    const url = `${s.url}examples/demo-model/model.safetensors`;
    const size = Number((await fetch(url, { method: 'HEAD' })).headers.get('content-length'));
    assert.ok(size > 1000);
    let r = await fetch(url, { headers: { Range: 'bytes=8-15' } });
    assert.is(r.status, 206);
    assert.is(r.headers.get('content-range'), `bytes 8-15/${size}`);
    assert.is((await r.arrayBuffer()).byteLength, 8);
    r = await fetch(url, { headers: { Range: 'bytes=-10' } });
    assert.is(r.headers.get('content-range'), `bytes ${size - 10}-${size - 1}/${size}`);
    await r.arrayBuffer();
    r = await fetch(url, { headers: { Range: `bytes=${size}-` } });
    assert.is(r.status, 416);
    await r.arrayBuffer();
    for (const p of ['dist/%2e%2e/package.json', 'examples/..%2f..%2fpackage.json', 'package.json']) {
      r = await fetch(s.url + p);
      assert.is(r.status, 404, p);
      await r.arrayBuffer();
    }
  } finally {
    await s.close();
  }
});

// ---- Chromium ----------------------------------------------------------------------------

let ctx: BrowserContext | null = null;
let server: StaticServer | null = null;
let userDir = '';
const consoleLines: string[] = [];

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms); }),
  ]);
}

async function launch(): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  userDir = mkdtempSync(join(tmpdir(), 'prott5-chromium-'));
  return chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 1300 },
    acceptDownloads: true,
    // The network is closed here and nothing outside localhost is needed: no background traffic.
    args: [
      '--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
}

async function newPage(): Promise<Page> {
  const page = await ctx!.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) consoleLines.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return page;
}

// Head checkpoints for the demo model (d_model 128), served at /demo-heads/<head>/.
const demoHeadsDir = mkdtempSync(join(tmpdir(), 'prott5-demo-heads-'));
process.on('exit', () => rmSync(demoHeadsDir, { recursive: true, force: true }));
demoHeads(demoHeadsDir);

let setupError: Error | null = null;
let names: string[] = [];
let testPage: Page | null = null;
if (!existsSync(CHROMIUM)) {
  setupError = new Error(
    `${CHROMIUM} not found: the browser tests need Debian's chromium (WebGPU on SwiftShader without a GPU). ` +
    'Install it with "bash scripts/setup.sh" (or apt-get install chromium), or point PROTT5_CHROMIUM at a Chromium binary.',
  );
} else {
  try {
    server = await startServer({
      mounts: {
        '/': 'web', '/dist/': 'dist', '/examples/': 'examples',
        '/test/fixtures/': 'test/fixtures', '/test/browser/': 'test/browser', '/build/browser-test/': 'build/browser-test',
        '/demo-heads/': demoHeadsDir,
      },
    });
    ctx = await launch();
    testPage = await newPage();
    await testPage.goto(`${server.url}test/browser/index.html`);
    await testPage.waitForFunction(() => 'prott5Tests' in globalThis, null, { timeout: 30_000 });
    names = await testPage.evaluate(() => (globalThis as unknown as { prott5Tests: { names(): string[] } }).prott5Tests.names());
  } catch (e) {
    setupError = new Error(`starting Chromium or the test page failed: ${(e as Error).message}\n${consoleLines.join('\n')}`);
  }
}

if (setupError) {
  test('Chromium with WebGPU is available for the browser tests', () => {
    throw setupError;
  });
}

// ---- in-page checks -----------------------------------------------------------------------

const pageData = new Map<string, Record<string, string>>();
let worst = 0, worstAt = '';

for (const name of names) {
  test(`chromium: ${name}`, async () => {
    const r: CheckResult = await withTimeout(
      testPage!.evaluate((n) => (globalThis as unknown as { prott5Tests: { run(n: string): Promise<CheckResult> } }).prott5Tests.run(n), name),
      CHECK_TIMEOUT_MS, name,
    );
    if (!r.ok) throw new Error(`${r.error}${consoleLines.length ? `\n${consoleLines.join('\n')}` : ''}`);
    if (r.worst !== undefined && r.worst > worst) [worst, worstAt] = [r.worst, name];
    if (r.note) console.log(`  ${name}: ${r.note}`);
    if (r.data) pageData.set(name, r.data);
  });
}

// ---- Node (Dawn) vs Chromium on the fixtures -------------------------------------------------

const fromB64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
let nodeVsChromium = 0;

if (!setupError) {
  test('Chromium: the demo model\'s embeddings of the sample (cold and warm load) match float64 PyTorch to 1e-4', () => {
    const data = pageData.get('demo model over HTTP: load + embed the sample, cold then warm (times in the note; values checked in Node)');
    assert.ok(data, 'the in-page check ran');
    const want: { records: Array<{ id: string; per_protein: number[] }> } = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/demo-sample/per-protein.json'), 'utf8'));
    want.records.forEach((r, i) => {
      for (const pass of ['cold', 'warm']) expectClose(`${r.id} (${pass})`, fromB64(data![`${pass}.${i}`]), Float32Array.from(r.per_protein), 1e-4);
    });
  });

  test('Node (Dawn) and Chromium agree on every fixture case to 1e-5', async () => {
    const cases: Array<{ index: number; sequence: string }> = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/t5-tiny/cases.json'), 'utf8')).cases;
    let compared = 0;
    for (const folder of FIXTURE_FOLDERS) {
      const data = pageData.get(`fixture ${folder} over HTTP (Range): every case vs float64`);
      assert.ok(data, `no Chromium results for ${folder} (its in-page test failed)`);
      const model = await loadProtT5(join(ROOT, 'test/fixtures/t5-tiny', folder), { runtime: await runtime(), autotune: false });
      try {
        for (const c of cases) {
          const [e] = await model.embed([c.sequence], { lastHiddenState: true, perProtein: true });
          for (const [kind, mine] of [['hidden', e.lastHiddenState!.data], ['protein', e.perProtein!.data]] as const) {
            const theirs = fromB64(data![`${kind}.${c.index}`]);
            const err = relFrobenius(theirs, mine);
            assert.ok(err <= NODE_VS_CHROMIUM_TOL, `${folder} case ${c.index} ${kind}: Chromium vs Node relative error ${err.toExponential(3)} > ${NODE_VS_CHROMIUM_TOL}`);
            nodeVsChromium = Math.max(nodeVsChromium, err);
            compared++;
          }
        }
      } finally {
        model.dispose();
      }
    }
    console.log(`  Node vs Chromium: ${compared} tensors, worst relative error ${nodeVsChromium.toExponential(2)}`);
  });
}

if (!setupError) {
  test('Node (Dawn) and Chromium agree on the ProtBert and ESM-2 fixture cases to 1e-5', async () => {
    const families = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/families/cases-bert-esm.json'), 'utf8')).families;
    let compared = 0, worstFamily = 0;
    for (const folder of ['protbert', 'esm2']) {
      const data = pageData.get(`family fixture ${folder} over HTTP: token ids, every case alone and batched vs float64`);
      assert.ok(data, `no Chromium results for ${folder} (its in-page test failed)`);
      const model = await loadProtT5(join(ROOT, 'test/fixtures/families', folder), { runtime: await runtime(), autotune: false });
      try {
        for (const c of families[folder].cases as Array<{ index: number; sequence: string; residue_start: number; masked_rows?: number[] }>) {
          const rows = new Set((c.masked_rows ?? []).map((r) => r - c.residue_start));
          const text = [...c.sequence].map((ch, i) => (rows.has(i) ? '<mask>' : ch)).join('');
          const [e] = await model.embed([text], { lastHiddenState: true, perProtein: true });
          for (const [kind, mine] of [['hidden', e.lastHiddenState!.data], ['protein', e.perProtein!.data]] as const) {
            const err = relFrobenius(fromB64(data![`${kind}.${c.index}`]), mine);
            assert.ok(err <= NODE_VS_CHROMIUM_TOL, `${folder} case ${c.index} ${kind}: Chromium vs Node relative error ${err.toExponential(3)} > ${NODE_VS_CHROMIUM_TOL}`);
            worstFamily = Math.max(worstFamily, err);
            compared++;
          }
        }
      } finally {
        model.dispose();
      }
    }
    console.log(`  Node vs Chromium (ProtBert, ESM-2): ${compared} tensors, worst relative error ${worstFamily.toExponential(2)}`);
  });
}

// ---- the demo page ---------------------------------------------------------------------------

const canvasInk = (page: Page, sel: string) =>
  page.evaluate((s) => {
    const c = document.querySelector(s) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      if (v !== 0xffffff) ink++;
      if (colours.size < 5000) colours.add(v);
    }
    return { ink: ink / (d.length / 4), colours: colours.size };
  }, sel);

if (!setupError) {
  test('demo page: demo model + example FASTA → table, heatmap, scatter; the safetensors and HDF5 downloads match Node to 1e-5', async () => {
    const page = await newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    try {
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 30_000 });
      assert.is(await page.evaluate(() => document.body.dataset.state), 'ready', `page state; error: ${await page.textContent('#error-text')}`);
      assert.match((await page.textContent('#model-section'))!, /random weights/);
      await page.click('#load-example');
      await page.waitForFunction(() => (document.querySelector('#fasta') as HTMLTextAreaElement).value.startsWith('>'));
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state!), null, { timeout: CHECK_TIMEOUT_MS });
      const state = await page.evaluate(() => document.body.dataset.state);
      assert.is(state, 'done', `the run ended in "${state}": ${await page.textContent('#error-text')}\n${consoleLines.join('\n')}`);

      const records = parseFasta(readFileSync(join(ROOT, 'examples/sample.fasta'), 'utf8'));
      const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
      assert.is(rows.length, records.length, 'one table row per record');
      rows.forEach((r, i) => {
        assert.is(r[1], records[i].id);
        assert.is(Number(r[2]), records[i].sequence.length);
        assert.ok(Number(r[3]) > 0, `time column: ${r[3]}`);
      });
      const heat = await canvasInk(page, '#heatmap'), scatter = await canvasInk(page, '#scatter');
      assert.ok(heat.ink > 0.5 && heat.colours > 200, `the heatmap looks empty: ${JSON.stringify(heat)}`);
      assert.ok(scatter.ink > 0.01 && scatter.colours > 20, `the scatter looks empty: ${JSON.stringify(scatter)}`);

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      assert.is(download.suggestedFilename(), 'embeddings.safetensors');
      const bytes = new Uint8Array(readFileSync((await download.path())!));
      const st = await readSafetensors(new MemorySource('embeddings.safetensors', bytes));
      assert.is(st.metadata.random_weights, 'true');

      // HDF5: h5wasm is fetched only now, on the first HDF5 download.
      assert.not.ok(requested.some((p) => H5WASM_CHUNK.test(p)), `the page loaded h5wasm before it was asked for: ${requested.filter((p) => p.includes('chunks')).join(', ')}`);
      const [h5download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#download-h5')]);
      assert.is(h5download.suggestedFilename(), 'embeddings.h5');
      assert.ok(requested.some((p) => H5WASM_CHUNK.test(p)), 'the h5wasm chunk was never requested');
      const h5path = join(userDir, 'embeddings.h5');
      await h5download.saveAs(h5path);
      const h5 = await readHdf5Embeddings(h5path);
      const h5root = await readHdf5RootAttributes(h5path);
      assert.is(h5root.random_weights, 'true');
      assert.is(h5root.prott5_outputs, 'perResidue,perProtein');
      assert.match((await page.textContent('#download-status'))!, /embeddings\.h5: /);
      assert.equal([...h5.keys()].sort(), records.flatMap((r) => [`per_protein/${safeDatasetName(r.id)}`, `per_residue/${safeDatasetName(r.id)}`]).sort(), 'HDF5 dataset names');

      // The same input through Node (Dawn).
      const model: ProtT5Model = await loadProtT5(join(ROOT, 'examples/demo-model'), { runtime: await runtime(), autotune: false });
      let err = 0;
      try {
        const mine = await model.embed(records.map((r) => ({ id: r.id, sequence: r.sequence })), { perProtein: true, perResidue: true });
        const byName = new Map(st.tensors.map((t) => [t.name, t]));
        for (const e of mine) {
          for (const [kind, t] of [['per_protein', e.perProtein!], ['per_residue', e.perResidue!]] as const) {
            const entry = byName.get(`${kind}/${e.id}`);
            assert.ok(entry, `the download has no ${kind}/${e.id}`);
            assert.equal([...entry!.shape], t.shape, `${kind}/${e.id} shape`);
            const got = toFloat32(entry!.dtype, await entry!.read());
            const r = relFrobenius(got, t.data);
            assert.ok(r <= NODE_VS_CHROMIUM_TOL, `${kind}/${e.id}: page vs Node relative error ${r.toExponential(3)}`);
            err = Math.max(err, r);
            // The HDF5 download: the ProtTrans layout, as the CLI writes it.
            const name = `${kind}/${safeDatasetName(records[e.index].id)}`;
            const ds = h5.get(name);
            assert.ok(ds, `the HDF5 download has no ${name}`);
            assert.equal(ds!.shape, t.shape, `${name} shape (HDF5)`);
            assert.is(ds!.attrs.original_id, records[e.index].header, `${name} original_id`);
            const r5 = relFrobenius(ds!.data, t.data);
            assert.ok(r5 <= NODE_VS_CHROMIUM_TOL, `${name}: HDF5 download vs Node relative error ${r5.toExponential(3)}`);
            err = Math.max(err, r5);
          }
          // The numbers shown in the table (6 significant digits) are Node's too.
          const shown = rows[e.index][4].split(/\s+/).filter((s) => s && s !== '…').map(Number);
          assert.is(shown.length, 3);
          shown.forEach((v, d) => {
            const ref = e.perProtein!.data[d];
            assert.ok(Math.abs(v - ref) <= 1e-5 * Math.abs(ref) + 1e-6, `${e.id} dim ${d}: table shows ${v}, Node ${ref}`);
          });
        }
      } finally {
        model.dispose();
      }
      console.log(`  demo page vs Node: worst relative error ${err.toExponential(2)}; ${await page.textContent('#run-status')}`);

      // Select a protein by clicking its row: the heatmap follows.
      await page.click('#results tbody tr:nth-child(1)');
      assert.match((await page.inputValue('#protein-select'))!, /^0$/);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'demo.png'), fullPage: true });
      console.log(`  screenshot: ${join('test/browser/output', 'demo.png')}`);
    } finally {
      await page.close();
    }
  });

  test('demo page: prediction heads from URLs (secstruct, subcell, tmbed at d_model 128) → tracks under the sequence, a bar chart, in the download; the same predictions as Node', async () => {
    const page = await newPage();
    try {
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 30_000 });
      const heads = ['secstruct', 'subcell', 'tmbed'];
      await page.click('#heads-section summary');
      await page.fill('#heads-urls', heads.map((h) => `${server!.url}demo-heads/${h}/`).join('\n'));
      await page.click('#load-example');
      await page.waitForFunction(() => (document.querySelector('#fasta') as HTMLTextAreaElement).value.startsWith('>'));
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state!), null, { timeout: CHECK_TIMEOUT_MS });
      assert.is(await page.evaluate(() => document.body.dataset.state), 'done', `the run ended in an error: ${await page.textContent('#error-text')}`);
      const records = parseFasta(readFileSync(join(ROOT, 'examples/sample.fasta'), 'utf8'));
      // Node, the same model and heads: the page's tracks must be these predictions.
      const model = await loadProtT5(join(ROOT, 'examples/demo-model'), { runtime: await runtime(), autotune: false });
      try {
        for (const h of heads) await model.addHead(h, new DirectoryFiles(join(demoHeadsDir, h)));
        const preds = await model.predict(records.map((r) => ({ id: r.id, sequence: r.sequence })));
        for (const [i, r] of records.entries()) {
          await page.selectOption('#protein-select', String(i));
          const cells = await page.$$eval('#tracks .tracks > span', (els) => els.map((e) => e.textContent ?? ''));
          const tracks = new Map<string, string>();
          for (let j = 0; j + 1 < cells.length; j += 2) tracks.set(cells[j], cells[j + 1]);
          assert.is(tracks.get('sequence'), r.sequence);
          for (const [name, o] of [['secstruct', 'dssp3'], ['secstruct', 'dssp8'], ['secstruct', 'diso'], ['tmbed', 'topology']]) {
            assert.is(tracks.get(`${name} ${o}`), preds[i].heads[name][o].prediction, `${r.id} ${name} ${o}`);
          }
          const caps = await page.$$eval('#tracks figure.bars figcaption', (els) => els.map((e) => e.textContent ?? ''));
          assert.equal(caps, [`subcell loc: ${preds[i].heads.subcell.loc.prediction}`, `subcell mem: ${preds[i].heads.subcell.mem.prediction}`]);
          assert.is(await page.$$eval('#tracks figure.bars .bar-row', (els) => els.length), 12);
        }
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
        const st = await readSafetensors(new MemorySource('e.safetensors', new Uint8Array(readFileSync((await download.path())!))));
        for (const [i, r] of records.entries()) {
          const t = st.tensors.find((x) => x.name === `secstruct/dssp3/${r.id}`);
          assert.ok(t, `download has secstruct/dssp3/${r.id}`);
          assert.equal([...t!.shape], [r.sequence.length, 3]);
          assert.ok(relFrobenius(toFloat32(t!.dtype, await t!.read()), preds[i].heads.secstruct.dssp3.probs.data) < 1e-5);
        }
        // The HDF5 download, made in the page: the embeddings plus /<head>/<output>/<id> as prott5 predict writes them.
        const [h5download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#download-h5')]);
        const h5dir = mkdtempSync(join(tmpdir(), 'prott5-heads-h5-'));
        try {
          const h5path = join(h5dir, 'embeddings.h5');
          await h5download.saveAs(h5path);
          const embs = await readHdf5Embeddings(h5path);
          for (const r of records) assert.ok([...embs.keys()].some((k) => k.endsWith(safeDatasetName(r.id))), `the HDF5 download has ${r.id}'s embedding`);
          const lib = await loadH5();
          const f = new lib.File(h5path, 'r');
          try {
            for (const [i, r] of records.entries()) {
              for (const h of heads) {
                for (const p of predictingHead(h).predictions) {
                  const key = `${h}/${p.name}/${safeDatasetName(r.id)}`, want = preds[i].heads[h][p.name];
                  const ds = f.get(key);
                  assert.ok(ds instanceof lib.Dataset, `the HDF5 download has ${key}`);
                  assert.equal(ds.shape, want.probs.shape, `${key} shape`);
                  assert.equal(ds.shape, p.kind.per === 'protein' ? [p.labels.length] : [r.sequence.length, p.labels.length], `${key} shape`);
                  assert.ok(relFrobenius(Float32Array.from(ds.value as Float32Array), want.probs.data) < 1e-5, `${key} values`);
                  assert.is(ds.get_attribute('prediction', true), want.prediction, `${key} prediction`);
                  const labels = ds.get_attribute('labels', true) as unknown;
                  assert.equal(Array.isArray(labels) ? labels : [labels], [...p.labels], `${key} labels`);
                  assert.is(ds.get_attribute('original_id', true), r.header, `${key} original_id`);
                }
              }
            }
          } finally {
            f.close();
          }
        } finally {
          rmSync(h5dir, { recursive: true, force: true });
        }
      } finally {
        model.dispose();
      }
    } finally {
      await page.close();
    }
  });

  test('demo page: the HDF5 library failing to load shows what went wrong; per-protein only goes at the root', async () => {
    const page = await newPage();
    try {
      // The h5wasm chunk cannot be fetched (a flaky network, a server without dist/web/chunks/).
      const block = (route: import('playwright-core').Route) => route.abort('connectionfailed');
      const linesBefore = consoleLines.length;
      await page.route(H5WASM_CHUNK, block);
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
      await page.fill('#fasta', '>short.1 first\nMKVL\n>short/2 second one\nACDEFGHIK\n');
      await page.uncheck('#per-residue');
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state!), null, { timeout: CHECK_TIMEOUT_MS });
      assert.is(await page.evaluate(() => document.body.dataset.state), 'done', `the run failed: ${await page.textContent('#error-text')}`);
      await page.click('#download-h5');
      await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30_000 });
      assert.ok(await page.isVisible('#error'), 'the error banner is shown');
      const msg = (await page.textContent('#error'))!;
      assert.match(msg, /HDF5 download failed/);
      assert.match(msg, /HDF5 writer \(h5wasm.*could not be loaded/);
      assert.match(msg, /safetensors download does not need it/);
      assert.match((await page.textContent('#download-status'))!, /HDF5 download failed/);
      assert.not.ok(await page.isDisabled('#download'), 'the safetensors download stays usable');
      // consoleLines collects page errors for other tests' messages: drop this test's expected ones.
      consoleLines.splice(linesBefore);

      // Once the chunk can be fetched again, the same page writes the file.
      await page.unroute(H5WASM_CHUNK, block);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#download-h5')]);
      const path = join(userDir, 'per-protein.h5');
      await download.saveAs(path);
      const h5 = await readHdf5Embeddings(path);
      assert.equal([...h5.keys()].sort(), ['short/2', 'short.1'].map(safeDatasetName).sort(), 'per-protein only: datasets at the root, no groups');
      assert.is(h5.get('short_1')!.attrs.original_id, 'short.1 first');
      assert.is(h5.get('short_2')!.attrs.original_id, 'short/2 second one');
      assert.equal(h5.get('short_2')!.shape, [h5.get('short_2')!.data.length]);
      assert.is((await readHdf5RootAttributes(path)).prott5_outputs, 'perProtein');
    } finally {
      await page.close();
    }
  });

  test('demo page: a browser without WebGPU gets a clear message, not a blank page', async () => {
    const page = await newPage();
    try {
      await page.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
      });
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 30_000 });
      assert.is(await page.evaluate(() => document.body.dataset.state), 'no-webgpu');
      assert.ok(await page.isVisible('#error'), 'the error banner is shown');
      assert.match((await page.textContent('#error'))!, /WebGPU is not available/);
      assert.match((await page.textContent('#error-text'))!, /navigator\.gpu is missing/);
      assert.ok(await page.isDisabled('#run'), 'Embed is disabled');
    } finally {
      await page.close();
    }
  });

  test('demo page: the published models are offered (ESM-2 8M and 35M marked small); a click fills the URL', async () => {
    const page = await newPage();
    try {
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
      const items = await page.$$eval('#hub-models li', (lis) => lis.map((li) => li.textContent ?? ''));
      for (const repo of ['facebook/esm2_t6_8M_UR50D', 'facebook/esm2_t12_35M_UR50D', 'Rostlab/prot_bert', 'Rostlab/prot_bert_bfd', 'Rostlab/prot_electra_discriminator_bfd', 'Rostlab/prot_albert', 'Rostlab/prot_t5_xl_half_uniref50-enc']) {
        assert.ok(items.some((t) => t.includes(repo)), `${repo} is offered`);
      }
      assert.is(items.filter((t) => /small/.test(t)).length, 2, 'ESM-2 8M and 35M are the small ones');
      await page.click('#hub-models button[data-repo="facebook/esm2_t6_8M_UR50D"]');
      assert.is(await page.inputValue('#model-url'), 'https://huggingface.co/facebook/esm2_t6_8M_UR50D/resolve/main/');
      assert.ok(await page.isChecked('input[name=model][value=url]'), 'the URL choice is selected');
    } finally {
      await page.close();
    }
  });

  test('demo page: a model that cannot load and a bad FASTA both show what is wrong', async () => {
    const page = await newPage();
    try {
      await page.goto(server!.url);
      await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
      await page.fill('#fasta', '>ok\nMKV\n>bad\nMKJV\n');
      await page.click('#run');
      await page.waitForFunction(() => document.body.dataset.state === 'error');
      const fastaMsg = (await page.textContent('#error'))!;
      assert.match(fastaMsg, /Embedding failed/);
      assert.match(fastaMsg, /FASTA:4:3: invalid character 'J'.*record "bad"/);
      await page.check('input[name=model][value=url]');
      await page.fill('#model-url', `${server!.url}examples/no-such-model/`);
      await page.click('#load-model');
      await page.waitForFunction(() => document.body.dataset.state === 'error' && !(document.querySelector('#load-model') as HTMLButtonElement).disabled);
      const modelMsg = (await page.textContent('#error'))!;
      assert.match(modelMsg, /Could not load the model/);
      assert.match(modelMsg, /no config\.json/);
    } finally {
      await page.close();
    }
  });
}

test.after(async () => {
  if (worstAt) console.log(`browser worst relative error vs reference: ${worst.toExponential(2)} (${worstAt})`);
  await ctx?.close().catch(() => undefined);
  await server?.close();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
});
test.run();
