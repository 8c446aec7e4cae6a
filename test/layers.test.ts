// The layering of docs/ARCHITECTURE.md, checked on the sources: no file-level import cycle;
// src/gpu imports nothing above it; kernels/ and weights/ import only src/gpu/, src/errors.ts
// and shaders; nothing below src/cli imports it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { repoRoot } from './helpers.js';

const ROOT = repoRoot();

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...files(p));
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Repository-relative paths of the files a source imports (relative specifiers only; .js → .ts). */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    out.push(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const graph = new Map<string, string[]>();
for (const f of [...files('src'), ...files('kernels'), ...files('weights')]) graph.set(f, imports(f));

const under = (f: string, ...dirs: string[]) => dirs.some((d) => f === d || f.startsWith(d.endsWith('/') ? d : `${d}/`));

test('no file-level import cycle in src, kernels, weights', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const g of graph.get(f) ?? []) if (graph.has(g)) visit(g, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.equal(cycles, [], cycles.join('\n'));
});

test('each layer imports only what lies below it', () => {
  const bad: string[] = [];
  for (const [f, deps] of graph) {
    for (const d of deps) {
      if (d.endsWith('.wgsl')) continue;
      const allowed =
        under(f, 'src/gpu') ? under(d, 'src/gpu', 'src/errors.ts')
        : under(f, 'kernels', 'weights') ? under(d, 'src/gpu', 'src/errors.ts', 'kernels', 'weights')
        : under(f, 'src/models', 'src/tokenizers', 'src/heads') ? !under(d, 'src/embed', 'src/cli', 'src/node.ts', 'src/browser.ts', 'src/api.ts')
        : under(f, 'src/embed') ? !under(d, 'src/cli', 'src/node.ts', 'src/browser.ts', 'src/api.ts')
        : true;
      // kernels and weights are side by side: neither reaches into the other.
      const crosses = (under(f, 'kernels') && under(d, 'weights')) || (under(f, 'weights') && under(d, 'kernels'));
      if (!allowed || crosses) bad.push(`${f} imports ${relative(ROOT, join(ROOT, d))}`);
    }
  }
  assert.equal(bad, [], bad.join('\n'));
});

test('the checker sees the imports it checks (a test that can fail)', () => {
  assert.ok(graph.get('src/models/t5/encoder.ts')!.includes('kernels/matmul.ts'));
  assert.ok(graph.get('src/embed/model.ts')!.includes('src/models/family.ts'));
  assert.ok(graph.size > 60, `${graph.size} files`);
});

test.run();
