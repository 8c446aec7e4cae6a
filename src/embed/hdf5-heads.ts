// The prediction heads' part of an HDF5 file, as rules without I/O: shared by `prott5 predict -o
// OUT.h5` (src/cli/predict.ts, h5wasm/node) and the demo page's HDF5 download
// (web/hdf5-download.ts, h5wasm in memory), so both write the same layout:
// `/<head>/<output>/<id>` float32 (`[L, C]` per residue, `[C]` per protein; `<id>` by the
// embeddings' dataset-name rule), attributes `labels` (class names), `prediction` (the decoded
// string or class) and `original_id`. No Node and no h5wasm import here (the page bundles it).
import { SequenceError } from '../errors.js';
import { ORIGINAL_ID_ATTRIBUTE, safeDatasetName } from './hdf5-layout.js';

/** One head output of one record. */
export interface HeadDataset {
  head: string;
  output: string;
  id: string;
  /** The full FASTA header (`original_id`). */
  header: string;
  data: Float32Array;
  shape: readonly number[];
  labels: readonly string[];
  prediction: string;
}

/** What the writer needs of an h5wasm File or Group (both entries have it). */
export interface H5GroupLike {
  create_group(name: string): H5GroupLike;
  create_dataset(options: { name: string; data: Float32Array; shape: number[] }): { create_attribute(name: string, value: string | string[]): unknown };
}

/**
 * A record whose embedding dataset would sit at the root under a head's group name (a file
 * holding one kind of embedding and heads): a SequenceError naming the record (and its FASTA
 * line and file, where known) and the head.
 */
export function checkHeadNames(records: ReadonlyArray<{ id: string; line?: number }>, heads: readonly string[], file?: string): void {
  const taken = records.find((r) => heads.includes(safeDatasetName(r.id)));
  if (taken === undefined) return;
  const where = `${file ? `${file}: ` : ''}record "${taken.id}"${taken.line ? ` (line ${taken.line})` : ''}`;
  throw new SequenceError(`${where} would be an embedding dataset named like the head ${safeDatasetName(taken.id)}'s group; rename it, or write both kinds of embedding (they then go in groups)`, {
    ...(file ? { file } : {}),
    record: taken.id,
    ...(taken.line ? { line: taken.line } : {}),
    dataset: safeDatasetName(taken.id),
  });
}

/** Writes the datasets under `root` (groups made on first use); `call` wraps each h5wasm call for its errors. */
export function writeHeadDatasets(root: H5GroupLike, items: readonly HeadDataset[], call: <T>(what: string, fn: () => T) => T): void {
  const heads = new Map<string, H5GroupLike>(), outputs = new Map<string, H5GroupLike>();
  for (const it of items) {
    let hg = heads.get(it.head);
    if (!hg) heads.set(it.head, hg = call(`creating group ${it.head}`, () => root.create_group(it.head)));
    const key = `${it.head}/${it.output}`;
    let og = outputs.get(key);
    if (!og) outputs.set(key, og = call(`creating group ${key}`, () => hg!.create_group(it.output)));
    const name = safeDatasetName(it.id);
    const ds = call(`writing ${key}/${name}`, () => og!.create_dataset({ name, data: it.data, shape: [...it.shape] }));
    call(`writing attributes of ${key}/${name}`, () => {
      ds.create_attribute('labels', [...it.labels]);
      ds.create_attribute('prediction', it.prediction);
      ds.create_attribute(ORIGINAL_ID_ATTRIBUTE, it.header);
    });
  }
}
