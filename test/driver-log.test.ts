// Dawn's two harmless native warnings are dropped from a normal start (src/gpu/node-stderr.ts);
// anything else native code writes to descriptor 2 still reaches stderr, and stderr works after.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietNativeStderr, withoutHarmless } from '../src/gpu/node-stderr.js';
import { repoRoot } from './helpers.js';

const WARN_U = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';
const WARN_S = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

if (process.env.PROTT5_DRIVER_LOG_CHILD === '1') {
  // The child: a "driver" writing straight to descriptor 2 inside the capture, then stderr as usual.
  const value = quietNativeStderr(() => {
    writeSync(2, `${WARN_U}\nvk: a real problem\n${WARN_S}\n`);
    return 42;
  });
  process.stderr.write(`after ${value}\n`);
  process.stdout.write('child done\n');
  process.exit(0);
}

test('withoutHarmless: drops exactly the two known lines, keeps everything else', () => {
  assert.is(withoutHarmless(`${WARN_U}\n${WARN_S}\n`), '');
  assert.is(withoutHarmless(`${WARN_U}\nsomething else\n${WARN_S}\n`), 'something else\n');
  assert.is(withoutHarmless('Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from a lot\n'), 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from a lot\n');
  assert.is(withoutHarmless(''), '');
});

const self = fileURLToPath(import.meta.url);

/**
 * Runs node with args, its stderr a shell pipe (a FIFO, as in `prott5 ... 2>&1 | tee log`; Node's
 * own child pipes are sockets, which cannot be reopened, so there the capture stands aside) and
 * its stdout in `out`.
 */
function viaShellPipe(args: string[], env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const out = join(tmpdir(), `prott5-driver-log-${process.pid}-${args.length}-${Object.keys(env).length}.out`);
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$@" 2>&1 >"$OUT" | cat', 'bash', process.execPath, ...args], {
    env: { ...process.env, ...env, OUT: out },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const stdout = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  return { status: r.status, stderr: r.stdout, stdout };
}

test('quietNativeStderr: descriptor-2 writes inside are filtered, stderr works after; off with PROTT5_DRIVER_LOG=1', () => {
  const quiet = viaShellPipe([self], { PROTT5_DRIVER_LOG_CHILD: '1' });
  assert.is(quiet.status, 0, quiet.stderr);
  assert.is(quiet.stdout, 'child done\n');
  assert.is(quiet.stderr, process.platform === 'linux' ? 'vk: a real problem\nafter 42\n' : `${WARN_U}\nvk: a real problem\n${WARN_S}\nafter 42\n`);
  const loud = viaShellPipe([self], { PROTT5_DRIVER_LOG_CHILD: '1', PROTT5_DRIVER_LOG: '1' });
  assert.is(loud.stderr, `${WARN_U}\nvk: a real problem\n${WARN_S}\nafter 42\n`);
  // A socket (Node's own child pipes): left alone, everything passes through.
  const socket = spawnSync(process.execPath, [self], { env: { ...process.env, PROTT5_DRIVER_LOG_CHILD: '1' }, encoding: 'utf8' });
  assert.is(socket.stderr, `${WARN_U}\nvk: a real problem\n${WARN_S}\nafter 42\n`);
});

test('prott5 info, stderr a pipe: the adapter line and none of the native warnings', () => {
  const r = viaShellPipe([join(repoRoot(), 'bin', 'prott5.js'), 'info'], {});
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^adapter: /m);
  assert.not.match(r.stderr, /artificially reduced/);
});

test.run();
