// Seeded, reproducible fuzzing of the parsers, shared by test/fuzz.test.ts (a bounded run in the
// test suite) and scripts/fuzz.ts (`node build/scripts/fuzz.js [--iterations N] [--seed S]`).
//
// Input `i` of target `T` under seed `S` is generated from its own generator seeded with
// hash(S, T, i), so any one input can be rebuilt alone (`--target T --seed S --only i`).
// Every input must end in success (whose result is then checked for consistency) or in one of
// the target's typed ProtT5Error classes. Anything else is a crash: another error class
// (TypeError, RangeError, ...), a failed consistency check, an input slower than the time
// limit, a hang (no progress for `hangMs`: the worker is stopped) or a worker that runs out of
// its heap limit. Inputs run in a worker thread with a heap limit, so a hang or a memory blow-up
// is reported with the input that caused it instead of taking the test process down.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ConfigError, IOError, ProtT5Error, SequenceError, WeightsError } from '../src/errors.js';
import { parseT5Config } from '../src/models/t5/config.js';
import { parseFasta, readFasta, FASTA_RESIDUES, type FastaRecord } from '../src/embed/fasta.js';
import { openCheckpoint } from '../src/models/checkpoint.js';
import { DirectoryFiles, FileSource } from '../weights/node-files.js';
import { readPytorchBin } from '../weights/pytorch.js';
import { readSafetensors } from '../weights/safetensors.js';
import { MemorySource, type ByteSource, type ModelFiles } from '../weights/source.js';
import { DTYPE_BYTES, numel } from '../src/gpu/dtype.js';
import { ZipArchive, crc32 } from '../weights/zip.js';
import { fixturesDir, rng } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Randomness

/** FNV-1a over the text: the seed of one input. */
export function caseSeed(seed: number, target: string, index: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed >>> 0}:${target}:${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

export class Rand {
  private readonly f: () => number;
  constructor(seed: number) {
    this.f = rng(seed);
  }
  float(): number { return this.f(); }
  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number { return lo + Math.floor(this.f() * (hi - lo)); }
  below(n: number): number { return Math.floor(this.f() * n); }
  chance(p: number): boolean { return this.f() < p; }
  pick<T>(a: readonly T[]): T { return a[Math.floor(this.f() * a.length)]; }
  /** Picks a key by weight. */
  weighted<K extends string>(w: Record<K, number>): K {
    const keys = Object.keys(w) as K[];
    let x = this.f() * keys.reduce((a, k) => a + w[k], 0);
    for (const k of keys) if ((x -= w[k]) < 0) return k;
    return keys[keys.length - 1];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.below(256);
    return b;
  }
  /** Small sizes most of the time, sometimes large: 0..max, log-uniform-ish. */
  size(max: number): number { return Math.min(max, Math.floor(2 ** (this.f() * Math.log2(max + 1))) - (this.chance(0.3) ? 1 : 0)); }
}

// ---------------------------------------------------------------------------------------------
// Targets

/** An error thrown by a consistency check of a successful parse: always a crash. */
export class Violation extends Error {
  override name = 'Violation';
}
const violation = (msg: string): never => {
  throw new Violation(msg);
};

export interface FuzzCase {
  /** Short description of the input, for the crash report. */
  label: string;
  run(): Promise<void>;
}

type ErrorClass = abstract new (...args: never[]) => ProtT5Error;

interface Target<C> {
  name: string;
  /** The typed errors an input may end in. */
  errors: ErrorClass[];
  setup(): Promise<C>;
  make(ctx: C, r: Rand, index: number, total: number): FuzzCase;
  teardown?(ctx: C): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
};
/** Text of an array nested `depth` deep: [[[...]]]. */
const deepArray = (depth: number, inner = ''): string => '['.repeat(depth) + inner + ']'.repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const FIXTURE = (...p: string[]): string => join(fixturesDir(), 't5-tiny', ...p);

/** Changes 1..n bytes of b in [from, to): random bytes, single bit flips, or JSON punctuation. */
function flip(r: Rand, b: Uint8Array, n: number, from = 0, to = b.length): void {
  if (to <= from) return;
  const PUNCT = enc.encode('{}[]":,-.0123456789eE \\nul');
  for (let k = 0; k < n; k++) {
    const at = r.int(from, to);
    const how = r.below(3);
    if (how === 0) b[at] = r.below(256);
    else if (how === 1) b[at] ^= 1 << r.below(8);
    else b[at] = r.pick([...PUNCT]);
  }
}

/** Applies random splices to bytes: insert, delete, duplicate a range, overwrite. */
function splice(r: Rand, b: Uint8Array, edits: number, palette?: Uint8Array): Uint8Array {
  let out = b;
  for (let k = 0; k < edits; k++) {
    const at = r.int(0, out.length + 1);
    const how = r.below(4);
    if (how === 0) {
      const ins = palette ? Uint8Array.from({ length: r.int(1, 16) }, () => r.pick([...palette])) : r.bytes(r.int(1, 16));
      out = concat(out.subarray(0, at), ins, out.subarray(at));
    } else if (how === 1) {
      out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + r.int(1, 64))));
    } else if (how === 2 && out.length > 0) {
      const from = r.below(out.length), len = r.int(1, Math.min(256, out.length - from) + 1);
      out = concat(out.subarray(0, at), out.subarray(from, from + len), out.subarray(at));
    } else if (out.length > 0) {
      out = out === b ? b.slice() : out;
      flip(r, out, 1);
    }
  }
  return out;
}

/** The class check: allowed typed error, or rethrow as a crash. */
function isAllowed(e: unknown, errors: ErrorClass[]): boolean {
  return errors.some((c) => e instanceof c);
}

// ---- safetensors -----------------------------------------------------------------------------

interface StCtx {
  base: Uint8Array;
  headerLen: number;
  /** The fixture header's entries in file order, values as JSON text. */
  entries: Array<[string, string]>;
  data: Uint8Array;
}

const MAX_HEADER = 100 * 1024 * 1024;

/** A safetensors file from header entries given as JSON text (so duplicates and odd values survive). */
function stBytes(entries: Array<[string, string]>, data: Uint8Array, lengthField?: bigint): Uint8Array {
  let text = '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  return stRaw(enc.encode(text), data, lengthField);
}
function stRaw(header: Uint8Array, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const out = new Uint8Array(8 + header.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(header.byteLength), true);
  out.set(header, 8);
  out.set(data, 8 + header.byteLength);
  return out;
}

/** Reads a parsed safetensors file completely and checks what it claims. */
async function checkSafetensors(bytes: Uint8Array, duplicateNames: boolean): Promise<void> {
  const st = await readSafetensors(new MemorySource('fuzz.safetensors', bytes));
  if (duplicateNames) violation('a header naming a tensor twice was accepted (JSON.parse keeps the last one silently)');
  for (const t of st.tensors) {
    if (!Object.hasOwn(DTYPE_BYTES, t.dtype)) violation(`tensor ${JSON.stringify(t.name)} has dtype ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) violation(`tensor ${JSON.stringify(t.name)} has a bad shape`);
    const b = await t.read();
    if (b.byteLength !== numel(t.shape) * DTYPE_BYTES[t.dtype]) violation(`tensor ${JSON.stringify(t.name)}: read ${b.byteLength} bytes for ${t.dtype} ${t.shape.length}-d`);
  }
  for (const [k, v] of Object.entries(st.metadata)) if (typeof v !== 'string') violation(`metadata ${JSON.stringify(k)} is a ${typeof v}, not a string`);
}

const ST_SHAPES: Array<(r: Rand) => string> = [
  () => '[1099511627776,1099511627776]', // [2^40, 2^40]
  () => '[67108864,67108864,67108864]',
  () => '[9007199254740991]',
  () => '[9007199254740993]',
  () => '[18446744073709551616]',
  () => '[1e308,1e308]',
  () => '[-1]',
  () => '[1.5]',
  () => '["4"]',
  () => '[null]',
  () => '[]',
  () => '[0]',
  () => '[0,4503599627370496]',
  () => '[4503599627370496,0,4503599627370496]',
  () => 'null',
  () => '"64"',
  () => '{"0":64}',
  () => '64',
  (r) => `[${new Array(r.int(1, 200000)).fill(1).join(',')}]`,
  (r) => deepArray(r.int(2, 300000)),
  (r) => deepArray(r.int(2, 1000), '1'),
  (r) => `[${r.int(0, 70)},${r.int(0, 70)}]`,
];
const ST_DTYPES = ['"I64"', '"F64"', '"I32"', '"U8"', '"BOOL"', '"F8_E4M3"', '"f32"', '"F32 "', '""', '"toString"', '"__proto__"', '"constructor"',
  '"valueOf"', '"hasOwnProperty"', '"F16"', '"BF16"', '"F32"', '7', 'null', '[]', '{}', 'true', '["F32"]'];
const ST_NAMES = ['__proto__', 'constructor', '', '__metadata__', 'toString', 'hasOwnProperty', 'x\u0000y', '\ud800', 'é', 'a'.repeat(5000)];
const ST_METADATA = ['[]', '1', 'null', '"s"', '{"a":1}', '{"toString":1}', '{"format":"pt","n":{"x":1}}', '{"format":"pt"}', '{}', '{"__proto__":"x"}', '{"a":null}'];

const safetensorsTarget: Target<StCtx> = {
  name: 'safetensors',
  errors: [WeightsError],
  async setup() {
    const base = new Uint8Array(readFileSync(FIXTURE('t5-tiny-f32', 'model.safetensors')));
    const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
    const header = JSON.parse(dec.decode(base.subarray(8, 8 + headerLen))) as Record<string, unknown>;
    return { base, headerLen, entries: Object.entries(header).map(([k, v]) => [k, JSON.stringify(v)]), data: base.subarray(8 + headerLen) };
  },
  make(ctx, r) {
    const kind = r.weighted({ length: 1, notJson: 1, flipHeader: 2, flipData: 0.5, entry: 5, truncate: 1, synthetic: 2 });
    const { base, headerLen } = ctx;
    const dataLen = ctx.data.byteLength;
    if (kind === 'length') {
      const b = base.slice();
      const v = r.pick([BigInt(b.length - 8), BigInt(b.length - 7), BigInt(b.length), 2n ** 32n + BigInt(headerLen), 2n ** 63n, 2n ** 64n - 1n,
        BigInt(MAX_HEADER + 1), BigInt(MAX_HEADER), 0n, 1n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(headerLen + r.int(1, dataLen)),
        BigInt(r.int(0, 2 ** 31)) * BigInt(r.int(0, 2 ** 31))]);
      new DataView(b.buffer).setBigUint64(0, v, true);
      return { label: `length field ${v}`, run: () => checkSafetensors(b, false) };
    }
    if (kind === 'notJson') {
      const n = r.chance(0.5) ? headerLen : r.size(4096);
      const how = r.below(5);
      let h: Uint8Array;
      if (how === 0) h = r.bytes(n);
      else if (how === 1) h = Uint8Array.from({ length: n }, () => r.int(0x20, 0x7f));
      else if (how === 2) h = enc.encode(dec.decode(base.subarray(8, 8 + r.int(0, headerLen))).padEnd(n, ' ').slice(0, Math.max(n, 1)));
      else if (how === 3) h = enc.encode(r.pick(['[1,2]', 'null', '"str"', '123', 'true', '[]', '""', deepArray(100000), deepObject(50000), '{"a":1}{"b":2}', '\ufeff{}', '{}']));
      else h = Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d); // {"\xff\xfe":1} not UTF-8
      return { label: `header replaced (${how}, ${h.length} bytes)`, run: () => checkSafetensors(stRaw(h, ctx.data), false) };
    }
    if (kind === 'flipHeader' || kind === 'flipData') {
      const b = base.slice();
      const n = r.int(1, 9);
      if (kind === 'flipHeader') flip(r, b, n, 8, 8 + headerLen);
      else flip(r, b, n, 8 + headerLen);
      // A flip can rename a tensor to another's name: only then is success a duplicate.
      return { label: `${kind} x${n}`, run: () => checkSafetensors(b, false) };
    }
    if (kind === 'truncate') {
      const at = r.chance(0.5) ? r.int(0, 8 + headerLen + 16) : r.int(0, base.length);
      return { label: `truncated at ${at}`, run: () => checkSafetensors(base.subarray(0, at), false) };
    }
    if (kind === 'synthetic') return syntheticSafetensors(r);

    // Structural edits of the header, re-serialised as text.
    const ents = ctx.entries.map(([k, v]) => [k, v] as [string, string]);
    const edits: string[] = [];
    for (let n = r.int(1, 4); n > 0; n--) {
      const j = r.below(ents.length);
      const [name, text] = ents[j];
      // An entry an earlier edit made odd (not an object, or deeply nested) is edited as {}.
      const asObject = (t: string): Record<string, unknown> => {
        const x: unknown = t.length > 5000 ? null : JSON.parse(t);
        return typeof x === 'object' && x !== null && !Array.isArray(x) ? x as Record<string, unknown> : {};
      };
      const v = asObject(text);
      const isMeta = name === '__metadata__';
      const offs = (!isMeta && Array.isArray(v.data_offsets) ? v.data_offsets : [0, 0]) as number[];
      const [b0, e0] = offs;
      const other = asObject(ents[r.below(ents.length)][1]) as { data_offsets?: number[] };
      const edit = r.pick(['offsets', 'shape', 'dtype', 'dropField', 'value', 'rename', 'metadata', 'duplicate', 'delete', 'extra', 'reshape'] as const);
      edits.push(edit);
      const setField = (field: string, raw: string): void => {
        const rest = Object.entries(v).filter(([k]) => k !== field).map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`);
        rest.splice(r.int(0, rest.length + 1), 0, `${JSON.stringify(field)}:${raw}`);
        ents[j] = [name, `{${rest.join(',')}}`];
      };
      switch (edit) {
        case 'offsets':
          setField('data_offsets', r.pick([
            `[${b0},${e0 + 4}]`, `[${b0 - 4},${e0}]`, `[${e0},${b0}]`, `[-1,${e0}]`, `[${b0},${dataLen + 1}]`, `[${b0},${dataLen}]`, `[${b0},9007199254740992]`,
            '[9007199254740992,9007199254740996]', `[${b0 + 0.5},${e0}]`, `["0",${e0}]`, `[${b0}]`, `[${b0},${e0},0]`, 'null', '{}', '[1e308,1e308]',
            `[${b0},${b0}]`, JSON.stringify(other.data_offsets ?? [0, 4]), `[${r.int(0, dataLen)},${r.int(0, dataLen)}]`, deepArray(r.int(1, 100000)),
          ]));
          break;
        case 'shape': setField('shape', r.pick(ST_SHAPES)(r)); break;
        case 'dtype': setField('dtype', r.pick(ST_DTYPES)); break;
        case 'dropField': {
          const f = r.pick(['dtype', 'shape', 'data_offsets']);
          ents[j] = [name, JSON.stringify(Object.fromEntries(Object.entries(v).filter(([k]) => k !== f)))];
          break;
        }
        case 'value': ents[j] = [name, r.pick(['null', '3', '"x"', '[]', '{}', 'true', deepArray(r.int(1, 100000)), '{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":{}}'])]; break;
        case 'rename': ents[j] = [r.chance(0.5) ? ents[r.below(ents.length)][0] : r.pick(ST_NAMES), text]; break;
        case 'metadata': {
          const m = r.pick([...ST_METADATA, deepArray(r.int(1, 100000)), deepObject(r.int(1, 5000))]);
          const at = ents.findIndex(([k]) => k === '__metadata__');
          if (at >= 0) ents[at] = ['__metadata__', m];
          else ents.splice(r.int(0, ents.length + 1), 0, ['__metadata__', m]);
          break;
        }
        case 'duplicate': ents.splice(r.int(0, ents.length + 1), 0, [name, r.chance(0.5) ? text : JSON.stringify({ ...v, data_offsets: other.data_offsets })]); break;
        case 'delete': ents.splice(j, 1); if (ents.length === 0) ents.push(['x', '{}']); break;
        case 'extra': ents.splice(r.int(0, ents.length + 1), 0, [`extra.${r.below(100)}`, r.pick([
          `{"dtype":"F32","shape":[1],"data_offsets":[${dataLen - 4},${dataLen}]}`, '{"dtype":"I64","shape":[2],"data_offsets":[0,16]}',
          '{"dtype":"F16","shape":[0],"data_offsets":[0,0]}', `{"dtype":"F32","shape":[0],"data_offsets":[${dataLen},${dataLen}]}`,
        ])]); break;
        case 'reshape': if (Array.isArray(v.shape)) setField('shape', JSON.stringify([...(v.shape as number[])].reverse())); break;
      }
    }
    const names = ents.map(([k]) => k);
    const dup = new Set(names).size !== names.length;
    const data = r.chance(0.85) ? ctx.data : ctx.data.subarray(0, r.int(0, dataLen));
    const lengthOff = r.chance(0.1) ? r.int(-16, 17) : 0;
    return {
      label: `entries edited: ${edits.join(', ')}${data !== ctx.data ? `, data cut to ${data.length}` : ''}${lengthOff ? `, length field ${lengthOff > 0 ? '+' : ''}${lengthOff}` : ''}`,
      run: async () => {
        let bytes = stBytes(ents, data);
        if (lengthOff) {
          const len = Number(new DataView(bytes.buffer).getBigUint64(0, true)) + lengthOff;
          bytes = bytes.slice();
          new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, len)), true);
        }
        await checkSafetensors(bytes, dup && lengthOff === 0);
      },
    };
  },
};

/** A small safetensors file from scratch: odd names, dtypes, shapes, adjacent/overlapping/empty ranges. */
function syntheticSafetensors(r: Rand): FuzzCase {
  const ents: Array<[string, string]> = [];
  let off = 0;
  for (let n = r.below(7); n > 0; n--) {
    const dtype = r.pick(['F32', 'F16', 'BF16', 'F32', 'I64', 'U8', 'F64']);
    const shape = Array.from({ length: r.below(4) }, () => r.below(6));
    const es = ({ F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1, F64: 8 } as Record<string, number>)[dtype];
    let bytes = numel(shape) * es;
    if (r.chance(0.1)) bytes += r.pick([-2, -1, 1, 2, 4]);
    let b = off;
    if (r.chance(0.1)) b = Math.max(0, off - r.int(1, 8));
    const e = Math.max(b, b + bytes);
    off = Math.max(off, e);
    const name = r.chance(0.8) ? `t${r.below(8)}` : r.pick(ST_NAMES);
    ents.push([name, JSON.stringify({ dtype, shape, data_offsets: [b, e] })]);
  }
  if (r.chance(0.3)) ents.splice(r.int(0, ents.length + 1), 0, ['__metadata__', r.pick(ST_METADATA)]);
  const names = ents.map(([k]) => k);
  const dup = new Set(names).size !== names.length;
  const data = r.bytes(Math.max(0, off + (r.chance(0.2) ? r.int(-8, 9) : 0)));
  return { label: `synthetic ${ents.length} entries, ${data.length} data bytes`, run: () => checkSafetensors(stBytes(ents, data), dup) };
}

// ---- PyTorch .bin ----------------------------------------------------------------------------

interface ZipFile { name: string; data: Uint8Array; method?: number; flags?: number; crc?: number }

/** A zip as torch.save writes it (stored entries, data padded to 64 bytes), optionally with ZIP64 records. */
export function buildZip(files: ZipFile[], zip64 = false, comment = new Uint8Array(0)): Uint8Array {
  const names = files.map((f) => enc.encode(f.name));
  const offs: number[] = [], pads: number[] = [];
  let pos = 0;
  files.forEach((f, i) => {
    offs.push(pos);
    const pad = (64 - ((pos + 30 + names[i].length + 4) % 64)) % 64;
    pads.push(pad);
    pos += 30 + names[i].length + 4 + pad + f.data.length;
  });
  const cdOffset = pos;
  for (const n of names) pos += 46 + n.length + (zip64 ? 28 : 0);
  const cdSize = pos - cdOffset;
  const z64 = pos;
  if (zip64) pos += 56 + 20;
  pos += 22 + comment.length;
  const out = new Uint8Array(pos);
  const dv = new DataView(out.buffer);
  let p = 0;
  const u8 = (v: number) => { out[p++] = v; };
  const u16 = (v: number) => { dv.setUint16(p, v, true); p += 2; };
  const u32 = (v: number) => { dv.setUint32(p, v >>> 0, true); p += 4; };
  const u64 = (v: number) => { dv.setBigUint64(p, BigInt(v), true); p += 8; };
  const bytes = (b: Uint8Array) => { out.set(b, p); p += b.length; };
  const crcs = files.map((f) => f.crc ?? crc32(f.data));
  files.forEach((f, i) => {
    u32(0x04034b50); u16(20); u16(f.flags ?? 0); u16(f.method ?? 0); u16(0); u16(0);
    u32(crcs[i]); u32(f.data.length); u32(f.data.length); u16(names[i].length); u16(4 + pads[i]);
    bytes(names[i]); u16(0x4246); u16(pads[i]); p += pads[i]; bytes(f.data);
  });
  files.forEach((f, i) => {
    u32(0x02014b50); u16(0x031e); u16(zip64 ? 45 : 20); u16(f.flags ?? 0); u16(f.method ?? 0); u16(0); u16(0);
    u32(crcs[i]); u32(zip64 ? 0xffffffff : f.data.length); u32(zip64 ? 0xffffffff : f.data.length);
    u16(names[i].length); u16(zip64 ? 28 : 0); u16(0); u16(0); u16(0); u32(0); u32(zip64 ? 0xffffffff : offs[i]); bytes(names[i]);
    if (zip64) { u16(1); u16(24); u64(f.data.length); u64(f.data.length); u64(offs[i]); }
  });
  if (zip64) {
    u32(0x06064b50); u64(44); u16(0x031e); u16(45); u32(0); u32(0); u64(files.length); u64(files.length); u64(cdSize); u64(cdOffset);
    u32(0x07064b50); u32(0); u64(z64); u32(1);
    u32(0x06054b50); u16(0); u16(0); u16(0xffff); u16(0xffff); u32(0xffffffff); u32(0xffffffff);
  } else {
    u32(0x06054b50); u16(0); u16(0); u16(files.length); u16(files.length); u32(cdSize); u32(cdOffset);
  }
  u16(comment.length); bytes(comment);
  void u8;
  return out;
}

/** Hand-assembled protocol-2 pickle opcodes (as torch.save writes them). */
export class PickleWriter {
  private parts: number[] = [];
  private chunks: Uint8Array[] = [];
  op(...b: number[]): this { for (const x of b) this.parts.push(x & 0xff); return this; }
  raw(b: Uint8Array): this { this.flush(); this.chunks.push(b); return this; }
  private flush(): void { if (this.parts.length) { this.chunks.push(Uint8Array.from(this.parts)); this.parts = []; } }
  proto(): this { return this.op(0x80, 2); }
  global(module: string, name: string): this { return this.op(0x63).raw(enc.encode(`${module}\n${name}\n`)); }
  str(s: string): this { const b = enc.encode(s); return this.op(0x58, b.length, b.length >> 8, b.length >> 16, b.length >>> 24).raw(b); }
  int(n: number): this {
    if (Number.isInteger(n) && n >= 0 && n < 256) return this.op(0x4b, n);
    if (Number.isInteger(n) && n >= 0 && n < 65536) return this.op(0x4d, n, n >> 8);
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a, n, n >> 8, n >> 16, n >> 24);
    // LONG1 little-endian two's complement
    let v = BigInt(Math.trunc(n));
    const bytes: number[] = [];
    for (let i = 0; i < 9; i++) { bytes.push(Number(v & 0xffn)); v >>= 8n; }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  ints(v: number[]): this { this.mark(); for (const x of v) this.int(x); return this.op(0x74); }
  mark(): this { return this.op(0x28); }
  put(i: number): this { return this.op(0x71, i); }
  get(i: number): this { return this.op(0x68, i); }
  done(): Uint8Array { this.flush(); return concat(...this.chunks); }
}

interface PtCtx {
  base: Uint8Array;
  files: ZipFile[];
  pkl: Uint8Array;
  pklIndex: number;
  /** Where the central directory starts in base. */
  cdOffset: number;
  centralAt: number[];
  localAt: number[];
  eocdAt: number;
  z64At: number;
  locatorAt: number;
}

function findAll(hay: Uint8Array, needle: Uint8Array, from = 0): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle[0], from); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(needle[0], i + 1)) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) out.push(i);
  }
  return out;
}
const sig = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };

/** Reads a parsed checkpoint completely and checks what it claims. */
async function checkPytorch(bytes: Uint8Array): Promise<void> {
  const pt = await readPytorchBin(new MemorySource('fuzz.bin', bytes));
  for (const t of pt.tensors) {
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) violation(`tensor ${JSON.stringify(t.name)} has a bad shape`);
    const b = await t.read();
    if (b.byteLength !== numel(t.shape) * DTYPE_BYTES[t.dtype]) violation(`tensor ${JSON.stringify(t.name)}: read ${b.byteLength} bytes for ${t.dtype} ${t.shape.length}-d`);
  }
}

const GLOBALS = [
  'torch._utils\n_rebuild_tensor_v2\n', 'torch._utils\n_rebuild_tensor\n', 'torch._utils\n_rebuild_parameter\n', 'collections\nOrderedDict\n',
  'torch\nFloatStorage\n', 'torch\nHalfStorage\n', 'torch\nBFloat16Storage\n', 'torch\nLongStorage\n', 'torch\nDoubleStorage\n',
  'os\nsystem\n', 'builtins\neval\n', '__builtin__\nset\n', 'torch\nTensor\n', 'torch._utils\n_rebuild_parameter_with_state\n',
  'collections\nOrderedDict', 'x\n', '\n\n', 'torch\n' + 'a'.repeat(300) + '\n', 'torch.storage\n_load_from_bytes\n', 'torch\nHalfStorage\nextra\n',
];
const OPCODES = [0x28, 0x2e, 0x30, 0x31, 0x32, 0x46, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x58, 0x61,
  0x62, 0x63, 0x64, 0x7d, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6c, 0x5d, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x29, 0x75, 0x47, 0x80, 0x81, 0x82, 0x83,
  0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x42, 0x43, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x00, 0xff];

function mutatePickle(r: Rand, pkl: Uint8Array): { pkl: Uint8Array; label: string } {
  const how = r.pick(['flip', 'opcode', 'global', 'int', 'splice', 'truncate', 'append', 'bomb', 'frame'] as const);
  let out: Uint8Array = pkl.slice();
  switch (how) {
    case 'flip': flip(r, out, r.int(1, 5)); break;
    case 'opcode': for (let n = r.int(1, 3); n > 0; n--) out[r.below(out.length)] = r.pick(OPCODES); break;
    case 'global': {
      const from = r.pick(GLOBALS.slice(0, 9)), hits = findAll(out, enc.encode(from));
      if (hits.length) {
        const at = r.pick(hits);
        out = concat(out.subarray(0, at), enc.encode(r.pick(GLOBALS)), out.subarray(at + enc.encode(from).length));
      }
      break;
    }
    case 'int': {
      // BININT1 / BININT2 arguments: sizes, strides, offsets and storage sizes.
      const at = [...out.keys()].filter((i) => out[i] === 0x4b || out[i] === 0x4d);
      if (at.length) {
        const i = r.pick(at);
        if (r.chance(0.5)) out[i + 1] = r.pick([0, 1, 2, 0x7f, 0xff, r.below(256)]);
        else out = concat(out.subarray(0, i), Uint8Array.of(0x4a, ...r.bytes(4)), out.subarray(i + (out[i] === 0x4b ? 2 : 3)));
      }
      break;
    }
    case 'splice': out = splice(r, out, r.int(1, 4), Uint8Array.from(OPCODES)); break;
    case 'truncate': out = out.subarray(0, r.below(out.length)); break;
    case 'append': out = concat(out, r.bytes(r.int(1, 32))); break;
    case 'bomb': {
      // Deep nesting or a long run of one opcode spliced in after PROTO.
      const n = r.pick([1000, 30000, 200000]);
      const which = r.below(4);
      let unit: Uint8Array;
      if (which === 0) unit = concat(Uint8Array.of(0x4e), new Uint8Array(n).fill(0x85), Uint8Array.of(0x30)); // ((((None,),),)...)
      else if (which === 1) unit = new Uint8Array(n).fill(0x28); // MARK MARK MARK ...
      else if (which === 2) unit = new Uint8Array(n).fill(0x5d); // [] [] [] ...
      else { // a list appended to itself: l = []; l.append(l) ...
        unit = new Uint8Array(3 + 3 * n + 1);
        unit.set([0x5d, 0x71, 0]);
        for (let k = 0; k < n; k++) unit.set([0x68, 0, 0x61], 3 + 3 * k);
        unit[unit.length - 1] = 0x30;
      }
      out = concat(out.subarray(0, 2), unit, out.subarray(2));
      break;
    }
    case 'frame': out = concat(out.subarray(0, 2), Uint8Array.of(0x95, ...r.bytes(8)), out.subarray(2)); break;
  }
  return { pkl: out, label: `pickle ${how}` };
}

const rowMajor = (size: number[]): number[] => {
  const s = new Array<number>(size.length);
  for (let d = size.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= size[d]; }
  return s;
};

/** A state dict from scratch: random storages, offsets, sizes and strides, sometimes nested junk. */
function syntheticPytorch(r: Rand): FuzzCase {
  const TYPES: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, DoubleStorage: 8 };
  const p = new PickleWriter().proto().global('collections', 'OrderedDict').put(0).op(0x29, 0x52).put(1).mark();
  const storages = new Map<string, { type: string; numel: number }>();
  const notes: string[] = [];
  for (let n = r.int(1, 5); n > 0; n--) {
    const key = String(r.below(4));
    const prev = storages.get(key);
    const type = prev?.type ?? r.pick(Object.keys(TYPES));
    const dims = r.below(4);
    const size = Array.from({ length: dims }, () => (r.chance(0.05) ? r.pick([2 ** 25, 2 ** 40, 2 ** 53 - 1]) : r.below(6)));
    const stride = r.chance(0.6) ? rowMajor(size) : size.map(() => (r.chance(0.3) ? 0 : r.chance(0.05) ? r.pick([2 ** 31, 2 ** 52]) : r.below(12)));
    const offset = r.chance(0.7) ? 0 : r.chance(0.1) ? r.pick([2 ** 31, 2 ** 53 - 1]) : r.below(10);
    let span = offset;
    for (let d = 0; d < dims; d++) span += (size[d] - 1) * stride[d];
    const want = Math.max(0, Math.min(span + 1, 4096));
    const numelOf = prev?.numel ?? Math.max(0, want + (r.chance(0.3) ? r.int(-3, 4) : 0));
    storages.set(key, { type, numel: numelOf });
    const sizeArg = r.chance(0.05) ? 'bomb' : r.chance(0.03) ? 'list' : 'tuple';
    notes.push(`${type}[${key}] size ${JSON.stringify(size)}${sizeArg !== 'tuple' ? ` (${sizeArg})` : ''} stride ${JSON.stringify(stride)} off ${offset} numel ${numelOf}`);
    p.str(r.chance(0.9) ? `w${n}` : r.pick(['', '__proto__', 'constructor'])).global('torch._utils', r.chance(0.9) ? '_rebuild_tensor_v2' : '_rebuild_tensor').mark()
      .mark().str('storage').global('torch', type).str(key).str('cpu').int(numelOf).op(0x74).op(0x51)
      .int(offset);
    if (sizeArg === 'bomb') p.op(0x4e).raw(new Uint8Array(r.pick([1000, 200000])).fill(0x85)); // ((((None,),),)...)
    else if (sizeArg === 'list') { p.op(0x5d).mark(); for (let i = r.pick([10, 100000]); i > 0; i--) p.op(0x4b, 1); p.op(0x65); }
    else p.ints(size);
    p.ints(stride).op(0x89).get(0).op(0x29, 0x52).op(0x74, 0x52);
    if (r.chance(0.1)) p.op(0x4b, 7).put(2).op(0x30); // memo junk
  }
  if (r.chance(0.2)) p.str('step').int(3); // a non-tensor value
  p.op(0x75);
  if (r.chance(0.2)) p.op(0x7d).op(0x62); // BUILD with a state dict's _metadata
  const pkl = p.op(0x2e).done();
  const files: ZipFile[] = [{ name: 'archive/data.pkl', data: pkl }];
  for (const [key, s] of storages) {
    const full = s.numel * TYPES[s.type];
    const len = r.chance(0.85) ? full : Math.max(0, full + r.int(-16, 17));
    files.push({ name: `archive/data/${key}`, data: r.bytes(Math.min(len, 65536)) });
  }
  if (r.chance(0.3)) files.push({ name: 'archive/byteorder', data: enc.encode(r.pick(['little', 'big', '', 'little\n'])) });
  files.push({ name: 'archive/version', data: enc.encode('3\n') });
  const zip64 = r.chance(0.3);
  return { label: `synthetic state dict: ${notes.join('; ')}`, run: () => checkPytorch(buildZip(files, zip64)) };
}

const pytorchTarget: Target<PtCtx> = {
  name: 'pytorch',
  errors: [WeightsError],
  async setup() {
    const base = new Uint8Array(readFileSync(FIXTURE('t5-tiny-torch-f16', 'pytorch_model.bin')));
    const src = new MemorySource('fixture.bin', base);
    const zip = await ZipArchive.open(src);
    const files: ZipFile[] = [];
    for (const e of zip.entries) files.push({ name: e.name, data: base.slice(await zip.dataOffset(e), (await zip.dataOffset(e)) + e.uncompressedSize) });
    const pklIndex = files.findIndex((f) => f.name.endsWith('/data.pkl'));
    const centralAt = findAll(base, sig(0x02014b50));
    return {
      base, files, pkl: files[pklIndex].data, pklIndex,
      cdOffset: centralAt[0], centralAt, localAt: findAll(base, sig(0x04034b50)).filter((i) => i < centralAt[0]),
      eocdAt: base.length - 22, z64At: findAll(base, sig(0x06064b50)).pop() ?? -1, locatorAt: findAll(base, sig(0x07064b50)).pop() ?? -1,
    };
  },
  make(ctx, r, index, total) {
    const { base } = ctx;
    // Every fifth input sweeps truncation points evenly over the file: the more inputs, the finer the step.
    if (index % 5 === 0) {
      const sweep = Math.ceil(total / 5), j = index / 5;
      const at = Math.floor((j * base.length) / Math.max(1, sweep));
      return { label: `truncated at ${at} (sweep ${j}/${sweep})`, run: () => checkPytorch(base.subarray(0, at)) };
    }
    const kind = r.weighted({ tail: 1, flip: 2, crc: 0.5, field: 2, pickle: 4, storage: 1, synthetic: 3, cutFront: 0.2 });
    if (kind === 'tail') {
      const at = base.length - r.int(1, Math.min(base.length, 70000));
      return { label: `truncated at ${at} (tail)`, run: () => checkPytorch(base.subarray(0, at)) };
    }
    if (kind === 'cutFront') {
      const at = r.int(1, 4096);
      return { label: `first ${at} bytes removed`, run: () => checkPytorch(base.subarray(at)) };
    }
    if (kind === 'flip') {
      const b = base.slice();
      const n = r.int(1, 17);
      const region = r.pick(['tail', 'local', 'pkl', 'any'] as const);
      if (region === 'tail') flip(r, b, n, ctx.cdOffset);
      else if (region === 'local') for (let k = 0; k < n; k++) { const at = r.pick(ctx.localAt); flip(r, b, 1, at, at + 34); }
      else if (region === 'pkl') flip(r, b, n, ctx.localAt[0], ctx.localAt[1]);
      else flip(r, b, n);
      return { label: `${n} byte flips (${region})`, run: () => checkPytorch(b) };
    }
    if (kind === 'crc') {
      const b = base.slice();
      const at = r.chance(0.5) ? ctx.centralAt[ctx.pklIndex] : r.pick(ctx.centralAt);
      new DataView(b.buffer).setUint32(at + 16, r.below(2 ** 32), true);
      return { label: `CRC of central entry at ${at} changed`, run: () => checkPytorch(b) };
    }
    if (kind === 'field') {
      const b = base.slice();
      const dv = new DataView(b.buffer);
      const where = r.pick(['eocd', 'z64', 'locator', 'central', 'local'] as const);
      const fields: Record<typeof where, Array<[number, number]>> = {
        eocd: [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]],
        z64: [[4, 8], [16, 4], [20, 4], [24, 8], [32, 8], [40, 8], [48, 8]],
        locator: [[4, 4], [8, 8], [16, 4]],
        central: [[8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [34, 2], [42, 4], [46, 2], [48, 2], [50, 8], [58, 8], [66, 8]],
        local: [[6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]],
      };
      const at = where === 'eocd' ? ctx.eocdAt : where === 'z64' ? ctx.z64At : where === 'locator' ? ctx.locatorAt : where === 'central' ? r.pick(ctx.centralAt) : r.pick(ctx.localAt);
      const [off, width] = r.pick(fields[where]);
      const max = 2 ** (8 * Math.min(width, 6));
      const value = r.pick([0, 1, max - 1, r.below(max), base.length, ctx.cdOffset, 64, 0xffff, 0xffffffff % max]);
      if (at >= 0 && at + off + width <= b.length) {
        if (width === 1) b[at + off] = value;
        else if (width === 2) dv.setUint16(at + off, value & 0xffff, true);
        else if (width === 4) dv.setUint32(at + off, value >>> 0, true);
        else dv.setBigUint64(at + off, r.chance(0.2) ? 2n ** 64n - 1n : BigInt(value), true);
      }
      return { label: `${where} field +${off} (${width} bytes) = ${value}`, run: () => checkPytorch(b) };
    }
    if (kind === 'pickle') {
      const { pkl, label } = mutatePickle(r, ctx.pkl);
      const files = ctx.files.map((f, i) => (i === ctx.pklIndex ? { ...f, data: pkl } : f));
      const zip64 = r.chance(0.5);
      return { label: `${label} (${pkl.length} bytes)`, run: () => checkPytorch(buildZip(files, zip64)) };
    }
    if (kind === 'storage') {
      let files = ctx.files.map((f) => ({ ...f }));
      const j = r.below(files.length);
      const how = r.pick(['shorter', 'remove', 'rename', 'longer', 'compressed', 'encrypted', 'duplicate', 'badCrc'] as const);
      const f = files[j];
      if (how === 'shorter') f.data = f.data.subarray(0, r.below(Math.max(1, f.data.length)));
      else if (how === 'remove') files.splice(j, 1);
      else if (how === 'rename') f.name = r.pick([f.name + 'x', f.name.replace('pytorch_model/', 'other/'), 'data.pkl', '', '/'.repeat(3), f.name.toUpperCase()]);
      else if (how === 'longer') f.data = concat(f.data, r.bytes(r.int(1, 64)));
      else if (how === 'compressed') f.method = r.pick([8, 12, 14, 99]);
      else if (how === 'encrypted') f.flags = 1;
      else if (how === 'duplicate') files = [...files, { ...f }];
      else f.crc = r.below(2 ** 32);
      return { label: `zip entry ${f.name}: ${how}`, run: () => checkPytorch(buildZip(files, r.chance(0.5))) };
    }
    return syntheticPytorch(r);
  },
};

// ---- openCheckpoint: the shard index ---------------------------------------------------------

interface CkCtx {
  config: Uint8Array;
  index: { metadata: unknown; weight_map: Record<string, string> };
  shards: Map<string, Uint8Array>;
  /** A complete, valid model.safetensors: what an escaping shard name would find if it were opened. */
  whole: Uint8Array;
  dir: string;
  /** Paths FileSource.open was asked for (spied in this worker). */
  opened: string[];
}

const SHARD_NAMES: unknown[] = [
  '../x.safetensors', '..', '.', '', '/etc/passwd', '/abs/model.safetensors', 'C:\\x.safetensors', 'a\\b', 'sub/model-00001-of-00002.safetensors',
  './model-00001-of-00002.safetensors', 'model-00001-of-00002.safetensors/', '..\\..\\x', '%2e%2e%2fx', '%2e%2e', '\u0000', 'x\u0000y', '~/.ssh/id_rsa',
  'file:///etc/passwd', 'https://evil.invalid/x', ' model-00001-of-00002.safetensors', '..\u2215x', '\uff0e\uff0e\uff0fx', 'a'.repeat(10000), 'config.json',
  'model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin', 'NUL', 'missing.safetensors', '\ud800',
  1, 0, -1, 1e308, null, true, false, [], {}, ['model-00001-of-00002.safetensors'], { a: 'b' },
];

/** A plain file name inside the folder: what openCheckpoint may ask any ModelFiles for. */
const isPlainName = (s: unknown): boolean => typeof s === 'string' && s !== '' && s !== '.' && s !== '..' && !/[/\\]/.test(s);

const checkpointTarget: Target<CkCtx> = {
  name: 'checkpoint',
  errors: [WeightsError, ConfigError, IOError],
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), 'prott5-fuzz-ck-'));
    const shardDir = FIXTURE('t5-tiny-sharded');
    const index = JSON.parse(readFileSync(join(shardDir, 'model.safetensors.index.json'), 'utf8')) as CkCtx['index'];
    const shards = new Map<string, Uint8Array>();
    for (const s of new Set(Object.values(index.weight_map))) {
      shards.set(s, new Uint8Array(readFileSync(join(shardDir, s))));
      writeFileSync(join(dir, s), shards.get(s)!);
    }
    const config = new Uint8Array(readFileSync(join(shardDir, 'config.json')));
    writeFileSync(join(dir, 'config.json'), config);
    const opened: string[] = [];
    const realOpen = FileSource.open;
    FileSource.open = async (path: string) => {
      opened.push(resolve(path));
      return realOpen.call(FileSource, path);
    };
    return { config, index, shards, whole: new Uint8Array(readFileSync(FIXTURE('t5-tiny-f32', 'model.safetensors'))), dir, opened };
  },
  teardown(ctx) {
    rmSync(ctx.dir, { recursive: true, force: true });
  },
  make(ctx, r) {
    const kind = r.weighted({ values: 5, map: 1, keys: 1, text: 1, shard: 1 });
    const entries: Array<[string, string]> = Object.entries(ctx.index.weight_map).map(([k, v]) => [k, JSON.stringify(v)]);
    let weightMap: string | null = null;
    let indexText: string | null = null;
    const shards = new Map(ctx.shards);
    const nasty = (): string => {
      const v = r.pick(SHARD_NAMES);
      return r.chance(0.01) ? deepArray(r.int(1, 50000)) : JSON.stringify(v);
    };
    if (kind === 'values') {
      const all = r.chance(0.3);
      for (const e of entries) if (all || r.chance(0.2)) e[1] = nasty();
      if (r.chance(0.5)) { const e = r.pick(entries); e[1] = nasty(); }
    } else if (kind === 'map') {
      weightMap = r.pick(['null', '[]', '"x"', '1', 'true', '["../x.safetensors"]', '[null]', '{"__proto__":"../x"}', deepArray(r.int(1, 100000)), '{}']);
    } else if (kind === 'keys') {
      for (let n = r.int(1, 4); n > 0; n--) {
        const how = r.below(3);
        if (how === 0) entries.splice(r.below(entries.length), 1);
        else if (how === 1) entries.push([r.pick(['__proto__', 'constructor', 'decoder.x', 'unknown.weight', '', 'shared.weight']), JSON.stringify(r.pick([...ctx.shards.keys()]))]);
        else { const e = r.pick(entries); e[0] = r.pick(['__proto__', 'toString', e[0] + 'x']); }
      }
    } else if (kind === 'shard') {
      const name = r.pick([...ctx.shards.keys()]);
      const b = ctx.shards.get(name)!.slice();
      flip(r, b, r.int(1, 6), 8, 8 + Math.min(b.length - 8, 3000));
      shards.set(name, b);
    }
    const mapText = weightMap ?? '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
    indexText = `{"metadata":${JSON.stringify(ctx.index.metadata)},"weight_map":${mapText}}`;
    if (kind === 'text') {
      const b = enc.encode(indexText);
      const how = r.below(3);
      indexText = how === 0 ? dec.decode(splice(r, b, r.int(1, 6))) : how === 1 ? indexText.slice(0, r.below(indexText.length)) : r.pick(['null', '[]', '1', '""', '{}', deepArray(100000)]);
    }
    const onDisk = r.chance(0.2);
    const listed = new Set<string>();
    try {
      const m = (JSON.parse(indexText) as { weight_map?: unknown })?.weight_map;
      if (m && typeof m === 'object') for (const v of Object.values(m)) if (typeof v === 'string') listed.add(v);
    } catch {
      // not JSON: nothing listed
    }
    const label = `${kind}${onDisk ? ' (on disk)' : ''}: ${indexText.length > 300 ? indexText.slice(0, 140) + '…' + indexText.slice(-140) : indexText}`;
    return {
      label,
      run: async () => {
        const asked: string[] = [];
        let live = 0;
        let files: ModelFiles;
        if (onDisk) {
          writeFileSync(join(ctx.dir, 'model.safetensors.index.json'), indexText!);
          for (const [name, b] of shards) writeFileSync(join(ctx.dir, name), b);
          const inner = new DirectoryFiles(ctx.dir);
          files = { name: inner.name, open: (f) => { asked.push(f); return inner.open(f); } };
        } else {
          const served = new Map<string, Uint8Array>([['config.json', ctx.config], ['model.safetensors.index.json', enc.encode(indexText!)], ...shards]);
          files = {
            name: 'mem://model',
            // Permissive, like a ModelFiles over URLs: it serves a complete, valid checkpoint for any
            // other name it is asked for, so only openCheckpoint's own check keeps a bad name out.
            async open(f: string): Promise<ByteSource | null> {
              asked.push(f);
              if (f === 'model.safetensors' || f === 'pytorch_model.bin') return null;
              const b = served.get(f) ?? ctx.whole;
              const s = new MemorySource(`mem://model/${f}`, b);
              live++;
              let closed = false;
              return { name: s.name, size: s.size, read: (o, l) => s.read(o, l), close: async () => { if (!closed) { closed = true; live--; } } };
            },
          };
        }
        ctx.opened.length = 0;
        let err: unknown = null;
        try {
          const ck = await openCheckpoint(files);
          try {
            for (const t of ck.tensors.values()) {
              const b = await t.read();
              if (b.byteLength !== numel(t.shape) * DTYPE_BYTES[t.dtype]) violation(`tensor ${t.name}: ${b.byteLength} bytes`);
            }
          } finally {
            await ck.close();
          }
        } catch (e) {
          err = e;
        } finally {
          if (onDisk) for (const name of shards.keys()) writeFileSync(join(ctx.dir, name), ctx.shards.get(name)!);
        }
        for (const f of asked) {
          const top = ['config.json', 'model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin'].includes(f);
          if (!top && !(isPlainName(f) && listed.has(f))) violation(`openCheckpoint asked the ModelFiles for ${JSON.stringify(f.slice(0, 200))}`);
        }
        const inside = resolve(ctx.dir) + sep;
        for (const p of ctx.opened) if (!p.startsWith(inside)) violation(`a file outside the model folder was opened: ${p.slice(0, 200)}`);
        if (live !== 0) violation(`${live} sources left open`);
        if (err !== null) throw err;
      },
    };
  },
};

// ---- config ----------------------------------------------------------------------------------

interface CfgCtx { config: Record<string, unknown>; whole: Uint8Array }

const INT_FIELDS = ['d_model', 'd_ff', 'd_kv', 'num_heads', 'num_layers', 'vocab_size', 'relative_attention_num_buckets', 'relative_attention_max_distance'];
const OTHER_FIELDS = ['layer_norm_epsilon', 'feed_forward_proj', 'is_gated_act', 'model_type', 'dense_act_fn', 'hidden_size', 'num_attention_heads', 'num_hidden_layers', 'num_decoder_layers'];

/** A random JSON value (as text), biased to boundaries. */
function jsonValue(r: Rand, depth = 0): string {
  switch (r.below(depth > 2 ? 5 : 8)) {
    case 0: return r.pick(['0', '1', '2', '3', '4', '7', '8', '28', '31', '32', '64', '127', '128', '4096', '4097', '16777216', '16777217', '1048576', '1000000',
      '-1', '-0', '0.5', '1e-6', '1e308', '-1e308', '9007199254740993', '1e-320', '2.0', '1E2']);
    case 1: return r.pick(['"relu"', '"t5"', '""', '"32"', '"gated-gelu"', '"RELU"', '"mt5"', '"\\u0000"', '"1e-6"']);
    case 2: return r.pick(['null', 'true', 'false']);
    case 3: return r.pick(['{"toString":1}', '{"toString":"x"}', '{"valueOf":1,"toString":1}', '{"toJSON":1}', '{"__proto__":null}', '{"__proto__":{"toString":1}}']);
    case 4: return r.chance(0.5) ? deepArray(r.int(1, 200000)) : deepObject(r.int(1, 20000));
    case 5: return `[${Array.from({ length: r.below(3) }, () => jsonValue(r, depth + 1)).join(',')}]`;
    case 6: return `{${Array.from({ length: r.below(3) }, () => `${JSON.stringify(r.pick(['a', 'toString', 'valueOf', '__proto__']))}:${jsonValue(r, depth + 1)}`).join(',')}}`;
    default: return String(r.int(-5, 300));
  }
}

/** A successful parse must give numbers the engine can use. */
function checkConfig(c: ReturnType<typeof parseT5Config>): void {
  for (const k of INT_FIELDS) {
    const v = (c as unknown as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) violation(`config ${k} = ${String(v)}`);
  }
  if (!(c.layer_norm_epsilon > 0 && c.layer_norm_epsilon < 1)) violation(`layer_norm_epsilon ${c.layer_norm_epsilon}`);
}

const configTarget: Target<CfgCtx> = {
  name: 'config',
  // Loading runs the config through openCheckpoint, whose weight checks are WeightsErrors.
  errors: [ConfigError, WeightsError],
  async setup() {
    return {
      config: JSON.parse(readFileSync(FIXTURE('t5-tiny-f32', 'config.json'), 'utf8')) as Record<string, unknown>,
      whole: new Uint8Array(readFileSync(FIXTURE('t5-tiny-f32', 'model.safetensors'))),
    };
  },
  make(ctx, r) {
    const kind = r.weighted({ fields: 6, raw: 1, text: 1, load: 2 });
    const parts = new Map<string, string>(Object.entries(ctx.config).map(([k, v]) => [k, JSON.stringify(v)]));
    const changed: string[] = [];
    if (kind === 'fields' || kind === 'load') {
      for (const k of [...INT_FIELDS, ...OTHER_FIELDS]) {
        if (!r.chance(kind === 'load' ? 0.15 : 0.25)) continue;
        if (r.chance(0.15)) { parts.delete(k); changed.push(`-${k}`); continue; }
        const v = INT_FIELDS.includes(k) && r.chance(0.4) ? r.pick(['1', '2', '4', '8', '28', '64', '4096', '4097', '65536', '1048576', '16777216']) : jsonValue(r);
        parts.set(k, v);
        changed.push(`${k}=${v.length > 40 ? v.slice(0, 40) + '…' : v}`);
      }
    }
    let text = '{' + [...parts].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
    if (kind === 'raw') text = jsonValue(r);
    if (kind === 'text') text = dec.decode(splice(r, enc.encode(text), r.int(1, 6)));
    const label = `${kind}: ${kind === 'fields' || kind === 'load' ? changed.join(' ') || 'unchanged' : text.length > 200 ? text.slice(0, 200) + '…' : text}`;
    if (kind !== 'load') {
      return {
        label,
        run: async () => {
          let raw: unknown;
          try {
            raw = JSON.parse(text);
          } catch {
            return; // not JSON: readJson's concern (the load inputs cover it)
          }
          try {
            checkConfig(parseT5Config(raw, 'fuzz/config.json'));
          } catch (e) {
            if (e instanceof ProtT5Error && !(e instanceof ConfigError)) violation(`parseT5Config threw ${e.name}, not ConfigError: ${e.message}`);
            throw e;
          }
        },
      };
    }
    // Through openCheckpoint: config.json text as a file, next to valid f32 weights.
    return {
      label,
      run: async () => {
        const files: ModelFiles = {
          name: 'mem://cfg',
          async open(f) {
            if (f === 'config.json') return new MemorySource('mem://cfg/config.json', enc.encode(text));
            if (f === 'model.safetensors') return new MemorySource('mem://cfg/model.safetensors', ctx.whole);
            return null;
          },
        };
        const ck = await openCheckpoint<ReturnType<typeof parseT5Config>>(files);
        checkConfig(ck.config);
        await ck.close();
      },
    };
  },
};

// ---- FASTA -----------------------------------------------------------------------------------

interface FaCtx { text: string; sequences: string[] }

const RESIDUE_RE = new RegExp(`^[${FASTA_RESIDUES}]+$`);

/** Splits text or bytes into random chunks (never inside a UTF-16 surrogate pair of a string). */
function chunkify(r: Rand, input: string | Uint8Array): Array<string | Uint8Array> {
  const out: Array<string | Uint8Array> = [];
  const n = input.length;
  let i = 0;
  // Tiny chunks only for small inputs (real streams hand over kilobytes at a time).
  const mode = n > 100_000 ? 1 + r.below(2) : r.below(3);
  while (i < n) {
    let len = mode === 0 ? r.int(1, 4) : mode === 1 ? r.int(1, n > 100_000 ? 65536 : 200) : r.int(1, n + 1);
    if (typeof input === 'string') {
      const c = input.charCodeAt(i + len - 1);
      if (c >= 0xd800 && c < 0xdc00 && i + len < n) len++;
      out.push(input.slice(i, i + len));
    } else out.push(input.subarray(i, i + len));
    i += len;
  }
  if (r.chance(0.1)) out.splice(r.int(0, out.length + 1), 0, typeof input === 'string' ? '' : new Uint8Array(0));
  return out;
}

type Outcome = { records: FastaRecord[] } | { error: unknown };

/** parseFasta and readFasta over the same input must agree: same records, or the same SequenceError. */
async function checkFasta(r: Rand, input: string | Uint8Array, options: { maxHeaderLength?: number; maxSequenceLength?: number }): Promise<void> {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
  let whole: Outcome;
  try {
    whole = { records: parseFasta(text, 'fuzz.fasta', options) };
  } catch (error) {
    whole = { error };
  }
  let streamed: Outcome;
  const got: FastaRecord[] = [];
  try {
    for await (const rec of readFasta(chunkify(r, input), 'fuzz.fasta', options)) got.push(rec);
    streamed = { records: got };
  } catch (error) {
    streamed = { error };
  }
  for (const o of [whole, streamed]) if ('error' in o && !(o.error instanceof SequenceError)) throw o.error;
  if ('records' in whole) {
    const ids = new Set<string>();
    let line = 0;
    for (const rec of whole.records) {
      if (!RESIDUE_RE.test(rec.sequence)) violation(`record ${JSON.stringify(rec.id.slice(0, 80))} has sequence characters outside ${FASTA_RESIDUES}`);
      if (rec.id === '' || /\s/.test(rec.id) || ids.has(rec.id)) violation(`record id ${JSON.stringify(rec.id.slice(0, 80))} is empty, has whitespace or repeats`);
      if (!(rec.line > line)) violation(`record lines do not increase (${rec.line} after ${line})`);
      ids.add(rec.id);
      line = rec.line;
    }
  }
  if ('records' in whole !== 'records' in streamed) {
    violation(`parseFasta ${'records' in whole ? 'succeeded' : `failed (${(whole as { error: Error }).error.message.slice(0, 200)})`} but readFasta ${'records' in streamed ? 'succeeded' : `failed (${(streamed as { error: Error }).error.message.slice(0, 200)})`}`);
  }
  if ('records' in whole && 'records' in streamed) {
    const a = JSON.stringify(whole.records), b = JSON.stringify(streamed.records);
    if (a !== b) violation('parseFasta and readFasta give different records');
  } else if ('error' in whole && 'error' in streamed) {
    const a = (whole.error as Error).message, b = (streamed.error as Error).message;
    if (a !== b) violation(`parseFasta and readFasta fail differently: ${JSON.stringify(a.slice(0, 200))} vs ${JSON.stringify(b.slice(0, 200))}`);
    throw whole.error;
  }
}

const FASTA_PALETTE = ['A', 'c', 'G', 'x', 'J', '1', '>', '*', '-', '.', '\r', '\n', '\r\n', ' ', '\t', '\u0000', '\u0001', '\u007f', '\u00b5', '\ufeff', '\ud800', '\udc00',
  '\u{1F600}', '\u2028', '\u00a0', '>dup', '>P1 x\n', '**', ';comment', '\v', '\f'];

const fastaTarget: Target<FaCtx> = {
  name: 'fasta',
  errors: [SequenceError],
  async setup() {
    const cases = (JSON.parse(readFileSync(FIXTURE('cases.json'), 'utf8')) as { cases: Array<{ sequence: string }> }).cases;
    const sequences = cases.map((c) => c.sequence);
    const text = sequences.map((s, i) => `>P${i} protein ${i} OS=Test\n${s.match(/.{1,60}/g)!.join('\n')}\n`).join('');
    return { text, sequences };
  },
  make(ctx, r) {
    const kind = r.weighted({ junk: 1, nul: 1, huge: 0.4, mutate: 5, records: 2, bytes: 1 });
    const options = r.chance(0.1) ? { maxHeaderLength: r.pick([0, 1, 10, 100]), maxSequenceLength: r.pick([1, 5, 100, 1000]) } : {};
    const opt = Object.keys(options).length ? ` (limits ${JSON.stringify(options)})` : '';
    if (kind === 'junk') {
      let b = r.bytes(r.size(65536));
      if (r.chance(0.3)) b = concat(enc.encode('>junk\n'), b);
      return { label: `${b.length} random bytes${opt}`, run: () => checkFasta(r, b, options) };
    }
    if (kind === 'nul') {
      let t = ctx.text;
      const all = r.chance(0.1);
      if (all) t = '\u0000'.repeat(r.size(10000));
      else for (let n = r.int(1, 10); n > 0; n--) { const at = r.below(t.length + 1); t = t.slice(0, at) + '\u0000'.repeat(r.int(1, 4)) + t.slice(at); }
      return { label: `NUL bytes${all ? ' only' : ' inserted'}${opt}`, run: () => checkFasta(r, r.chance(0.5) ? t : enc.encode(t), options) };
    }
    if (kind === 'huge') {
      const how = r.below(4);
      const n = r.int(1 << 20, 3 << 19);
      const t = how === 0 ? `>big\n${'ACDEFGHIKL'.repeat(n / 10)}\n` // a long valid line
        : how === 1 ? `>${'h'.repeat(n)}\nMKV\n` // header over the limit
          : how === 2 ? `>x\n${'A'.repeat(n)}J\n` // a bad letter at the end of a long line
            : `>x\nMK\n${' '.repeat(n)}\n`; // a long whitespace line
      return { label: `huge line (${how}, ${n} characters)${opt}`, run: () => checkFasta(r, r.chance(0.5) ? t : enc.encode(t), options) };
    }
    if (kind === 'records') {
      const recs: string[] = [];
      for (let n = r.below(6); n > 0; n--) {
        const id = r.chance(0.8) ? `id${r.below(5)}` : r.pick(['', ' ', 'a b', '>', 'x'.repeat(200)]);
        const seq = r.chance(0.1) ? '' : Array.from({ length: r.size(300) }, () => r.pick([...FASTA_RESIDUES, ...'acgt-.* \t'])).join('');
        const eol = r.pick(['\n', '\r\n', '\r']);
        recs.push(`${r.chance(0.1) ? '  ' : ''}>${id}${r.chance(0.3) ? ' desc' : ''}${eol}${seq.match(/.{1,60}/g)?.join(eol) ?? ''}${eol}${r.chance(0.2) ? eol : ''}`);
      }
      const t = (r.chance(0.1) ? '\ufeff' : '') + recs.join('');
      return { label: `${recs.length} random records${opt}`, run: () => checkFasta(r, r.chance(0.5) ? t : enc.encode(t), options) };
    }
    if (kind === 'bytes') {
      const b = splice(r, enc.encode(ctx.text), r.int(1, 12));
      return { label: `byte edits of a valid FASTA${opt}`, run: () => checkFasta(r, b, options) };
    }
    let t = ctx.text;
    const n = r.int(1, 20);
    for (let k = 0; k < n; k++) {
      const at = r.below(t.length + 1);
      const how = r.below(4);
      if (how === 0) t = t.slice(0, at) + r.pick(FASTA_PALETTE) + t.slice(at);
      else if (how === 1) t = t.slice(0, at) + t.slice(at + r.int(1, 40));
      else if (how === 2) { const from = r.below(t.length), len = r.int(1, 200); t = t.slice(0, at) + t.slice(from, from + len) + t.slice(at); }
      else { const lines = t.split('\n'); const i = r.below(lines.length), j = r.below(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; t = lines.join('\n'); }
    }
    return { label: `${n} edits of a valid FASTA${opt}`, run: () => checkFasta(r, r.chance(0.7) ? t : enc.encode(t), options) };
  },
};

// ---------------------------------------------------------------------------------------------
// Running: a worker thread per target (restarted after a hang or an out-of-memory)

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const TARGETS: Record<string, Target<any>> = {
  safetensors: safetensorsTarget,
  checkpoint: checkpointTarget,
  pytorch: pytorchTarget,
  config: configTarget,
  fasta: fastaTarget,
};

export interface Crash {
  target: string;
  index: number;
  label: string;
  /** error: not a typed error; slow: over the per-input limit; hang: no progress, stopped; memory: over the heap limit. */
  kind: 'error' | 'slow' | 'hang' | 'memory' | 'worker';
  message: string;
  ms: number;
}

export interface FuzzReport {
  target: string;
  seed: number;
  /** Inputs run to an outcome (success, typed error or crash). */
  tried: number;
  succeeded: number;
  rejected: number;
  crashes: Crash[];
  /** Slowest input, ms. */
  slowest: number;
  ms: number;
}

export interface FuzzOptions {
  seed: number;
  /** Inputs per target (indices 0 .. iterations-1). */
  iterations: number;
  /** Run only this input index. */
  only?: number;
  /** An input running longer than this is a crash (default 3000 ms). */
  perInputMs?: number;
  /** A worker with no progress for this long is stopped; its input is a crash (default 30 s). */
  hangMs?: number;
  /** Heap limit of the worker (default 1024 MiB). */
  heapMb?: number;
  /** The module to start as the worker: the bundle that calls fuzzWorkerMain(). */
  workerUrl: URL;
  /** Called with each crash as it is found. */
  onCrash?: (c: Crash) => void;
}

interface WorkerJob { prott5Fuzz: { target: string; seed: number; indices: number[]; total: number; perInputMs: number } }
type FromWorker =
  | { t: 'start'; i: number; label: string }
  | { t: 'done'; i: number; outcome: 'ok' | 'rejected' | 'crash'; ms: number; kind?: Crash['kind']; message?: string }
  | { t: 'end' };

/** True in a worker started by fuzzTarget: then the bundle must call fuzzWorkerMain() and nothing else. */
export const isFuzzWorker = (): boolean => !isMainThread && typeof (workerData as Partial<WorkerJob> | null)?.prott5Fuzz === 'object';

/** The worker side: runs its slice of inputs, reporting each before and after. */
export async function fuzzWorkerMain(): Promise<void> {
  const job = (workerData as WorkerJob).prott5Fuzz;
  const port = parentPort!;
  const target = TARGETS[job.target];
  const ctx = await target.setup();
  try {
    for (const i of job.indices) {
      const r = new Rand(caseSeed(job.seed, job.target, i));
      let c: FuzzCase;
      try {
        c = target.make(ctx, r, i, job.total);
      } catch (e) {
        port.postMessage({ t: 'start', i, label: '(generator failed)' });
        port.postMessage({ t: 'done', i, outcome: 'crash', ms: 0, kind: 'error', message: `the generator itself failed: ${describeError(e)}` });
        continue;
      }
      port.postMessage({ t: 'start', i, label: c.label.length > 400 ? c.label.slice(0, 400) + '…' : c.label });
      const t0 = performance.now();
      let outcome: 'ok' | 'rejected' | 'crash' = 'ok';
      let message: string | undefined;
      let kind: Crash['kind'] | undefined;
      try {
        await c.run();
      } catch (e) {
        if (isAllowed(e, target.errors)) outcome = 'rejected';
        else { outcome = 'crash'; kind = 'error'; message = describeError(e); }
      }
      const ms = performance.now() - t0;
      if (outcome !== 'crash' && ms > job.perInputMs) { outcome = 'crash'; kind = 'slow'; message = `took ${ms.toFixed(0)} ms, over the ${job.perInputMs} ms limit`; }
      port.postMessage({ t: 'done', i, outcome, ms, kind, message });
    }
  } finally {
    target.teardown?.(ctx);
  }
  port.postMessage({ t: 'end' });
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const msg = e.message.length > 600 ? e.message.slice(0, 600) + '…' : e.message;
    const stack = (e.stack ?? '').split('\n').slice(1, 7).join('\n');
    return `${e.name}: ${msg}\n${stack}`;
  }
  return `non-Error thrown: ${String(e).slice(0, 300)}`;
}

/** Runs one target's inputs in worker threads; a hang or an out-of-memory stops the worker and the rest go on in a new one. */
export async function fuzzTarget(name: string, opts: FuzzOptions): Promise<FuzzReport> {
  if (!TARGETS[name]) throw new Error(`unknown fuzz target ${name} (targets: ${Object.keys(TARGETS).join(', ')})`);
  const perInputMs = opts.perInputMs ?? 3000, hangMs = opts.hangMs ?? 30000, heapMb = opts.heapMb ?? 1024;
  const report: FuzzReport = { target: name, seed: opts.seed, tried: 0, succeeded: 0, rejected: 0, crashes: [], slowest: 0, ms: 0 };
  const t0 = performance.now();
  let todo = opts.only !== undefined ? [opts.only] : Array.from({ length: opts.iterations }, (_, i) => i);
  const crash = (c: Crash) => { report.crashes.push(c); opts.onCrash?.(c); };
  while (todo.length) {
    const job: WorkerJob = { prott5Fuzz: { target: name, seed: opts.seed, indices: todo, total: opts.iterations, perInputMs } };
    const done = new Set<number>();
    let current: { i: number; label: string; at: number } | null = null;
    await new Promise<void>((resolveRun) => {
      const w = new Worker(opts.workerUrl, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapMb }, stdout: false, stderr: false });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        resolveRun();
      };
      const timer = setInterval(() => {
        if (current && performance.now() - current.at > hangMs) {
          crash({ target: name, index: current.i, label: current.label, kind: 'hang', message: `no result after ${hangMs} ms: stopped`, ms: performance.now() - current.at });
          done.add(current.i);
          report.tried++;
          current = null;
          void w.terminate().then(finish);
        }
      }, 200);
      w.on('message', (m: FromWorker) => {
        if (m.t === 'start') current = { i: m.i, label: m.label, at: performance.now() };
        else if (m.t === 'done') {
          done.add(m.i);
          report.tried++;
          report.slowest = Math.max(report.slowest, m.ms);
          if (m.outcome === 'ok') report.succeeded++;
          else if (m.outcome === 'rejected') report.rejected++;
          else crash({ target: name, index: m.i, label: current?.label ?? '', kind: m.kind ?? 'error', message: m.message ?? '', ms: m.ms });
          current = null;
        }
      });
      w.on('error', (e: Error & { code?: string }) => {
        const i = current?.i ?? -1;
        const kind: Crash['kind'] = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'worker';
        crash({ target: name, index: i, label: current?.label ?? '(between inputs)', kind, message: describeError(e), ms: current ? performance.now() - current.at : 0 });
        if (current) { done.add(current.i); report.tried++; }
        else if (!done.size) todo = []; // fails before any input: do not loop
        current = null;
      });
      w.on('exit', finish);
    });
    todo = todo.filter((i) => !done.has(i));
  }
  report.ms = performance.now() - t0;
  return report;
}

/** `fuzz: safetensors 2000 inputs, 0 crashes (...)` */
export function summary(r: FuzzReport): string {
  return `fuzz: ${r.target} ${r.tried} inputs, ${r.crashes.length} crashes (${r.succeeded} parsed, ${r.rejected} typed errors; slowest ${r.slowest.toFixed(0)} ms; ${(r.ms / 1000).toFixed(1)} s)`;
}

export function describeCrash(c: Crash, seed: number, iterations: number): string {
  return `${c.target} #${c.index} [${c.kind}] ${c.label}\n    ${c.message.split('\n').join('\n    ')}\n` +
    `    reproduce: node build/scripts/fuzz.js --target ${c.target} --seed ${seed} --iterations ${iterations} --only ${c.index}`;
}
