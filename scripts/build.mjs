// Builds the library, the CLI, the tests and the benches with esbuild. WGSL files are
// embedded as strings (text loader), so no build output reads shaders at run time.
// The browser library (dist/browser.js), the demo page's script (dist/web/app.js) and the
// in-page test bundle (build/browser-test/in-page.js) are built for the browser; the browser
// library is then checked to hold no Node import and no `webgpu` import.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text' },
  // Dawn's native binding must stay a runtime import; the rest is bundled.
  external: ['webgpu', 'h5wasm', 'h5wasm/*', 'playwright-core', 'esbuild'],
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
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
};

/** Node-only imports that must never reach a browser bundle. */
const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](?:node:[^"']*|webgpu(?:\/[^"']*)?)["']/;

await Promise.all([
  build({ ...browser, entryPoints: { browser: 'src/browser.ts' }, outdir: 'dist' }),
  existsSync('web/app.ts') && build({ ...browser, entryPoints: { 'web/app': 'web/app.ts' }, outdir: 'dist' }),
  existsSync('test/browser/in-page.ts') && build({ ...browser, entryPoints: { 'in-page': 'test/browser/in-page.ts' }, outdir: 'build/browser-test' }),
  build({ ...common, entryPoints: Object.fromEntries(Object.entries({ node: 'src/node.ts', cli: 'src/cli/main.ts' }).filter(([, f]) => existsSync(f))), outdir: 'dist' }),
  build({ ...common, entryPoints: entries('test', '.test.ts'), outdir: 'build/test', outbase: 'test' }),
  build({ ...common, entryPoints: [...entries('bench', '.ts'), ...entries('scripts', '.ts')], outdir: 'build', outbase: '.' }),
]);

for (const f of ['dist/browser.js', 'dist/web/app.js']) {
  if (!existsSync(f)) continue;
  const m = readFileSync(f, 'utf8').match(NODE_IMPORT);
  if (m) {
    console.error(`build: ${f} imports a Node-only module: ${m[0]} (only src/node.ts may import Node modules or webgpu)`);
    process.exit(1);
  }
}

// Type declarations for library users (package.json "types"), from the two entry points.
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build: emitting type declarations failed');
  process.exit(1);
}
