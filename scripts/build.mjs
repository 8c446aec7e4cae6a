// Builds the library, the CLI, the tests and the benches with esbuild. WGSL files are
// embedded as strings (text loader), so no build output reads shaders at run time.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
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

await Promise.all([
  build({ ...common, entryPoints: Object.fromEntries(Object.entries({ node: 'src/node.ts', cli: 'src/cli/main.ts' }).filter(([, f]) => existsSync(f))), outdir: 'dist' }),
  build({ ...common, entryPoints: entries('test', '.test.ts'), outdir: 'build/test', outbase: 'test' }),
  build({ ...common, entryPoints: [...entries('bench', '.ts'), ...entries('scripts', '.ts')], outdir: 'build', outbase: '.' }),
]);
