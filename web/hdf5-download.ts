// The demo page's HDF5 download: the embeddings in the ProtTrans layout (src/embed/hdf5-layout.ts, the
// same rules as `prott5 embed -o x.h5`), written by h5wasm's ESM browser entry into its in-memory
// filesystem, read back as bytes and handed to the page as one Uint8Array. h5wasm (about 4 MB of
// JS with the wasm inlined) is imported only when the first HDF5 download is asked for: the build
// splits it into its own chunk (dist/web/chunks/), so the page does not load it up front.
import { IOError, SequenceError, UsageError } from '../src/errors.js';
import {
  ORIGINAL_ID_ATTRIBUTE, findDatasetNameClash, hdf5DatasetPath, hdf5Group, orderKinds, safeDatasetName, summarizeHdf5Error,
} from '../src/embed/hdf5-layout.js';
import { outputKind, outputShape } from '../src/embed/outputs.js';
import { checkHeadNames, writeHeadDatasets, type HeadDataset } from '../src/embed/hdf5-heads.js';

type H5Lib = (typeof import('h5wasm'))['default'];

export interface Hdf5Record {
  id: string;
  /** The full FASTA header (without '>'), stored as `original_id`. */
  header: string;
  /** Residues. */
  length: number;
  perProtein?: Float32Array;
  perResidue?: Float32Array;
  /** Prediction heads' outputs, written as `prott5 predict -o OUT.h5` does: `/<head>/<output>/<id>`. */
  heads?: ReadonlyArray<Omit<HeadDataset, 'id' | 'header'>>;
}

/**
 * The wasm heap of h5wasm is limited to 2 GiB and holds the file being written (plus a copy while
 * it is read back): refuse early above this many bytes of embeddings instead of failing deep in
 * HDF5 with an out-of-memory abort.
 */
export const MAX_HDF5_DOWNLOAD_BYTES = 768 * 2 ** 20;

let loading: Promise<H5Lib> | null = null;

/**
 * Loads h5wasm once (the chunk, then its wasm module) and makes HDF5 errors throw. A failure is an
 * IOError saying what could not be loaded; the next call tries again.
 */
export function loadH5wasm(): Promise<H5Lib> {
  loading ??= (async () => {
    let lib: H5Lib;
    try {
      lib = (await import('h5wasm')).default;
      const Module = await lib.ready;
      if (Module.activate_throwing_error_handler() !== 0) throw new Error('could not install the throwing HDF5 error handler');
    } catch (err) {
      throw new IOError(
        `the HDF5 writer (h5wasm, about 4 MB, loaded on first use from this site's dist/web/chunks/) could not be loaded: ${(err as Error)?.message ?? String(err)}. ` +
        'Try again (or reload the page); the safetensors download does not need it.',
        {}, { cause: err },
      );
    }
    return lib;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

let serial = 0;

/**
 * Encodes the records as an HDF5 file in the ProtTrans layout: one float32 dataset per record
 * (`[d]` per protein, `[L, d]` per residue) named safeDatasetName(id), with `original_id`; in
 * groups `per_residue/` and `per_protein/` when both kinds are present. `attributes` go on the
 * root group as strings, with `prott5_outputs` (the kinds, as the CLI writes it). Two ids that become the same dataset name are a SequenceError.
 * Heads' outputs go in `/<head>/<output>/<id>` (src/embed/hdf5-heads.ts, as `prott5 predict`).
 */
export async function encodeHdf5Embeddings(records: readonly Hdf5Record[], attributes: Record<string, string> = {}): Promise<Uint8Array> {
  if (records.length === 0) throw new UsageError('nothing to write: no records');
  const kinds = orderKinds(records.flatMap((r) => [r.perResidue && 'perResidue', r.perProtein && 'perProtein'].filter(Boolean) as string[])) as Array<'perResidue' | 'perProtein'>;
  for (const r of records) {
    const missing = kinds.find((k) => !r[k]);
    if (missing) throw new UsageError(`record "${r.id}" has no ${missing} embedding while others do`, { record: r.id });
  }
  const clash = findDatasetNameClash(records.map((r) => r.id));
  if (clash) {
    throw new SequenceError(
      `records "${clash.first}" and "${clash.second}" both become HDF5 dataset "${clash.name}" (/ and . are written as _, as ProtTrans does); rename one, or use the safetensors download`,
      { record: clash.second, other: clash.first, dataset: clash.name },
    );
  }
  const heads = records.flatMap((r) => (r.heads ?? []).map((h) => ({ ...h, id: r.id, header: r.header })));
  if (kinds.length === 1 && heads.length) checkHeadNames(records, [...new Set(heads.map((h) => h.head))]);
  const bytes = records.reduce((a, r) => a + kinds.reduce((b, k) => b + r[k]!.byteLength, 0), 0) + heads.reduce((a, h) => a + h.data.byteLength, 0);
  if (bytes > MAX_HDF5_DOWNLOAD_BYTES) {
    throw new UsageError(
      `the embeddings are ${(bytes / 2 ** 20).toFixed(0)} MB; the in-page HDF5 writer (WebAssembly, 2 GiB heap) takes up to ${MAX_HDF5_DOWNLOAD_BYTES / 2 ** 20} MB. ` +
      'Use the safetensors download, untick per-residue embeddings, or run `prott5 embed -o out.h5` in Node.',
      { bytes },
    );
  }

  const h5 = await loadH5wasm();
  const FS = (await h5.ready).FS;
  const path = `/prott5-embeddings-${++serial}.h5`;
  const call = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new IOError(`HDF5: ${what} failed: ${summarizeHdf5Error(err)}`, { step: what }, { cause: err });
    }
  };
  try {
    const file = call('creating the file', () => new h5.File(path, 'w'));
    try {
      // prott5_outputs as the CLI writes it: 'perResidue,perProtein' or one kind.
      for (const [k, v] of Object.entries({ ...attributes, prott5_outputs: kinds.join(',') })) call(`writing root attribute ${k}`, () => file.create_attribute(k, v));
      for (const kind of kinds) {
        const group = hdf5Group(kind, kinds);
        const parent = group === undefined ? file : call(`creating group ${group}`, () => file.create_group(group));
        for (const r of records) {
          const full = hdf5DatasetPath(r.id, kind, kinds);
          const data = r[kind]!;
          const d = r.perProtein?.length ?? data.length / Math.max(1, r.length);
          const shape = outputShape(outputKind(kind)!, d, r.length);
          const ds = call(`writing dataset ${full}`, () => parent.create_dataset({ name: safeDatasetName(r.id), data, shape }));
          call(`writing attribute ${ORIGINAL_ID_ATTRIBUTE} of ${full}`, () => ds.create_attribute(ORIGINAL_ID_ATTRIBUTE, r.header));
        }
      }
      // By head, then output, then record (the CLI's order).
      const order = [...new Set(heads.map((h) => `${h.head}/${h.output}`))];
      writeHeadDatasets(file, order.flatMap((k) => heads.filter((h) => `${h.head}/${h.output}` === k)), call);
    } finally {
      call('closing the file', () => file.close());
    }
    return call('reading the file back', () => FS.readFile(path, { encoding: 'binary' }) as Uint8Array);
  } finally {
    try { FS.unlink(path); } catch { /* never created */ }
  }
}
