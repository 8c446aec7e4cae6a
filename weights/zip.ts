// A minimal zip reader over a ByteSource, enough for torch.save archives: it reads the central
// directory (ZIP64 included), locates an entry's data through its local header, and reads small
// stored entries whole with a CRC-32 check. Large entries are never read here: callers read the
// ranges they need from `dataOffset(entry)` on. Only stored (method 0) entries can be read.
import { WeightsError } from '../src/errors.js';
import type { ByteSource } from './source.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate, ... */
  readonly method: number;
  readonly flags: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  readonly crc32: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
/** Central directories larger than this are refused (a torch checkpoint's is a few tens of KB). */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

// ---- CRC-32 (IEEE 802.3, reflected, as zip uses) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`; pass a previous result as `crc` to continue over several chunks. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- the archive ----

export class ZipArchive {
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
  private readonly byName: Map<string, ZipEntry>;
  private readonly dataOffsets = new Map<ZipEntry, Promise<number>>();

  private constructor(readonly source: ByteSource, entries: ZipEntry[]) {
    this.entries = entries;
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Reads the central directory of `source`. Throws WeightsError if it is not a readable zip. */
  static async open(source: ByteSource): Promise<ZipArchive> {
    return new ZipArchive(source, await readCentralDirectory(source));
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * Offset in the source of the entry's (stored) data, from its local file header
   * (30 bytes + name + extra field, which torch uses to pad data to 64-byte alignment).
   */
  dataOffset(entry: ZipEntry): Promise<number> {
    let p = this.dataOffsets.get(entry);
    if (!p) {
      p = this.readLocalHeader(entry);
      this.dataOffsets.set(entry, p);
      p.catch(() => this.dataOffsets.delete(entry)); // let a failed read be retried
    }
    return p;
  }

  /** Throws WeightsError unless the entry's bytes are stored as-is (torch.save never compresses). */
  assertStored(entry: ZipEntry): void {
    const { source } = this;
    if (entry.flags & 1) fail(source, `zip entry "${entry.name}" is encrypted`, entry.name);
    if (entry.method !== 0) {
      fail(source, `zip entry "${entry.name}" is compressed (method ${entry.method}); only stored entries (method 0, as torch.save writes) can be read`, entry.name);
    }
    if (entry.compressedSize !== entry.uncompressedSize) {
      fail(source, `zip entry "${entry.name}" is stored but its sizes differ (${entry.compressedSize} vs ${entry.uncompressedSize})`, entry.name);
    }
  }

  /** The whole (stored) entry, its CRC-32 checked. For small entries only: `maxBytes` bounds it. */
  async readEntry(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    this.assertStored(entry);
    if (entry.uncompressedSize > maxBytes) {
      fail(this.source, `zip entry "${entry.name}" is ${entry.uncompressedSize} bytes, more than the limit of ${maxBytes}`, entry.name);
    }
    const offset = await this.dataOffset(entry);
    const bytes = await this.source.read(offset, entry.uncompressedSize);
    const crc = crc32(bytes);
    if (crc !== entry.crc32) {
      fail(this.source, `zip entry "${entry.name}" fails its CRC-32 check (stored ${hex32(entry.crc32)}, computed ${hex32(crc)}): the file is corrupt`, entry.name);
    }
    return bytes;
  }

  private async readLocalHeader(entry: ZipEntry): Promise<number> {
    const { source } = this;
    const nameBytes = utf8.encode(entry.name).length;
    const off = entry.localHeaderOffset;
    if (off + LOCAL_SIZE + nameBytes > source.size) {
      fail(source, `zip entry "${entry.name}": local header at ${off} runs past the end of the file (${source.size} bytes)`, entry.name);
    }
    const b = await source.read(off, LOCAL_SIZE + nameBytes);
    const dv = view(b);
    if (dv.getUint32(0, true) !== SIG_LOCAL) fail(source, `zip entry "${entry.name}": no local file header signature at offset ${off}`, entry.name);
    const nameLen = dv.getUint16(26, true);
    const extraLen = dv.getUint16(28, true);
    if (nameLen !== nameBytes || utf8Decode(b.subarray(LOCAL_SIZE)) !== entry.name) {
      fail(source, `zip entry "${entry.name}": the local header at offset ${off} names a different entry`, entry.name);
    }
    const dataOffset = off + LOCAL_SIZE + nameLen + extraLen;
    if (dataOffset + entry.compressedSize > source.size) {
      fail(source, `zip entry "${entry.name}": its ${entry.compressedSize} bytes at offset ${dataOffset} run past the end of the file (${source.size} bytes)`, entry.name);
    }
    return dataOffset;
  }
}

// ---- central directory ----

async function readCentralDirectory(source: ByteSource): Promise<ZipEntry[]> {
  const size = source.size;
  if (size < EOCD_SIZE) fail(source, `too small to be a zip file (${size} bytes)`);
  // The EOCD record is the last 22 bytes plus a comment of up to 64 KiB.
  const tailStart = Math.max(0, size - EOCD_SIZE - MAX_COMMENT);
  const tail = await source.read(tailStart, size - tailStart);
  const tv = view(tail);
  let eocd = -1;
  let loose = -1; // a signature whose comment does not end exactly at the end of the file
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) !== SIG_EOCD) continue;
    const commentLen = tv.getUint16(i + 20, true);
    if (i + EOCD_SIZE + commentLen === tail.length) { eocd = i; break; }
    if (loose < 0 && i + EOCD_SIZE + commentLen <= tail.length) loose = i;
  }
  if (eocd < 0) eocd = loose;
  if (eocd < 0) fail(source, 'no zip end-of-central-directory record: not a zip file, or truncated');
  const eocdPos = tailStart + eocd;
  const disk = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  let cdEnd = eocdPos; // the central directory must end before the (zip64) EOCD records

  // ZIP64: a locator right before the EOCD points to the zip64 EOCD record with 64-bit fields.
  const loc = eocdPos - ZIP64_LOCATOR_SIZE;
  let lv: DataView | null = null;
  if (loc >= 0) {
    const lb = loc >= tailStart ? tail.subarray(loc - tailStart, eocd) : await source.read(loc, ZIP64_LOCATOR_SIZE);
    if (view(lb).getUint32(0, true) === SIG_ZIP64_LOCATOR) lv = view(lb);
  }
  if (lv) {
    if (lv.getUint32(4, true) !== 0 || lv.getUint32(16, true) > 1) fail(source, 'multi-disk zip archives are not supported');
    const z64 = u64(source, lv, 8, 'zip64 end-of-central-directory offset');
    if (z64 + ZIP64_EOCD_SIZE > loc) fail(source, `zip64 end-of-central-directory record at ${z64} is outside the file`);
    const rv = view(await source.read(z64, ZIP64_EOCD_SIZE));
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) fail(source, `no zip64 end-of-central-directory signature at offset ${z64}`);
    if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) fail(source, 'multi-disk zip archives are not supported');
    count = u64(source, rv, 32, 'zip64 entry count');
    cdSize = u64(source, rv, 40, 'zip64 central directory size');
    cdOffset = u64(source, rv, 48, 'zip64 central directory offset');
    cdEnd = z64;
  } else {
    if (disk !== 0 || cdDisk !== 0) fail(source, 'multi-disk zip archives are not supported');
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      fail(source, 'the zip end-of-central-directory record needs ZIP64 fields, but there is no zip64 locator: truncated or corrupt');
    }
  }
  if (cdOffset + cdSize > cdEnd) fail(source, `central directory (${cdSize} bytes at offset ${cdOffset}) is outside the file: truncated or corrupt`);
  if (cdSize > MAX_CENTRAL_DIRECTORY) fail(source, `central directory of ${cdSize} bytes is larger than the limit of ${MAX_CENTRAL_DIRECTORY}`);
  if (count * CENTRAL_SIZE > cdSize) fail(source, `central directory of ${cdSize} bytes cannot hold ${count} entries`);

  const cd = await source.read(cdOffset, cdSize);
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || cv.getUint32(p, true) !== SIG_CENTRAL) {
      fail(source, `bad central directory entry ${i} at offset ${cdOffset + p}`);
    }
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let uncompressedSize = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    const diskStart = cv.getUint16(p + 34, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cd.length) fail(source, `central directory entry ${i} at offset ${cdOffset + p} runs past the directory`);
    const name = utf8Decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));

    // ZIP64 extra field (id 1): 64-bit values for exactly those fields set to 0xffffffff, in this order.
    const needUnc = uncompressedSize === 0xffffffff, needComp = compressedSize === 0xffffffff;
    const needOff = localHeaderOffset === 0xffffffff;
    if (needUnc || needComp || needOff) {
      let found = false;
      for (let x = p + CENTRAL_SIZE + nameLen, xEnd = x + extraLen; x + 4 <= xEnd;) {
        const id = cv.getUint16(x, true), len = cv.getUint16(x + 2, true);
        if (x + 4 + len > xEnd) break;
        if (id === 1) {
          let q = x + 4;
          const take = (what: string): number => {
            if (q + 8 > x + 4 + len) fail(source, `zip entry "${name}": zip64 extra field is too short for its ${what}`, name);
            const v = u64(source, cv, q, `zip entry "${name}" ${what}`);
            q += 8;
            return v;
          };
          if (needUnc) uncompressedSize = take('uncompressed size');
          if (needComp) compressedSize = take('compressed size');
          if (needOff) localHeaderOffset = take('local header offset');
          found = true;
          break;
        }
        x += 4 + len;
      }
      if (!found) fail(source, `zip entry "${name}" has 32-bit fields set to 0xffffffff but no zip64 extra field`, name);
    }
    if (diskStart !== 0 && diskStart !== 0xffff) fail(source, 'multi-disk zip archives are not supported');
    if (localHeaderOffset + LOCAL_SIZE + nameLen + compressedSize > cdOffset) {
      fail(source, `zip entry "${name}" (${compressedSize} bytes, local header at ${localHeaderOffset}) points outside the file's data`, name);
    }
    if (seen.has(name)) fail(source, `zip entry "${name}" appears twice`, name);
    seen.add(name);
    entries.push({ name, method, flags, compressedSize, uncompressedSize, localHeaderOffset, crc32: crc });
    p = next;
  }
  return entries;
}

// ---- helpers ----

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');
const utf8Decode = (b: Uint8Array): string => utf8Decoder.decode(b);
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function u64(source: ByteSource, dv: DataView, at: number, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(source, `${what} ${v} is too large`);
  return Number(v);
}

function fail(source: ByteSource, msg: string, entry?: string): never {
  throw new WeightsError(`${source.name}: ${msg}`, entry ? { file: source.name, entry } : { file: source.name });
}
