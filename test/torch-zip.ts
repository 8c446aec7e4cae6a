// torch.save-shaped zips and pickles assembled by hand, for the PyTorch reader's and convert's
// tests: in memory (buildZip), or streamed to a file with ZIP64 records where sizes or offsets
// pass 4 GiB (writeTorchZipFile), entries of zeros left as holes so a 4 GiB file stays sparse.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { crc32 } from '../weights/zip.js';

/** Little-endian byte writer. */
export class Bytes {
  private out: number[] = [];
  get length(): number { return this.out.length; }
  u8(...v: number[]): this { for (const b of v) this.out.push(b & 0xff); return this; }
  u16(v: number): this { return this.u8(v, v >> 8); }
  u32(v: number): this { return this.u8(v, v >> 8, v >> 16, v >>> 24); }
  u64(v: number): this { return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32)); }
  bytes(b: Uint8Array): this { for (const x of b) this.out.push(x); return this; }
  text(s: string): this { return this.bytes(new TextEncoder().encode(s)); }
  done(): Uint8Array { return Uint8Array.from(this.out); }
}

export interface ZipFile { name: string; data: Uint8Array; method?: number; crc?: number }

/**
 * A zip as torch.save lays it out: stored entries, local extra fields padding data to 64 bytes.
 * `zip64` writes 0xffffffff in the 32-bit fields, a zip64 extra per entry and the zip64 records.
 */
export function buildZip(files: ZipFile[], opts: { zip64?: boolean; comment?: string } = {}): Uint8Array {
  const w = new Bytes();
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(w.length);
    const name = new TextEncoder().encode(f.name);
    const pad = (64 - ((w.length + 30 + name.length + 4) % 64)) % 64;
    w.u32(0x04034b50).u16(20).u16(0).u16(f.method ?? 0).u16(0).u16(0)
      .u32(f.crc ?? crc32(f.data)).u32(f.data.length).u32(f.data.length).u16(name.length).u16(4 + pad)
      .bytes(name).u16(0x4246).u16(pad).bytes(new Uint8Array(pad).fill(0x5a)).bytes(f.data);
  }
  const cdOffset = w.length;
  files.forEach((f, i) => {
    const name = new TextEncoder().encode(f.name);
    const z = opts.zip64;
    w.u32(0x02014b50).u16(0x031e).u16(z ? 45 : 20).u16(0).u16(f.method ?? 0).u16(0).u16(0)
      .u32(f.crc ?? crc32(f.data)).u32(z ? 0xffffffff : f.data.length).u32(z ? 0xffffffff : f.data.length)
      .u16(name.length).u16(z ? 28 : 0).u16(0).u16(0).u16(0).u32(0).u32(z ? 0xffffffff : offsets[i]).bytes(name);
    if (z) w.u16(1).u16(24).u64(f.data.length).u64(f.data.length).u64(offsets[i]);
  });
  const cdSize = w.length - cdOffset;
  const comment = new TextEncoder().encode(opts.comment ?? '');
  if (opts.zip64) {
    const z64 = w.length;
    w.u32(0x06064b50).u64(44).u16(0x031e).u16(45).u32(0).u32(0).u64(files.length).u64(files.length).u64(cdSize).u64(cdOffset);
    w.u32(0x07064b50).u32(0).u64(z64).u32(1);
    w.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(comment.length).bytes(comment);
  } else {
    w.u32(0x06054b50).u16(0).u16(0).u16(files.length).u16(files.length).u32(cdSize).u32(cdOffset).u16(comment.length).bytes(comment);
  }
  return w.done();
}

/** Hand-assembled protocol-2 pickle opcodes. */
export class Pickle {
  private w = new Bytes();
  op(...b: number[]): this { this.w.u8(...b); return this; }
  proto(): this { return this.op(0x80, 2); }
  global(module: string, name: string): this { this.op(0x63); this.w.text(`${module}\n${name}\n`); return this; }
  str(s: string): this { const b = new TextEncoder().encode(s); this.op(0x58); this.w.u32(b.length).bytes(b); return this; }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) { this.op(0x4d); this.w.u16(n); return this; }
    if (n >= 0 && n < 2 ** 31) { this.op(0x4a); this.w.u32(n >>> 0); return this; }
    if (n >= 2 ** 31 && Number.isSafeInteger(n)) { this.op(0x8a, 8); this.w.u64(n); return this; } // LONG1, 8 bytes
    this.op(0x4a); this.w.u32(n >>> 0); return this;
  }
  ints(v: number[]): this { this.mark(); for (const x of v) this.int(x); return this.op(0x74); }
  mark(): this { return this.op(0x28); }
  put(i: number): this { return this.op(0x71, i); }
  get(i: number): this { return this.op(0x68, i); }
  done(): Uint8Array { return this.w.done(); }
}

export interface T { name: string; type?: string; key: string; numel: number; offset?: number; size: number[]; stride?: number[] }

export const rowMajor = (size: number[]): number[] => {
  const s = new Array<number>(size.length);
  for (let d = size.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= size[d]; }
  return s;
};

/** What torch.save writes for an OrderedDict of tensors (memo use included). `extra` adds items. */
export function statePickle(tensors: T[], extra?: (p: Pickle) => void, build?: (p: Pickle) => void): Uint8Array {
  const p = new Pickle().proto().global('collections', 'OrderedDict').put(0).op(0x29, 0x52).put(1).mark();
  for (const t of tensors) {
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').mark()
      .mark().str('storage').global('torch', t.type ?? 'FloatStorage').str(t.key).str('cpu').int(t.numel).op(0x74)
      .op(0x51) // BINPERSID
      .int(t.offset ?? 0).ints(t.size).ints(t.stride ?? rowMajor(t.size))
      .op(0x89).get(0).op(0x29, 0x52) // requires_grad False, backward_hooks OrderedDict()
      .op(0x74, 0x52); // TUPLE, REDUCE
  }
  extra?.(p);
  p.op(0x75); // SETITEMS
  build?.(p);
  return p.op(0x2e).done();
}

/** An entry of a zip written to a file: bytes, or `zeros` bytes of zeros (a hole, not written). */
export interface FileZipEntry { name: string; data?: Uint8Array; zeros?: number }

const FFFF = 0xffffffff;

/**
 * Writes a torch.save-style zip of stored entries to `path`, one entry at a time (nothing but
 * the current entry's bytes in memory). Local headers are padded so data starts on 64 bytes,
 * as torch does; a size or offset ≥ 4 GiB gets 0xffffffff and a ZIP64 extra field, and the
 * archive ends with the ZIP64 end records. Zero entries are skipped over (the file is
 * extended with ftruncate), so the file is sparse; their CRC-32 is left 0 (the reader checks
 * CRCs only of the small entries it reads whole).
 */
export function writeTorchZipFile(path: string, entries: FileZipEntry[]): void {
  const fd = openSync(path, 'w');
  let pos = 0;
  const put = (b: Uint8Array) => {
    writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
  };
  try {
    const dir: Array<{ name: Uint8Array; size: number; crc: number; offset: number }> = [];
    for (const e of entries) {
      const name = new TextEncoder().encode(e.name);
      const size = e.data?.length ?? e.zeros ?? 0;
      const crc = e.data ? crc32(e.data) : 0;
      const big = size >= FFFF;
      const z64 = big ? 20 : 0;
      const pad = (64 - ((pos + 30 + name.length + z64 + 4) % 64)) % 64;
      const h = new Bytes().u32(0x04034b50).u16(big ? 45 : 20).u16(0).u16(0).u16(0).u16(0)
        .u32(crc).u32(big ? FFFF : size).u32(big ? FFFF : size).u16(name.length).u16(z64 + 4 + pad).bytes(name);
      if (big) h.u16(1).u16(16).u64(size).u64(size);
      h.u16(0x4246).u16(pad).bytes(new Uint8Array(pad).fill(0x5a));
      dir.push({ name, size, crc, offset: pos });
      put(h.done());
      if (e.data) put(e.data);
      else pos += size;
    }
    ftruncateSync(fd, pos); // the hole of a last zero entry
    const cdOffset = pos;
    for (const d of dir) {
      const needSize = d.size >= FFFF, needOff = d.offset >= FFFF;
      const extra = (needSize ? 16 : 0) + (needOff ? 8 : 0);
      const c = new Bytes().u32(0x02014b50).u16(0x031e).u16(extra ? 45 : 20).u16(0).u16(0).u16(0).u16(0)
        .u32(d.crc).u32(needSize ? FFFF : d.size).u32(needSize ? FFFF : d.size).u16(d.name.length).u16(extra ? extra + 4 : 0)
        .u16(0).u16(0).u16(0).u32(0).u32(needOff ? FFFF : d.offset).bytes(d.name);
      if (extra) {
        c.u16(1).u16(extra);
        if (needSize) c.u64(d.size).u64(d.size);
        if (needOff) c.u64(d.offset);
      }
      put(c.done());
    }
    const cdSize = pos - cdOffset;
    const z64 = pos;
    put(new Bytes().u32(0x06064b50).u64(44).u16(0x031e).u16(45).u32(0).u32(0).u64(dir.length).u64(dir.length).u64(cdSize).u64(cdOffset)
      .u32(0x07064b50).u32(0).u64(z64).u32(1)
      .u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(FFFF).u32(FFFF).u16(0).done());
  } finally {
    closeSync(fd);
  }
}
