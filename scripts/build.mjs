// Builds the library, the CLI, the tests and the benches with esbuild. WGSL files are
// embedded as strings (text loader), so no build output reads shaders at run time; the
// tokenizer files shipped with the package (src/tokenizers/*.model) as bytes (binary loader).
// The browser library (dist/browser.js), the demo page's script (dist/web/app.js) and the
// in-page test bundle (build/browser-test/in-page.js) are built for the browser. The demo page
// is split (ESM code splitting): h5wasm, which its HDF5 download imports on first use, lands in
// its own chunk under dist/web/chunks/ (about 4 MB, the wasm inlined), so the page does not load
// it up front. The browser outputs are then checked to hold no Node import and no `webgpu`
// import, the library (dist/browser.js) to hold no h5wasm, and the page's entry to import
// h5wasm only lazily.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { readdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text', '.model': 'binary' },
  // Dawn's native binding must stay a runtime import; the rest is bundled.
  // tfjs is the bench's peer, a dev dependency: imported at run time only where installed.
  external: ['webgpu', 'h5wasm', 'h5wasm/*', 'playwright-core', 'esbuild', 'typescript', '@tensorflow/*'],
  logLevel: 'warning',
  // Bundled CommonJS deps may call require(); give ESM output one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

function entries(dir, suffix) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...entries(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const browser = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text', '.model': 'binary' },
  logLevel: 'warning',
};

/** Node-only imports that must never reach a browser bundle. */
const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](?:node:[^"']*|webgpu(?:\/[^"']*)?)["']/;

// Chunk names carry a content hash: drop the last build's, so dist/web/ holds only live ones.
rmSync('dist/web/chunks', { recursive: true, force: true });

const [lib, web] = await Promise.all([
  build({ ...browser, entryPoints: { browser: 'src/browser.ts' }, outdir: 'dist', metafile: true }),
  existsSync('web/app.ts') && build({
    ...browser, entryPoints: { app: 'web/app.ts' }, outdir: 'dist/web', splitting: true, chunkNames: 'chunks/[name]-[hash]', metafile: true,
    // h5wasm inlines its wasm as a latin-1 string: kept as UTF-8 it is 4 MB, escaped (\xNN) 5.7 MB.
    charset: 'utf8',
  }),
  existsSync('test/browser/in-page.ts') && build({ ...browser, entryPoints: { 'in-page': 'test/browser/in-page.ts' }, outdir: 'build/browser-test' }),
  build({ ...common, entryPoints: Object.fromEntries(Object.entries({ node: 'src/node.ts', cli: 'src/cli/bin.ts' }).filter(([, f]) => existsSync(f))), outdir: 'dist' }),
  // test/faults/*.ts: modules a test preloads into a CLI process (node --import) to inject a fault.
  build({ ...common, entryPoints: [...entries('test', '.test.ts'), ...entries('test/faults', '.ts')], outdir: 'build/test', outbase: 'test' }),
  build({ ...common, entryPoints: [...entries('bench', '.ts'), ...entries('scripts', '.ts')], outdir: 'build', outbase: '.' }),
]);

for (const f of ['dist/browser.js', ...entries('dist/web', '.js')]) {
  if (!existsSync(f)) continue;
  const m = readFileSync(f, 'utf8').match(NODE_IMPORT);
  if (m) {
    console.error(`build: ${f} imports a Node-only module: ${m[0]} (only src/node.ts may import Node modules or webgpu)`);
    process.exit(1);
  }
}

const fromH5wasm = (inputs) => Object.keys(inputs).filter((p) => p.includes('node_modules/h5wasm/'));
const libH5 = fromH5wasm(lib.metafile.inputs);
if (libH5.length) {
  console.error(`build: dist/browser.js bundles h5wasm (${libH5.join(', ')}): the library must not; only the demo page loads it, lazily`);
  process.exit(1);
}
if (web) {
  // What the page loads up front: dist/web/app.js and the chunks it imports statically.
  const outputs = web.metafile.outputs;
  const eager = new Set(), todo = ['dist/web/app.js'];
  while (todo.length) {
    const f = todo.pop();
    if (eager.has(f) || !outputs[f]) continue;
    eager.add(f);
    for (const i of outputs[f].imports) if (i.kind === 'import-statement') todo.push(i.path);
  }
  const eagerH5 = [...eager].filter((f) => fromH5wasm(outputs[f].inputs).length);
  if (eagerH5.length) {
    console.error(`build: the demo page loads h5wasm up front (${eagerH5.join(', ')}): import it with import('h5wasm') so it stays a lazy chunk`);
    process.exit(1);
  }
}

// Type declarations for library users (package.json "types"), from the two entry points.
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build: emitting type declarations failed');
  process.exit(1);
}
