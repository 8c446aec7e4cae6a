// prott5 merge: joins the HDF5 outputs of `prott5 embed --shard I/N` into one file, in input
// order, equal to what one `embed` of the whole input writes. Refuses (before writing anything)
// shards of two models, mixed outputs or dtypes, other inputs, a shard given twice or missing,
// a record in two shards, or (with --input) a record missing; each error names the shard file
// and record. Written as OUT.partial (one writer: OUT.lock) and renamed; a merge that was
// stopped continues the OUT.partial it left (the records already copied and marked complete).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IOError, SequenceError, UsageError } from '../errors.js';
import { readFasta, type FastaRecord } from '../embed/fasta.js';
import { COMPLETE_ATTRIBUTE, INDEX_ATTRIBUTE, ORIGINAL_ID_ATTRIBUTE, hdf5Group, safeDatasetName } from '../embed/hdf5-layout.js';
import { PER_PROTEIN, PER_RESIDUE } from '../embed/outputs.js';
import { formatShard, parseShard, planShards, type ShardSpec } from '../embed/shard.js';
import { acquireLock, describeOwner } from '../../weights/lock.js';
import { compactHdf5, Hdf5EmbeddingWriter, makeHalf, readHdf5RootAttributes } from './hdf5.js';
import { MODEL_IDENTITY, recordsDigest } from './provenance.js';
import { Progress } from './progress.js';
import { openJournal } from './journal.js';

export const MERGE_HELP = `Usage: prott5 merge -o OUT.h5 SHARD.h5... [--input INPUT.fasta]

Joins the HDF5 files of "prott5 embed --shard I/N" (all N of them, any order) into one file in
the input's order, as one "prott5 embed" of the whole input would have written it (the
datasets' prott5_index attribute and the root's prott5_shard are left out).

Refused, before anything is written (exit 2, naming the shard file and record): shards of
different models (weights or config.json), other outputs (--per-residue / --per-protein /
--head) or dtype (--half), other input records, a shard given twice, one missing, a record in
two shards or not complete, and with --input, a record of INPUT.fasta that no shard holds.
Without --input, records missing at the end of the last shard cannot be seen.

The file is written as OUT.partial and renamed when complete; a merge that was stopped
continues its OUT.partial when run again.

Options:
  -o, --output FILE    the merged file (.h5)
      --input FASTA    the FASTA the shards were embedded from: check every record is there
  -q, --quiet          no progress on stderr
  -h, --help           this help`;

export interface MergeCommand {
  output: string;
  shards: string[];
  input?: string;
  quiet: boolean;
}

interface Shard {
  path: string;
  attrs: Record<string, unknown>;
  spec: ShardSpec;
}

/** One record to copy: its dataset name, the shard holding it, its input position. */
interface Item {
  name: string;
  shard: Shard;
  position: number;
}

/** Root attributes a shard has and the merged file does not (run-specific to one shard). */
const SHARD_ONLY = ['prott5_shard'];
/** Dataset attributes not copied: the shard's input position; completeness is marked anew. */
const NOT_COPIED = new Set([INDEX_ATTRIBUTE, COMPLETE_ATTRIBUTE, ORIGINAL_ID_ATTRIBUTE]);
/** How many records are copied between two flushes (each flush: data, then their marks). */
const RECORDS_PER_FLUSH = 64;

const str = (v: unknown) => (v === undefined ? '(none)' : String(v));

async function readShard(path: string): Promise<Shard> {
  if (!existsSync(path)) throw new IOError(`shard ${path}: no such file`, { file: path });
  const attrs = await readHdf5RootAttributes(path);
  if (typeof attrs.prott5_outputs !== 'string' || typeof attrs.prott5_input_sha256 !== 'string' || typeof attrs.prott5_weights_sha256 !== 'string') {
    throw new UsageError(`${path} is not an output of "prott5 embed" (no prott5_outputs, prott5_input_sha256 and prott5_weights_sha256 attributes)`, { file: path });
  }
  const spec = attrs.prott5_shard === undefined ? { index: 1, count: 1 } : parseShard(String(attrs.prott5_shard), `${path}: prott5_shard`);
  return { path, attrs, spec };
}

/** The checks between shards that need only their root attributes. */
function checkShards(shards: Shard[]): void {
  const first = shards[0];
  for (const s of shards.slice(1)) {
    const differ = (keys: readonly string[]) => keys.filter((k) => s.attrs[k] !== first.attrs[k]);
    const model = differ(MODEL_IDENTITY);
    if (model.length) {
      throw new UsageError(
        `${s.path} was made by another model than ${first.path}: ${model.map((k) => `${k} ${str(s.attrs[k])} vs ${str(first.attrs[k])}`).join('; ')} ` +
          `(models ${str(s.attrs.prott5_model_id)} and ${str(first.attrs.prott5_model_id)}); merge the shards of one model`,
        { file: s.path, other: first.path },
      );
    }
    if (s.attrs.prott5_outputs !== first.attrs.prott5_outputs) {
      throw new UsageError(`${s.path} holds other outputs (${str(s.attrs.prott5_outputs)}) than ${first.path} (${str(first.attrs.prott5_outputs)}); embed every shard with the same --per-residue / --per-protein / --head options`, { file: s.path, other: first.path });
    }
    if (s.attrs.prott5_dtype !== first.attrs.prott5_dtype) {
      throw new UsageError(`${s.path} is ${str(s.attrs.prott5_dtype)} but ${first.path} is ${str(first.attrs.prott5_dtype)}; embed every shard with or every one without --half`, { file: s.path, other: first.path });
    }
    if (s.attrs.prott5_input_sha256 !== first.attrs.prott5_input_sha256) {
      throw new UsageError(`${s.path} was embedded from other input records (${str(s.attrs.prott5_input)}) than ${first.path} (${str(first.attrs.prott5_input)})`, { file: s.path, other: first.path });
    }
    if (s.spec.count !== first.spec.count) {
      throw new UsageError(`${s.path} is shard ${formatShard(s.spec)} but ${first.path} is shard ${formatShard(first.spec)}: shards of two splits`, { file: s.path, other: first.path });
    }
  }
  const byIndex = new Map<number, Shard>();
  for (const s of shards) {
    const twin = byIndex.get(s.spec.index);
    if (twin) {
      throw new UsageError(`${s.path} and ${twin.path} are both shard ${formatShard(s.spec)}; give each shard once`, { file: s.path, other: twin.path, shard: formatShard(s.spec) });
    }
    byIndex.set(s.spec.index, s);
  }
  const missing = [...Array(first.spec.count).keys()].map((i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new UsageError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${first.spec.count}`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${shards.map((s) => `${basename(s.path)} = ${formatShard(s.spec)}`).join(', ')})`, { missing });
  }
}

async function readInput(input: string): Promise<FastaRecord[]> {
  const records: FastaRecord[] = [];
  try {
    for await (const r of readFasta(createReadStream(input) as AsyncIterable<Uint8Array>, input)) records.push(r);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new IOError(`cannot read ${input}: ${(e as Error).message}`, { file: input }, { cause: e });
    throw e;
  }
  return records;
}

export async function runMerge(cmd: MergeCommand): Promise<number> {
  const ext = extname(cmd.output).toLowerCase();
  if (ext !== '.h5' && ext !== '.hdf5') throw new UsageError(`merge output ${cmd.output}: use a .h5 file name`);
  if (cmd.shards.length === 0) throw new UsageError(`merge needs the shard files to join\n\n${MERGE_HELP}`);
  const progress = new Progress(cmd.quiet);
  const out = resolve(cmd.output);
  const partial = `${out}.partial`;
  const shards: Shard[] = [];
  for (const p of cmd.shards) {
    if (resolve(p) === out || resolve(p) === partial) throw new UsageError(`${p} is the merge's own output`, { file: p });
    shards.push(await readShard(p));
  }
  checkShards(shards);
  shards.sort((a, b) => a.spec.index - b.spec.index);
  const kinds = String(shards[0].attrs.prott5_outputs).split(',');
  const half = shards[0].attrs.prott5_dtype === 'float16';
  const isHalfKind = (k: string) => half && (k === PER_RESIDUE.key || k === PER_PROTEIN.key);
  const groups = kinds.map((k) => hdf5Group(k, kinds));
  const path = (name: string, g: string | undefined) => (g === undefined ? name : `${g}/${name}`);

  // Every record of every shard: whole (each kind's dataset, marked complete), in one shard only.
  const items: Item[] = [];
  const holder = new Map<string, Shard>();
  for (const s of shards) {
    const h5 = await Hdf5EmbeddingWriter.open(s.path, 'r');
    try {
      const names = new Set<string>();
      for (const full of h5.names()) {
        const slash = full.lastIndexOf('/');
        const g = slash < 0 ? undefined : full.slice(0, slash);
        if (groups.includes(g)) names.add(full.slice(slash + 1));
      }
      for (const name of names) {
        const other = holder.get(name);
        if (other) throw new UsageError(`record "${name}" is in both ${other.path} and ${s.path}; give each shard once, from one split`, { record: name, file: s.path, other: other.path });
        holder.set(name, s);
        const broken = groups.find((g) => !h5.isComplete(name, g));
        if (broken !== undefined || groups.some((g) => !h5.has(name, g))) {
          throw new UsageError(`${s.path}: record "${name}" is not complete (${path(name, broken ?? groups.find((g) => !h5.has(name, g)))}); embed that shard again`, { file: s.path, record: name });
        }
        const position = h5.attribute(path(name, groups[0]), INDEX_ATTRIBUTE);
        items.push({ name, shard: s, position: typeof position === 'number' ? position : Number.NaN });
      }
    } finally {
      h5.close();
    }
  }

  if (cmd.input !== undefined) {
    // The input decides the order, and every one of its records must be there.
    const records = await readInput(cmd.input);
    const kind = shards[0].attrs.prott5_input_kind;
    if (recordsDigest(records, typeof kind === 'string' ? kind : undefined) !== shards[0].attrs.prott5_input_sha256) {
      throw new UsageError(`the shards were embedded from other records (${str(shards[0].attrs.prott5_input)}) than those of ${cmd.input}`, { file: cmd.input });
    }
    const plan = planShards(records.map((r) => r.sequence.length), shards[0].spec.count);
    const byName = new Map(items.map((it) => [it.name, it]));
    records.forEach((r, i) => {
      const it = byName.get(safeDatasetName(r.id));
      if (!it) {
        const should = shards.find((s) => s.spec.index === plan[i])!;
        throw new SequenceError(`record "${r.id}" (${cmd.input} line ${r.line}) is in no shard: shard ${plan[i]}/${shards[0].spec.count} (${should.path}) should hold it; embed that shard again`, { record: r.id, file: should.path });
      }
      it.position = i;
    });
  } else {
    const unplaced = items.find((it) => Number.isNaN(it.position));
    if (unplaced && shards.length > 1) throw new UsageError(`${unplaced.shard.path}: record "${unplaced.name}" has no ${INDEX_ATTRIBUTE} attribute; pass --input FASTA to merge in input order`, { file: unplaced.shard.path, record: unplaced.name });
    // Positions must run 0, 1, ... without a gap: a gap is a record no shard holds.
    items.sort((a, b) => a.position - b.position);
    const gap = items.findIndex((it, i) => !Number.isNaN(it.position) && it.position !== i);
    if (gap >= 0) {
      throw new SequenceError(`the record at input position ${gap + 1} is in no shard (the next one held is "${items[gap].name}" in ${items[gap].shard.path}); embed the shards again or pass --input FASTA to name it`, { position: gap + 1, file: items[gap].shard.path });
    }
  }
  items.sort((a, b) => a.position - b.position);

  const rootAttrs: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(shards[0].attrs)) if (!SHARD_ONLY.includes(k)) rootAttrs[k] = v as string | number;

  if (existsSync(out) && statSync(out).isDirectory()) throw new IOError(`${out} (the output) is a directory`, { file: out });
  if (!existsSync(dirname(out))) throw new IOError(`cannot write ${out}: the folder ${dirname(out)} does not exist`, { file: out });
  const unlock = await acquireLock(`${out}.lock`, (owner) => `another prott5 (${describeOwner(owner)}) is writing ${out}; wait for it to finish (or delete ${out}.lock if it is gone)`);
  try {
    let h5: Hdf5EmbeddingWriter | null = null;
    // As in embed: on disk the partial is always as of a commit (src/cli/journal.ts).
    const journal = openJournal(partial);
    try {
      // A partial of the same merge (same root attributes) is continued: what it holds whole is kept.
      const old = existsSync(partial) ? await readHdf5RootAttributes(partial).catch(() => null) : null;
      const same = old !== null && JSON.stringify(old) === JSON.stringify(rootAttrs);
      let todo = items;
      if (same) {
        h5 = await Hdf5EmbeddingWriter.open(partial, 'a');
        const whole = (it: Item) => kinds.every((k, j) => h5!.isComplete(it.name, groups[j]));
        const kept = items.filter(whole);
        if (kept.length < items.length && items.some((it) => !whole(it) && groups.some((g) => h5!.has(it.name, g)))) {
          h5.close();
          h5 = null;
          journal.commit();
          await compactHdf5(partial, new Set(kept.flatMap((it) => groups.map((g) => path(it.name, g)))));
          h5 = await Hdf5EmbeddingWriter.open(partial, 'a');
        }
        todo = items.filter((it) => !kept.includes(it));
        progress.note(`continuing ${partial}: ${kept.length} of ${items.length} records already merged`);
      } else {
        if (existsSync(partial)) progress.note(`starting over: ${partial} is not a partial of this merge`);
        h5 = await Hdf5EmbeddingWriter.create(partial, { attributes: rootAttrs });
      }
      const reading: { shard: Shard | null; h5: Hdf5EmbeddingWriter | null } = { shard: null, h5: null };
      try {
        for (let i = 0; i < todo.length; i += RECORDS_PER_FLUSH) {
          const batch = todo.slice(i, i + RECORDS_PER_FLUSH);
          const written: string[] = [];
          for (const it of batch) {
            if (reading.shard !== it.shard) {
              reading.h5?.close();
              reading.h5 = null;
              reading.h5 = await Hdf5EmbeddingWriter.open(it.shard.path, 'r');
              reading.shard = it.shard;
            }
            const src = reading.h5!;
            kinds.forEach((k, j) => {
              const full = path(it.name, groups[j]);
              const { data, shape } = src.read(full);
              const header = src.originalHeader(it.name, groups[j]) ?? it.name;
              const attributes: Record<string, number | string> = {};
              for (const a of src.attributeNames(full)) if (!NOT_COPIED.has(a)) attributes[a] = src.attribute(full, a) as number | string;
              written.push(h5!.write(it.name, header, data, shape, groups[j], { attributes, half: isHalfKind(k) }));
            });
          }
          h5.flush();
          h5.markComplete(written);
          h5.flush();
          journal.commit();
          progress.note(`${Math.min(i + RECORDS_PER_FLUSH, todo.length) + items.length - todo.length}/${items.length} records merged`);
        }
      } finally {
        reading.h5?.close();
      }
      h5.close();
      h5 = null;
      journal.close();
      if (half) await makeHalf(partial, items.flatMap((it) => kinds.filter(isHalfKind).map((k) => path(it.name, groups[kinds.indexOf(k)]))));
      try {
        await rename(partial, out);
      } catch (e) {
        throw new IOError(`cannot rename ${partial} to ${out}: ${(e as Error).message}`, { file: out }, { cause: e });
      }
      progress.note(`merged ${items.length} records from ${shards.length} shard(s) into ${out}`);
      return 0;
    } catch (e) {
      try {
        h5?.close();
      } catch {
        // the first error is the one to report
      } finally {
        journal.close(true);
      }
      throw e;
    }
  } finally {
    await unlock();
  }
}

/** `prott5 merge ...`: parses the command line and runs the merge. */
export async function mergeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      input: { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(MERGE_HELP);
    return 0;
  }
  if (!values.output) throw new UsageError(`merge needs -o OUT.h5\n\n${MERGE_HELP}`);
  return runMerge({ output: values.output, shards: positionals, input: values.input, quiet: values.quiet! });
}
