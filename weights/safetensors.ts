// safetensors: 8-byte little-endian header length N, N bytes of JSON
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }, then the data.
// Offsets are relative to the end of the header. We read the header, validate every entry,
// and read each tensor's bytes only when asked (one tensor in memory at a time).
import { WeightsError } from '../src/errors.js';
import { describeValue } from './describe.js';
import type { ByteSource } from './source.js';
import { type TensorEntry } from './tensor-entry.js';
import { DTYPE_BYTES, type DType, numel } from '../src/gpu/dtype.js';

/** Headers larger than this are refused before reading (real ones are tens of KB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsFile {
  readonly source: ByteSource;
  readonly tensors: TensorEntry[];
  /** dtypes present in the file that the engine does not read (e.g. I64), by tensor name. */
  readonly unsupported: Map<string, string>;
  readonly metadata: Record<string, string>;
}

export async function readSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const file = source.name;
  const fail = (msg: string, tensor?: string): never => {
    throw new WeightsError(`${file}${tensor ? `: tensor "${tensor}"` : ''}: ${msg}`, { file, tensor });
  };
  if (source.size < 8) fail(`too small to be a safetensors file (${source.size} bytes)`);
  const lenBytes = await source.read(0, 8);
  const lenBig = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (lenBig > BigInt(MAX_HEADER_BYTES)) fail(`header length ${lenBig} is larger than the limit of ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(lenBig);
  if (8 + headerLen > source.size) fail(`header length ${headerLen} runs past the end of the file (${source.size} bytes)`);
  const headerBytes = await source.read(8, headerLen);
  let header: unknown;
  let headerText = '';
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    header = JSON.parse(headerText);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  // JSON.parse keeps the last of two equal keys: a tensor named twice would silently be the second.
  const twice = duplicateKey(headerText);
  if (twice !== null) fail('appears twice in the header', twice);
  const dataStart = 8 + headerLen;
  const dataLen = source.size - dataStart;
  const tensors: TensorEntry[] = [];
  const unsupported = new Map<string, string>();
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      // As the reference reader: absent, null, or an object of strings.
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) fail(`__metadata__ ${describeValue(raw)} is not an object of strings`);
      for (const [k, v] of Object.entries(raw as object)) {
        if (typeof v !== 'string') fail(`__metadata__ entry ${describeValue(k)} is ${describeValue(v)}, not a string`);
      }
      metadata = Object.fromEntries(Object.entries(raw as object)) as Record<string, string>;
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail('entry is not an object', name);
    const { dtype, shape, data_offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') return fail('has no dtype', name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape ${describeValue(shape)} is not a list of non-negative integers`, name);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`data_offsets ${describeValue(data_offsets)} are not two non-negative integers`, name);
    }
    const [begin, end] = data_offsets as [number, number];
    if (end < begin || end > dataLen) fail(`data_offsets [${begin}, ${end}] are outside the data section (${dataLen} bytes)`, name);
    ranges.push([begin, end, name]);
    // hasOwn, not `in`: "toString" or "__proto__" as a dtype must not find Object.prototype.
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
      unsupported.set(name, dtype);
      continue;
    }
    const dims = shape as number[];
    const count = numel(dims);
    const bytes = count * DTYPE_BYTES[dtype as DType];
    if (!Number.isSafeInteger(bytes)) fail(`shape ${describeValue(dims)} is too large`, name);
    if (end - begin !== bytes) fail(`holds ${end - begin} bytes but ${dtype} ${describeValue(dims, 200)} needs ${bytes}`, name);
    tensors.push({
      name,
      dtype: dtype as DType,
      shape: dims,
      file,
      read: () => source.read(dataStart + begin, bytes),
      readRange: (start: number, length: number) => source.read(dataStart + begin + start, length),
    });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`data of "${ranges[i][2]}" overlaps "${ranges[i - 1][2]}"`);
  }
  return { source, tensors, unsupported, metadata };
}

/**
 * The first top-level key of a JSON object text that occurs twice (compared after unescaping),
 * or null. `text` must be valid JSON holding an object (JSON.parse accepted it).
 */
function duplicateKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth !== 1) continue;
      // Inside the top-level object, a string followed by ':' is one of its keys.
      let j = i + 1;
      while (j < text.length && /[ \t\n\r]/.test(text[j])) j++;
      if (text.charCodeAt(j) !== 0x3a /* : */) continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return null;
}

/**
 * Serialises tensors into safetensors bytes, in the order given. Used for outputs (embeddings)
 * and conversion; writers that stream to disk call `safetensorsHeader` and append the data.
 */
export function safetensorsHeader(
  tensors: ReadonlyArray<{ name: string; dtype: DType; shape: readonly number[] }>,
  metadata?: Record<string, string>,
): { header: Uint8Array; offsets: number[]; dataBytes: number } {
  const obj: Record<string, unknown> = {};
  if (metadata) obj.__metadata__ = metadata;
  const offsets: number[] = [];
  let off = 0;
  for (const t of tensors) {
    const n = numel(t.shape) * DTYPE_BYTES[t.dtype];
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    offsets.push(off);
    off += n;
  }
  let json = JSON.stringify(obj);
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const header = new Uint8Array(8 + text.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  header.set(text, 8);
  return { header, offsets, dataBytes: off };
}

/** Whole safetensors file in memory: header + data, tensors given as bytes in their dtype. */
export function encodeSafetensors(
  tensors: ReadonlyArray<{ name: string; dtype: DType; shape: readonly number[]; data: ArrayBufferView }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, offsets, dataBytes } = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(header.byteLength + dataBytes);
  out.set(header, 0);
  tensors.forEach((t, i) => {
    const expect = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expect) throw new WeightsError(`tensor "${t.name}": ${t.data.byteLength} bytes given, ${t.dtype} ${JSON.stringify(t.shape)} needs ${expect}`);
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), header.byteLength + offsets[i]);
  });
  return out;
}
