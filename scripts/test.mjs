// Runs every built test file (build/test/**/*.test.js) in its own Node process, streams its
// output, and totals uvu's per-file summaries. A file that crashes before its summary counts
// as one failed test. A test file whose source (test/**.test.ts) has the line
// `// test-on: every-cpu-adapter` (the kernel families) runs once more on each CPU driver
// present that `auto` did not pick (llvmpipe, SwiftShader). Ends with the line CI reads:
// `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const built = files('build/test').filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));

/** The CPU drivers to run the kernel families on besides the one `auto` picks. */
function otherCpuAdapters() {
  if (process.env.PROTT5_ADAPTER || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return [];
  const r = spawnSync(process.execPath, ['build/scripts/adapters.js'], { encoding: 'utf8' });
  try {
    const { cpu, auto } = JSON.parse(r.stdout.trim().split('\n').pop());
    return cpu.filter((k) => k !== auto);
  } catch {
    return [];
  }
}
const everyAdapter = (file) => {
  const src = file.replace(/^build\//, '').replace(/\.js$/, '.ts');
  return existsSync(src) && /^\/\/ test-on: every-cpu-adapter$/m.test(readFileSync(src, 'utf8'));
};
const others = built.some(everyAdapter) ? otherCpuAdapters() : [];
if (others.length) console.log(`# kernel families also on: ${others.join(', ')}`);
const all = [...built.map((file) => ({ file, adapter: null })), ...others.flatMap((adapter) => built.filter(everyAdapter).map((file) => ({ file, adapter })))];
let passed = 0, failed = 0, skipped = 0;
const bad = [];
for (const { file: path, adapter } of all) {
  const file = adapter ? `${path} [${adapter}]` : path;
  console.log(`\n# ${file}`);
  const t0 = Date.now();
  const { code, text } = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', path], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...(adapter ? { PROTT5_ADAPTER: adapter } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => { text += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { process.stderr.write(d); });
    child.on('close', (code) => resolve({ code, text }));
  });
  const num = (label) => { const m = text.match(new RegExp(`${label}:\\s+(\\d+)`)); return m ? Number(m[1]) : null; };
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped') ?? 0;
  if (total === null || ok === null) {
    failed += 1;
    bad.push(`${file} (exited ${code} before its summary)`);
  } else {
    passed += ok;
    skipped += skip;
    const f = total - ok - skip;
    failed += f;
    if (f > 0 || code !== 0) bad.push(`${file} (${f} failed, exit ${code})`);
    if (f === 0 && code !== 0) failed += 1;
  }
  console.log(`# ${file}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
if (bad.length) console.log(`\nFailing files:\n  ${bad.join('\n  ')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || all.length === 0 ? 1 : 0);
