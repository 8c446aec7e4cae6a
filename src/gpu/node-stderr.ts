// Node only: what native code (Dawn, the Vulkan loader, a driver) writes to file descriptor 2
// during one synchronous call, captured so that known harmless lines can be dropped.
//
// Dawn prints two warnings whenever it enumerates llvmpipe (and most GPUs): "Warning:
// maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced from 1000000 to 16
// to fit dynamic offset allocation limit." They come from C stdio inside
// `gpu.requestAdapter()`'s synchronous part, beneath Node, so process.stderr cannot filter them.
// Node has no dup(2); the capture swaps descriptor 2 by reopening: /proc/self/fd/2 opened again
// keeps the original target, 2 is closed, the capture file is opened (and so becomes 2, the
// lowest free descriptor), the call runs, and the original is reopened onto 2 the same way.
//
// It is used only where nothing else can open a file meanwhile (the CLI, before any work) and
// only when descriptor 2 is a terminal, a pipe or /dev/null: reopening a regular file makes a
// second file offset, and with `> log 2>&1` stdout's writes could then overwrite stderr's. Any
// line that is not a known harmless one is written to stderr after the call, so nothing a
// driver says about a real problem is lost. PROTT5_DRIVER_LOG=1 turns the capture off.
import { closeSync, fstatSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from './env.js';

/** Lines Dawn prints on every start on llvmpipe and GPUs; they change nothing we use. */
export const HARMLESS_DRIVER_LINES: readonly RegExp[] = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

/** The captured text without the harmless lines (empty when nothing else was said). */
export function withoutHarmless(text: string): string {
  const kept = text.split('\n').filter((line) => line.trim() !== '' && !HARMLESS_DRIVER_LINES.some((re) => re.test(line.trimEnd())));
  return kept.length ? `${kept.join('\n')}\n` : '';
}

function capturable(): boolean {
  if (process.platform !== 'linux' || readSettings().driverLog) return false;
  try {
    const st = fstatSync(2);
    return st.isFIFO() || st.isCharacterDevice();
  } catch {
    return false;
  }
}

let serial = 0;

/**
 * Runs `fn` (synchronous) with descriptor 2 sent to a private file, puts descriptor 2 back and
 * writes what was said, less the harmless lines, to stderr. Where the swap cannot be done safely
 * it just runs `fn`.
 */
export function quietNativeStderr<T>(fn: () => T): T {
  if (!capturable()) return fn();
  let original: number;
  try {
    original = openSync('/proc/self/fd/2', 'a');
  } catch {
    return fn(); // a socket, or no /proc: leave descriptor 2 alone
  }
  const path = join(tmpdir(), `prott5-driver-${process.pid}-${serial++}.log`);
  let closed = false; // descriptor 2 closed by us: reopen the original onto it after
  let swapped = false; // descriptor 2 is the capture file
  try {
    closeSync(openSync(path, 'w', 0o600));
    closeSync(2);
    closed = true;
    const two = openSync(path, 'a');
    swapped = two === 2;
    if (!swapped) closeSync(two); // another thread took 2 in between: it is theirs now
  } catch {
    // the capture file could not be made: run uncaptured
  }
  try {
    return fn();
  } finally {
    if (closed) {
      if (swapped) closeSync(2);
      openSync(`/proc/self/fd/${original}`, 'a'); // the lowest free descriptor: 2 again
    }
    closeSync(original);
    let said = '';
    try {
      said = readFileSync(path, 'utf8');
      unlinkSync(path);
    } catch {
      // never made
    }
    const rest = withoutHarmless(said);
    if (rest) process.stderr.write(rest);
  }
}
