/**
 * The HDF5 embeddings layout (ProtTrans / bio_embeddings), as rules without any I/O: shared by
 * the CLI's writer (src/cli/hdf5.ts, h5wasm/node on disk) and the demo page's download
 * (web/hdf5-download.ts, h5wasm's in-memory filesystem), so both write the same file. No Node
 * import and no h5wasm import here: the page bundles this module.
 *
 * - One float32 dataset per record, named safeDatasetName(id): `/`, `.` (and `\0`) become `_`.
 * - Shape `[d_model]` per protein, `[L, d_model]` per residue.
 * - The full FASTA header in a variable-length UTF-8 string attribute `original_id`.
 * - `prott5_complete` = 1 on each dataset of a record whose datasets are all written and flushed
 *   (what `--resume` trusts); `prott5_index` (a shard's files only): the record's input position.
 * - One kind of embedding in a file: datasets at the root. Both kinds: groups `per_residue/` and
 *   `per_protein/`, each holding one dataset per record.
 *
 * Kinds and their groups come from the output-kind registry (src/embed/outputs.ts).
 *
 * Also summarizeHdf5Error, which both use to shorten h5wasm's HDF5-DIAG traces.
 */
import { orderKinds, outputKind } from './outputs.js';

/** An output kind's key ('perResidue', 'perProtein', a head's): see src/embed/outputs.ts. */
export type EmbeddingKind = string;

/** The dataset attribute that holds the record's full FASTA header. */
export const ORIGINAL_ID_ATTRIBUTE = 'original_id';

/**
 * The dataset attribute (int 1) `prott5 embed` sets once every dataset of a record is written and
 * flushed: a dataset without it (a write cut by a full disk, a kill) is not a finished record.
 */
export const COMPLETE_ATTRIBUTE = 'prott5_complete';

/**
 * The dataset attribute (int) `prott5 embed --shard` sets: the record's position in the whole
 * input, so `prott5 merge` writes records in input order without the FASTA. A merged file has none.
 */
export const INDEX_ATTRIBUTE = 'prott5_index';

/**
 * The HDF5 dataset name ProtTrans uses for an id: `/` and `.` become `_`. Also `\0` (which would
 * truncate the C string) becomes `_`, and an empty id becomes `_`, so the result is always a
 * single, non-empty link name. Idempotent: safeDatasetName(safeDatasetName(x)) === safeDatasetName(x).
 */
export function safeDatasetName(id: string): string {
  const name = id.replace(/[/.\0]/g, '_');
  return name.length === 0 ? '_' : name;
}

export { orderKinds };

/** The group a kind's datasets go in: none (the root) when the file holds one kind only. */
export function hdf5Group(kind: EmbeddingKind, kinds: readonly EmbeddingKind[]): string | undefined {
  if (new Set(kinds).size <= 1) return undefined;
  const k = outputKind(kind);
  if (!k) throw new Error(`no output kind "${kind}" is registered`);
  return k.group;
}

/** The dataset's path in the file: `name` or `group/name`. */
export function hdf5DatasetPath(id: string, kind: EmbeddingKind, kinds: readonly EmbeddingKind[]): string {
  const group = hdf5Group(kind, kinds);
  const name = safeDatasetName(id);
  return group === undefined ? name : `${group}/${name}`;
}

/** The record id a stored `original_id` header stands for (its first word), else the dataset name. */
export function idFromOriginalId(header: string, datasetName: string): string {
  return header.trim().split(/\s/, 1)[0] || datasetName;
}

/** The first two ids that become the same dataset name (e.g. `a.1` and `a_1`), or null. */
export function findDatasetNameClash(ids: Iterable<string>): { name: string; first: string; second: string; firstIndex: number; secondIndex: number } | null {
  const seen = new Map<string, { id: string; index: number }>();
  let index = 0;
  for (const id of ids) {
    const name = safeDatasetName(id);
    const other = seen.get(name);
    if (other) return { name, first: other.id, second: id, firstIndex: other.index, secondIndex: index };
    seen.set(name, { id, index });
    index++;
  }
  return null;
}

/** Shortens an HDF5-DIAG trace to its first and last frames: "H5Fopen(): ...; H5FD__sec2_open(): ...". */
export function summarizeHdf5Error(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const frames: string[] = [];
  for (const line of text.split('\n')) {
    const m = /#\d+:.* in ([\w.]+\(\)): (.*)$/.exec(line);
    if (m) frames.push(`${m[1]}: ${m[2].replace(/:? \w+ = .*$/, '').trim()}`);
  }
  // The operating system's reason, where a frame gives one ("errno = 51, error message = 'No
  // space left on device'"): emscripten's errno numbers are WASI's, so they are named here.
  const os = /errno = (\d+)(?:, error message = '([^']*)')?/.exec(text);
  const name = os ? WASI_ERRNO[Number(os[1])] ?? `errno ${os[1]}` : '';
  const reason = os ? (os[2] ? `${os[2]} (${name})` : name) : null;
  if (frames.length === 0) return [text.split('\n')[0].replace(/^Error: /, ''), reason].filter(Boolean).join(': ');
  const where = frames.length === 1 ? frames[0] : `${frames[0]}; ${frames[frames.length - 1]}`;
  return reason ? `${reason}: ${where}` : where;
}

/** Emscripten's (WASI's) errno numbers for the file-system errors a writer meets. */
const WASI_ERRNO: Record<number, string> = {
  2: 'EACCES', 19: 'EDQUOT', 20: 'EEXIST', 22: 'EFBIG', 29: 'EIO', 31: 'EISDIR', 44: 'ENOENT', 51: 'ENOSPC', 54: 'ENOTDIR', 63: 'EPERM', 69: 'EROFS',
};
