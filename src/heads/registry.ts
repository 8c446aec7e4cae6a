// The heads the engine knows, by name, and the output kinds they bring.
import { UsageError } from '../errors.js';
import type { HeadSpec } from './head.js';

const heads: HeadSpec[] = [];

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
