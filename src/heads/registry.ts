// The heads the engine knows, by name, and the output kinds they bring.
import { UsageError } from '../errors.js';
import type { HeadSpec } from './head.js';
import { bindembed21dlHead } from './bindembed21dl/index.js';
import { laHead } from './la/index.js';
import { prostt53diHead } from './prostt5-3di/index.js';
import { prott5consHead } from './prott5cons/index.js';
import { secstructHead } from './secstruct/index.js';
import { sethHead } from './seth/index.js';
import { subcellHead } from './subcell/index.js';
import { tmbedHead } from './tmbed/index.js';

/** The built-in heads (src/heads/<name>/), then any registered from outside. */
const heads: HeadSpec[] = [secstructHead, subcellHead, laHead, tmbedHead, sethHead, bindembed21dlHead, prott5consHead, prostt53diHead];

/** Adds a head, and with it its output kinds (a later registration of the same name replaces it). */
export function registerHead(spec: HeadSpec): void {
  for (const k of spec.outputs) {
    if (k.source !== spec.name) throw new Error(`head ${spec.name}: output kind "${k.key}" names source ${k.source}`);
  }
  const i = heads.findIndex((h) => h.name === spec.name);
  if (i >= 0) heads[i] = spec;
  else heads.push(spec);
}

export function registeredHeads(): readonly HeadSpec[] {
  return heads;
}

export function headSpec(name: string): HeadSpec {
  const h = heads.find((x) => x.name === name);
  if (!h) throw new UsageError(`no prediction head "${name}"${heads.length ? `; known: ${heads.map((x) => x.name).join(', ')}` : ' is registered'}`, { head: name });
  return h;
}
