/**
 * float16 datasets in HDF5 (`--half`), which h5wasm 0.10.3 cannot make ("Float size not
 * supported": its C side knows 4- and 8-byte floats only). Each float16 dataset of shape
 * [..., w] is written by h5wasm as a float32 *container* of shape [..., w/2] holding the
 * float16 bytes (the same storage size), then its object header is patched once the file is
 * closed: the datatype message becomes IEEE float16 (the same 20-byte message, other fields),
 * the dataspace's last dimension (and its maximum) doubles, and the header chunk's checksum
 * (Jenkins lookup3, as HDF5 computes it) is written again. The patch is one write per dataset
 * and idempotent: a header already float16 is left alone, so a run killed while patching is
 * patched again by --resume. The header address comes from h5wasm's object reference (the
 * HDF5 1.8 kind: the header's file address). Only v2 object headers ("OHDR", what h5wasm
 * writes) are patched; anything else is an IOError.
 *
 * Reading: h5wasm cannot read float16 values either; readHalfDataset reads the raw bytes.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { IOError } from '../errors.js';
import { f16ToNumber, numberToF16 } from '../gpu/dtype.js';

/** float32's datatype message (version 1, IEEE little-endian, sign bit 31, 8-bit exponent at 23, bias 127). */
const F32_TYPE = [0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0];
/** float16's (sign bit 15, 5-bit exponent at 10, 10-bit mantissa, bias 15): what h5py writes for numpy float16. */
const F16_TYPE = [0x11, 0x20, 0x0f, 0x00, 2, 0, 0, 0, 0, 0, 16, 0, 10, 5, 0, 10, 15, 0, 0, 0];

/** The float32 container of float16 values: the values' bytes as float32s (the last dimension halved). */
export function halfContainer(values: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const last = shape[shape.length - 1];
  if (last % 2 !== 0) throw new IOError(`float16 output needs an even last dimension, got [${shape.join(', ')}]`, { shape });
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = numberToF16(values[i]);
  return { data: new Float32Array(half.buffer), shape: [...shape.slice(0, -1), last / 2] };
}

/** The float32 values of float16 bytes. */
export function halfToFloat32(bytes: Uint8Array): Float32Array {
  const h = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16ToNumber(h[i]);
  return out;
}

/** Bob Jenkins' lookup3 hashlittle, byte by byte, as HDF5's H5_checksum_lookup3 (initval 0). */
export function lookup3(k: Uint8Array, initval = 0): number {
  const rot = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;
  let length = k.length;
  let a = (0xdeadbeef + length + initval) >>> 0, b = a, c = a;
  let o = 0;
  while (length > 12) {
    a = (a + (k[o] | (k[o + 1] << 8) | (k[o + 2] << 16) | (k[o + 3] << 24))) >>> 0;
    b = (b + (k[o + 4] | (k[o + 5] << 8) | (k[o + 6] << 16) | (k[o + 7] << 24))) >>> 0;
    c = (c + (k[o + 8] | (k[o + 9] << 8) | (k[o + 10] << 16) | (k[o + 11] << 24))) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c;
  const tail = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < length; i++) tail[i] = k[o + i];
  a = (a + (tail[0] | (tail[1] << 8) | (tail[2] << 16) | (tail[3] << 24))) >>> 0;
  b = (b + (tail[4] | (tail[5] << 8) | (tail[6] << 16) | (tail[7] << 24))) >>> 0;
  c = (c + (tail[8] | (tail[9] << 8) | (tail[10] << 16) | (tail[11] << 24))) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

const same = (a: Uint8Array, at: number, b: readonly number[]) => b.every((v, i) => a[at + i] === v);

/**
 * Patches the dataset whose object header is at `address` in `fd` from a float32 container to
 * float16: 'patched', or 'already' when it is float16 already.
 */
function patchHeader(fd: number, address: number, where: string): 'patched' | 'already' {
  const fail = (why: string) => new IOError(`${where}: cannot make it float16: ${why}`, { dataset: where, address });
  const head = Buffer.alloc(64);
  readSync(fd, head, 0, head.length, address);
  if (head.toString('latin1', 0, 4) !== 'OHDR' || head[4] !== 2) throw fail('not a version 2 object header');
  const flags = head[5];
  let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
  const sizeBytes = 1 << (flags & 3);
  let size = 0;
  for (let i = 0; i < sizeBytes; i++) size += head[p + i] * 2 ** (8 * i);
  p += sizeBytes;
  const total = p + size + 4;
  const chunk = Buffer.alloc(total);
  readSync(fd, chunk, 0, total, address);
  if (lookup3(chunk.subarray(0, total - 4)) !== chunk.readUInt32LE(total - 4)) throw fail('its header checksum does not match');
  let dataspace = -1, datatype = -1;
  for (let q = p; q + 4 <= p + size; ) {
    const type = chunk[q], len = chunk.readUInt16LE(q + 1), mflags = chunk[q + 3];
    const data = q + 4 + (flags & 0x04 ? 2 : 0);
    if (type === 1 && dataspace < 0) dataspace = data;
    if (type === 3 && datatype < 0) datatype = data;
    q = data + len;
    void mflags;
  }
  if (datatype < 0 || dataspace < 0) throw fail('no datatype or dataspace message in its first header chunk');
  if (same(chunk, datatype, F16_TYPE)) return 'already';
  if (!same(chunk, datatype, F32_TYPE)) throw fail('it is not a float32 container');
  // Dataspace message version 2: version, rank, flags (bit 0: maximum dimensions follow), type; then 8-byte sizes.
  const version = chunk[dataspace], rank = chunk[dataspace + 1], dsFlags = chunk[dataspace + 2];
  if (version !== 2 || rank < 1) throw fail(`dataspace message version ${version}, rank ${rank}`);
  const dims = dataspace + 4;
  const lastAt = [dims + 8 * (rank - 1), ...(dsFlags & 1 ? [dims + 8 * (2 * rank - 1)] : [])];
  for (const at of lastAt) chunk.writeBigUInt64LE(chunk.readBigUInt64LE(at) * 2n, at);
  Buffer.from(F16_TYPE).copy(chunk, datatype);
  chunk.writeUInt32LE(lookup3(chunk.subarray(0, total - 4)), total - 4);
  // One write: a kill leaves the header as it was or as it becomes (a page-cache write of a few hundred bytes).
  writeSync(fd, chunk, 0, total, address);
  return 'patched';
}

/** Patches each dataset header address (closed file) to float16; the number patched. */
export function patchToHalf(path: string, headers: ReadonlyArray<{ dataset: string; address: number }>): number {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    throw new IOError(`cannot open ${path} to write its float16 types: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  let n = 0;
  try {
    for (const h of headers) if (patchHeader(fd, h.address, `${path}: ${h.dataset}`) === 'patched') n++;
  } finally {
    closeSync(fd);
  }
  return n;
}
