// Node only: one process at a time on a file or folder, by a lock file made with O_EXCL that
// names its owner (pid and host). A lock left by a dead process on this host is taken over;
// one held by a live process (or on another host) is an IOError the caller words.
import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { IOError } from '../src/errors.js';

export interface LockOwner {
  pid?: unknown;
  host?: unknown;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockWait {
  /** Wait this long (ms) for a live holder to let go, then fail (default 0: fail at once). */
  waitMs?: number;
  /** Called once, when the wait starts, with the holder. */
  onWait?: (owner: LockOwner) => void;
  /** How often to look again (ms, default 250). */
  pollMs?: number;
}

/**
 * Takes `lock` (a path) and resolves to its release. `busy(owner)` words the error when another
 * live process holds it ("another process (pid 12 on h) is downloading into DIR ..."); with
 * `wait.waitMs`, the lock is tried again until then, and the error says how long it waited.
 */
export async function acquireLock(lock: string, busy: (owner: LockOwner) => string, wait: LockWait = {}): Promise<() => Promise<void>> {
  const me = { pid: process.pid, host: hostname() };
  const deadline = Date.now() + (wait.waitMs ?? 0);
  let waiting = false;
  for (let tries = 0; ; tries++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new IOError(`cannot create ${lock}: ${(e as Error).message}`, { file: lock }, { cause: e });
    }
    let owner: LockOwner = {};
    try {
      owner = JSON.parse(await readFile(lock, 'utf8'));
    } catch {
      // unreadable or half-written: judged below as held by an unknown process
    }
    const stale = owner.host === me.host && typeof owner.pid === 'number' && owner.pid !== me.pid && !alive(owner.pid);
    if (stale && tries === 0) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const waited = wait.waitMs ? ` (gave up after waiting ${Math.round(wait.waitMs / 1000)} s)` : '';
      throw new IOError(`${busy(owner)}${waited}`, { lock, owner });
    }
    if (!waiting) {
      waiting = true;
      wait.onWait?.(owner);
    }
    // A holder that dies while we wait leaves a stale lock: looked at afresh next time.
    if (stale) await rm(lock, { force: true });
    await new Promise((r) => setTimeout(r, Math.min(wait.pollMs ?? 250, Math.max(1, deadline - Date.now()))));
    tries = -1;
  }
}

/** "pid 12 on host" for messages. */
export function describeOwner(owner: LockOwner): string {
  return `pid ${String(owner.pid ?? '?')} on ${String(owner.host ?? '?')}`;
}
