// Runs every built test file (build/test/**/*.test.js) in its own Node process, streams its
// output, and totals uvu's per-file summaries. A file that crashes before its summary counts
// as one failed test. Ends with the line CI reads: `N passed, N failed`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
const all = files('build/test').filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
let passed = 0, failed = 0, skipped = 0;
const bad = [];
for (const file of all) {
  console.log(`\n# ${file}`);
  const t0 = Date.now();
  const { code, text } = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
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
