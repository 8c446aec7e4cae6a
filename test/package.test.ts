// The package as an app developer meets it: `npm pack` the repository (after the build), check
// the tarball's files, install it offline (from the npm cache `npm ci` filled) into a fresh
// Node app and a fresh esbuild web app (that one without the optional `webgpu`), type-check
// the README's Library and Browser examples as written under `strict` (NodeNext, and Bundler),
// run the Node one on the demo model and the web one in headless Chromium, where a normal load
// must log no console error (no 404 probe).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startServer } from '../web/serve.mjs';
import { repoRoot } from './helpers.js';

const ROOT = repoRoot();
const CHROMIUM = process.env.PROTT5_CHROMIUM ?? '/usr/bin/chromium';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const tmp = mkdtempSync(join(tmpdir(), 'prott5-package-'));
const NODE_APP = join(tmp, 'node-app');
const WEB_APP = join(tmp, 'web-app');
let tarball = '';

/** Runs a command; its output on failure. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  assert.ok(r.status === 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}${r.signal ? ` (${r.signal})` : ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The ```ts blocks of a README section (## title up to the next ## heading). */
function examples(title: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0, `the "${title}" section has a ts example`);
  return blocks;
}

const strict = { strict: true, target: 'ES2022', skipLibCheck: true, noEmit: true, lib: ['ES2022', 'DOM', 'ESNext.Disposable'] };
function typecheck(dir: string, name: string, options: Record<string, unknown>, files: string[]): void {
  writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, files }, null, 2));
  run(process.execPath, [TSC, '-p', `tsconfig.${name}.json`], dir);
}

/**
 * Installs the tarball into a fresh app with `npm ci --offline`. The npm cache holds the
 * dependencies' tarballs (by integrity) but not their registry metadata, so a range like
 * ^0.10.3 cannot be resolved offline: the app gets a lock file pinning each dependency of the
 * tarball (and theirs) to the version and integrity of the repository's own lock.
 */
function npmInstall(dir: string, name: string, ...extra: string[]): void {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, Record<string, unknown>>;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const spec = `file:${relative(dir, tarball)}`;
  const packages: Record<string, Record<string, unknown>> = {
    '': { name, dependencies: { 'prott5-webgpu': spec } },
    'node_modules/prott5-webgpu': {
      version: pkg.version, resolved: spec, license: pkg.license, bin: pkg.bin, engines: pkg.engines,
      dependencies: pkg.dependencies, optionalDependencies: pkg.optionalDependencies,
    },
  };
  // The closure of the tarball's dependencies; those reached only through an optional one are optional.
  const add = (deps: Record<string, string> | undefined, optional: boolean) => {
    for (const dep of Object.keys(deps ?? {})) {
      const key = `node_modules/${dep}`, entry = repoLock[key];
      assert.ok(entry, `the repository's lock has ${dep}`);
      const had = packages[key];
      if (had && (!had.optional || optional)) continue;
      const { dev: _d, devOptional: _o, optional: _p, ...rest } = entry;
      packages[key] = optional ? { ...rest, optional: true } : rest;
      add(entry.dependencies as Record<string, string> | undefined, optional);
    }
  };
  add(pkg.dependencies, false);
  add(pkg.optionalDependencies, true);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies: { 'prott5-webgpu': spec } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name, lockfileVersion: 3, requires: true, packages }, null, 2));
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...extra], dir, { npm_config_update_notifier: 'false' });
}

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('npm pack: the library, its declarations, the demo model and LICENSE; nothing from test/, build/ or dist/web', () => {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(tmp, info.filename);
  const files = info.files.map((f) => f.path);
  for (const f of ['LICENSE', 'package.json', 'README.md', 'dist/node.js', 'dist/browser.js', 'dist/cli.js', 'bin/prott5.js', 'dist/types/src/node.d.ts', 'dist/types/src/browser.d.ts', 'examples/demo-model/config.json', 'examples/demo-model/model.safetensors']) {
    assert.ok(files.includes(f), `the tarball has ${f}`);
  }
  const bad = files.filter((f) => /^(test|build|bench|web|scripts|src|kernels|weights)\//.test(f) || f.startsWith('dist/web/') || /fixtures/.test(f) || f.startsWith('examples/output/'));
  assert.equal(bad, [], 'nothing from test/ (no fixtures), build/, the sources or the demo page');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.is(pkg.scripts.prepare, undefined, 'no prepare script (npm would run it on install)');
  assert.ok(pkg.scripts.prepack, 'prepack builds');
  assert.ok(pkg.optionalDependencies?.webgpu && !pkg.dependencies?.webgpu, 'webgpu is optional');
});

test("a Node app: installs offline, the README's Library example type-checks (NodeNext and Bundler+node) and runs on the demo model", () => {
  mkdirSync(NODE_APP, { recursive: true });
  npmInstall(NODE_APP, 'node-app');
  const [example] = examples('Library');
  writeFileSync(join(NODE_APP, 'main.ts'), example);
  const node = { typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'] };
  typecheck(NODE_APP, 'nodenext', { module: 'NodeNext', moduleResolution: 'NodeNext', ...node }, ['main.ts']);
  typecheck(NODE_APP, 'bundler', { module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['node'], ...node }, ['main.ts']);
  // Run it as written (esbuild only strips the types; the package stays an import).
  run(join(ROOT, 'node_modules', 'esbuild', 'bin', 'esbuild'), ['main.ts', '--outfile=main.mjs', '--format=esm', '--platform=node', '--target=node20'], NODE_APP);
  const out = run(process.execPath, ['main.mjs'], NODE_APP, { PROTT5_CACHE: join(tmp, 'cache') });
  assert.match(out, /^128 \[ 76, 128 \]$/m, `the example's output:\n${out}`);
  for (const phase of ['upload', 'tuning', 'compiling']) assert.match(out, new RegExp(`^${phase} `, 'm'), `a ${phase} progress line`);
});

test("a web app without webgpu: the README's Browser example type-checks (Bundler), bundles with esbuild and runs in Chromium with no console error", async () => {
  mkdirSync(WEB_APP, { recursive: true });
  npmInstall(WEB_APP, 'web-app', '--omit=optional');
  assert.ok(!existsSync(join(WEB_APP, 'node_modules', 'webgpu')), '--omit=optional leaves Dawn out');
  const [example] = examples('Browser');
  writeFileSync(join(WEB_APP, 'main.ts'), `${example}\n(globalThis as { done?: boolean }).done = true;\n`);
  typecheck(WEB_APP, 'bundler', { module: 'ESNext', moduleResolution: 'Bundler', types: [] }, ['main.ts']);
  mkdirSync(join(WEB_APP, 'public'));
  run(join(ROOT, 'node_modules', 'esbuild', 'bin', 'esbuild'), ['main.ts', '--bundle', '--format=esm', '--platform=browser', '--target=es2022', '--outfile=public/main.js'], WEB_APP);
  cpSync(join(WEB_APP, 'node_modules', 'prott5-webgpu', 'examples', 'demo-model'), join(WEB_APP, 'public', 'demo-model'), { recursive: true });
  writeFileSync(join(WEB_APP, 'public', 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><link rel="icon" href="data:,"><script type="module" src="main.js"></script>');

  const server = await startServer({ mounts: { '/': join(WEB_APP, 'public') } });
  const { chromium } = await import('playwright-core');
  const userDir = mkdtempSync(join(tmp, 'chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await ctx.newPage();
    const logs: string[] = [], errors: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning' ? errors : logs).push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as { done?: boolean }).done === true || false, undefined, { timeout: 60_000 }).catch(() => undefined);
    assert.equal(errors, [], `console errors or warnings on a normal load:\n${errors.join('\n')}\n${logs.join('\n')}`);
    assert.ok(logs.includes('log: ubiquitin 128'), `the example's output:\n${logs.join('\n')}`);
    for (const phase of ['upload', 'tuning', 'compiling']) assert.ok(logs.some((l) => l.startsWith(`log: ${phase} `)), `a ${phase} progress line`);
  } finally {
    await ctx.close();
    await server.close();
  }
});

test.run();
