// A small torch.save writer for tests: Python values (dicts as Maps, lists, tuples, str, int,
// float, bool, None), float32 tensors and module objects (NEWOBJ + BUILD of their __dict__, as
// torch.save(model) writes them) pickled with protocol 2 into a zip laid out as torch's
// (`<folder>/data.pkl`, `<folder>/data/<key>`, `<folder>/version`). Globals are written as given,
// so tests can craft files with any global in them.
import { crc32 } from '../weights/zip.js';

export class PyTensor {
  constructor(readonly data: Float32Array, readonly shape: number[], readonly location = 'cpu') {}
}
/** A tuple (a frozen list in the pickle). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
/** An instance of `cls` ("module.Name") made by NEWOBJ and given `state` by BUILD. */
export class PyObject {
  constructor(readonly cls: string, readonly state: Map<string, PyValue>) {}
}
/** `fn(*args)` by REDUCE, fn a global "module.name" (e.g. "__builtin__.set"). */
export class PyCall {
  constructor(readonly fn: string, readonly args: PyValue[]) {}
}
export type PyValue = string | number | boolean | null | PyValue[] | Map<string | number, PyValue> | PyTensor | PyTuple | PyObject | PyCall;

class Out {
  bytes: number[] = [];
  u8(...v: number[]): void { for (const b of v) this.bytes.push(b & 0xff); }
  u32(v: number): void { this.u8(v, v >> 8, v >> 16, v >>> 24); }
  text(s: string): void { for (const b of new TextEncoder().encode(s)) this.bytes.push(b); }
}

export function pickle(root: PyValue, storages: Uint8Array[]): Uint8Array {
  const o = new Out();
  const global = (full: string): void => {
    const i = full.lastIndexOf('.');
    o.u8(0x63);
    o.text(`${full.slice(0, i)}\n${full.slice(i + 1)}\n`);
  };
  const str = (s: string): void => {
    const b = new TextEncoder().encode(s);
    o.u8(0x58);
    o.u32(b.length);
    for (const x of b) o.bytes.push(x);
  };
  const int = (n: number): void => {
    if (n >= 0 && n < 256) o.u8(0x4b, n);
    else { o.u8(0x4a); o.u32(n >>> 0); }
  };
  const value = (v: PyValue): void => {
    if (v === null) o.u8(0x4e);
    else if (v === true) o.u8(0x88);
    else if (v === false) o.u8(0x89);
    else if (typeof v === 'string') str(v);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 31) int(v);
      else { o.u8(0x47); const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, v, false); o.u8(...new Uint8Array(b.buffer)); }
    } else if (Array.isArray(v)) {
      o.u8(0x5d, 0x28);
      for (const x of v) value(x);
      o.u8(0x65);
    } else if (v instanceof Map) {
      o.u8(0x7d, 0x28);
      for (const [k, x] of v) { value(k); value(x); }
      o.u8(0x75);
    } else if (v instanceof PyTuple) {
      o.u8(0x28);
      for (const x of v.items) value(x);
      o.u8(0x74);
    } else if (v instanceof PyCall) {
      global(v.fn);
      value(new PyTuple(v.args));
      o.u8(0x52);
    } else if (v instanceof PyObject) {
      global(v.cls);
      o.u8(0x29, 0x81); // EMPTY_TUPLE, NEWOBJ
      value(v.state);
      o.u8(0x62); // BUILD
    } else {
      const key = storages.length;
      storages.push(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
      const stride: number[] = [];
      for (let d = v.shape.length - 1, acc = 1; d >= 0; d--) { stride[d] = acc; acc *= v.shape[d]; }
      global('torch._utils._rebuild_tensor_v2');
      o.u8(0x28); // MARK (args)
      o.u8(0x28); str('storage'); global('torch.FloatStorage'); str(String(key)); str(v.location); int(v.data.length); o.u8(0x74, 0x51);
      int(0);
      value(new PyTuple(v.shape));
      value(new PyTuple(stride));
      o.u8(0x89);
      value(new PyCall('collections.OrderedDict', []));
      o.u8(0x74, 0x52);
    }
  };
  o.u8(0x80, 2);
  value(root);
  o.u8(0x2e);
  return Uint8Array.from(o.bytes);
}

/** A stored (uncompressed) zip of these files, data aligned to 64 bytes as torch writes it. */
export function storedZip(files: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 0xff, (v >> 8) & 0xff);
  const u32 = (v: number) => out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  const put = (b: Uint8Array) => { for (const x of b) out.push(x); };
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(out.length);
    const name = new TextEncoder().encode(f.name);
    const pad = (64 - ((out.length + 30 + name.length + 4) % 64)) % 64;
    u32(0x04034b50); u16(20); u16(0); u16(0); u16(0); u16(0); u32(crc32(f.data)); u32(f.data.length); u32(f.data.length); u16(name.length); u16(4 + pad);
    put(name); u16(0x4246); u16(pad); put(new Uint8Array(pad)); put(f.data);
  }
  const cd = out.length;
  files.forEach((f, i) => {
    const name = new TextEncoder().encode(f.name);
    u32(0x02014b50); u16(0x031e); u16(20); u16(0); u16(0); u16(0); u16(0); u32(crc32(f.data)); u32(f.data.length); u32(f.data.length);
    u16(name.length); u16(0); u16(0); u16(0); u16(0); u32(0); u32(offsets[i]); put(name);
  });
  const cdSize = out.length - cd;
  u32(0x06054b50); u16(0); u16(0); u16(files.length); u16(files.length); u32(cdSize); u32(cd); u16(0);
  return Uint8Array.from(out);
}

/** torch.save(root) as a zip file's bytes. */
export function torchSave(root: PyValue, folder = 'archive'): Uint8Array {
  const storages: Uint8Array[] = [];
  const pkl = pickle(root, storages);
  return storedZip([
    { name: `${folder}/data.pkl`, data: pkl },
    ...storages.map((data, i) => ({ name: `${folder}/data/${i}`, data })),
    { name: `${folder}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}

/** `{'state_dict': {name: tensor}}`, as bio_embeddings' checkpoints hold their weights. */
export function stateDictFile(tensors: Record<string, PyTensor>, key = 'state_dict'): Uint8Array {
  return torchSave(new Map<string, PyValue>([[key, new Map(Object.entries(tensors))]]));
}
