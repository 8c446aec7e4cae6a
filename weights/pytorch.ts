// PyTorch pytorch_model.bin (torch.save zip format, torch >= 1.6): a zip with one top folder
// `<prefix>/` holding data.pkl (the pickled state dict), data/<key> (one stored entry per
// storage, raw little-endian elements) and version/byteorder records. We read the directory and
// data.pkl, unpickle it without executing anything, and read each tensor's bytes only on demand.
import { WeightsError } from '../src/errors.js';
import { describeValue } from './describe.js';
import { isTorchTensor, type PickleKey, type PickleValue, type TorchTensorRef, unpickleTorch } from './pickle.js';
import type { ByteSource } from './source.js';
import { type TensorEntry } from './tensor-entry.js';
import { DTYPE_BYTES, numel } from '../src/gpu/dtype.js';
import { ZipArchive } from './zip.js';

/** data.pkl larger than this is refused (ProtT5's is tens of KB). */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

export interface PytorchFile {
  readonly source: ByteSource;
  /** Tensors in the state dict's order. Tensors sharing a storage read the same bytes. */
  readonly tensors: TensorEntry[];
  /** Tensors whose storage type the engine does not read (e.g. torch.LongStorage), by name. */
  readonly unsupported: Map<string, string>;
}

/** A torch.save zip opened: its unpickled root (any container) and a reader for the tensors in it. */
export interface TorchCheckpoint {
  readonly source: ByteSource;
  /** data.pkl, unpickled: a state dict, a dict holding one, or (with `modules`) a module object. */
  readonly root: PickleValue;
  /** The tensor as an entry to read (`name` for messages); a storage type the engine does not read is a WeightsError naming it. */
  entry(name: string, ref: TorchTensorRef): TensorEntry;
}

export async function readTorchCheckpoint(source: ByteSource, options: { modules?: boolean } = {}): Promise<TorchCheckpoint> {
  const file = source.name;
  const fail = (msg: string, tensor?: string): never => {
    throw new WeightsError(`${file}${tensor ? `: tensor "${tensor}"` : ''}: ${msg}`, tensor ? { file, tensor } : { file });
  };
  await checkNotOtherFormat(source, fail);

  const zip = await ZipArchive.open(source);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length === 0) fail('the zip has no <folder>/data.pkl: not a torch.save checkpoint');
  if (pkls.length > 1) fail(`the zip has several data.pkl entries (${pkls.map((e) => e.name).join(', ')})`);
  const pkl = pkls[0];
  const prefix = pkl.name.slice(0, -'data.pkl'.length);

  const byteorder = zip.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await zip.readEntry(byteorder, 64)).trim();
    if (order !== 'little') fail(`storages are ${order}-endian (${byteorder.name}); only little-endian checkpoints are supported`);
  }

  const root = unpickleTorch(await zip.readEntry(pkl, MAX_PICKLE_BYTES), { file, entry: pkl.name, modules: options.modules });

  const entry = (name: string, value: TorchTensorRef): TensorEntry => {
    const { storage, storageOffset, size, stride } = value;
    if (storage.dtype === null) return fail(`is stored as ${storage.type}, which is not read`, name);
    const dtype = storage.dtype;
    const es = DTYPE_BYTES[dtype];
    const entryName = `${prefix}data/${storage.key}`;
    const ze = zip.get(entryName);
    if (!ze) return fail(`its storage "${storage.key}" has no zip entry ${entryName}`, name);
    zip.assertStored(ze);
    if (ze.uncompressedSize < storage.numel * es) {
      fail(`storage "${storage.key}" should hold ${storage.numel} ${dtype} elements (${storage.numel * es} bytes) but zip entry ${entryName} has ${ze.uncompressedSize} bytes`, name);
    }
    // Elements the tensor touches: storageOffset .. last (inclusive), via its strides.
    const count = numel(size);
    let last = storageOffset;
    for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
    const bytes = count * es;
    if (!Number.isSafeInteger(bytes) || !Number.isSafeInteger(last)) fail(`shape ${describeValue(size, 200)} is too large`, name);
    if (count > 0 && last >= storage.numel) {
      fail(`needs elements ${storageOffset}..${last} of storage "${storage.key}" (offset ${storageOffset}, shape ${describeValue(size, 200)}, stride ${describeValue(stride, 200)}) but the storage holds only ${storage.numel}`, name);
    }
    // A view inside its storage but with more elements than the storage (stride 0, as expand()
    // makes, or overlapping strides) would be materialised in full on read: a few bytes of file
    // could ask for terabytes. Weights are never such views.
    if (count > storage.numel) {
      fail(`shape ${describeValue(size, 200)} (stride ${describeValue(stride, 200)}) has ${count} elements, more than the ${storage.numel} of its storage "${storage.key}": an expanded or overlapping view, which is not read`, name);
    }
    const contiguous = isContiguous(size, stride);
    return {
      name,
      dtype,
      shape: size,
      file,
      async read(): Promise<Uint8Array> {
        if (count === 0) return new Uint8Array(0);
        const base = (await zip.dataOffset(ze)) + storageOffset * es;
        if (contiguous) return source.read(base, bytes);
        // Strided view (e.g. a transpose): read the span it touches once, gather row-major.
        const span = await source.read(base, (last - storageOffset + 1) * es);
        return gather(span, size, stride, es);
      },
      ...(contiguous && count > 0 ? { readRange: async (start: number, length: number) => source.read((await zip.dataOffset(ze)) + storageOffset * es + start, length) } : {}),
    };
  };
  return { source, root, entry };
}

export async function readPytorchBin(source: ByteSource): Promise<PytorchFile> {
  const ckpt = await readTorchCheckpoint(source);
  if (!(ckpt.root instanceof Map)) {
    throw new WeightsError(`${source.name}: data.pkl does not hold a dict of tensors (a state dict)`, { file: source.name });
  }
  const tensors: TensorEntry[] = [];
  const unsupported = new Map<string, string>();
  for (const [name, value] of ckpt.root as Map<PickleKey, PickleValue>) {
    // Anything but name -> tensor (e.g. a step counter) is not weights: skip it.
    if (typeof name !== 'string' || !isTorchTensor(value)) continue;
    if (value.storage.dtype === null) unsupported.set(name, value.storage.type);
    else tensors.push(ckpt.entry(name, value));
  }
  return { source, tensors, unsupported };
}

/** Row-major contiguous strides (size-1 dimensions may have any stride). */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) return false;
    expect *= size[d];
  }
  return true;
}

/** Copies the elements of a strided N-d view (element 0 at src[0]) into row-major order. */
function gather(src: Uint8Array, size: readonly number[], stride: readonly number[], es: number): Uint8Array {
  const nd = size.length;
  const out = new Uint8Array(numel(size) * es);
  const inner = size[nd - 1], innerStride = stride[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  for (;;) {
    let s = 0;
    for (let d = 0; d < nd - 1; d++) s += idx[d] * stride[d];
    if (innerStride === 1) {
      out.set(src.subarray(s * es, (s + inner) * es), o);
      o += inner * es;
    } else {
      for (let j = 0; j < inner; j++) {
        const p = (s + j * innerStride) * es;
        for (let b = 0; b < es; b++) out[o++] = src[p + b];
      }
    }
    // Next index over the outer dimensions, last fastest.
    let d = nd - 2;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) return out;
  }
}

/** Clear errors for files that are not torch.save zips but are often mistaken for one. */
async function checkNotOtherFormat(source: ByteSource, fail: (msg: string) => never): Promise<void> {
  const head = await source.read(0, Math.min(source.size, 32));
  if (head[0] === 0x80 && head[1] <= 5 && head[2] === 0x8a) {
    fail('is a legacy (pre-1.6, non-zip) torch.save file, which this reader does not support; re-save it with torch >= 1.6 or convert it to safetensors');
  }
  if (new TextDecoder().decode(head).startsWith('version https://git-lfs')) {
    fail('is a Git LFS pointer, not the weights: fetch the real file (git lfs pull, or download it from the model page)');
  }
}
