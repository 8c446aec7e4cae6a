// Node only: makes a folder and its missing parents, one level at a time. Node's own
// mkdir({ recursive: true }) never returns on a path whose parent exists but refuses a new entry
// with ENOENT (`/proc/x`: seen with Node 20, a loop of mkdir calls); this one fails with the error.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', path: d });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(d);
    if (dirname(d) === d || missing.length > 256) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
}
