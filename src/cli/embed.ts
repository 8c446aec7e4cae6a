// prott5 embed: FASTA in, HDF5 (ProtTrans layout) or safetensors out, written atomically
// (a .partial file renamed when complete) and resumable (HDF5) after Ctrl-C or a kill.
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { access, constants, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { IOError, SequenceError, UsageError } from '../errors.js';
import { resolveModel } from '../../weights/hub.js';
import { downloadProgressLine, Progress } from './progress.js';
import type { FastaRecord } from '../embed/fasta.js';
import { readFasta } from '../embed/fasta.js';
import { loadProtT5 } from '../node.js';
import type { Embedding } from '../embed/model.js';
import { type EmbeddingKind as Kind, findDatasetNameClash, hdf5DatasetPath, hdf5Group, INDEX_ATTRIBUTE } from '../embed/hdf5-layout.js';
import { checkFiniteOutputs, orderKinds, outputKind, outputShape, PER_PROTEIN, PER_RESIDUE } from '../embed/outputs.js';
import { headSpec } from '../heads/registry.js';
import { makeDirs } from '../gpu/node-dirs.js';
import { acquireLock, describeOwner } from '../../weights/lock.js';
import { DirectoryFiles, FileSource } from '../../weights/node-files.js';
import type { ModelFiles } from '../../weights/source.js';
import { compactHdf5, Hdf5EmbeddingWriter, makeHalf, readHdf5RootAttributes } from './hdf5.js';
import { SafetensorsStreamWriter } from './safetensors-writer.js';
import { modelProvenance, type Provenance, recordsDigest } from './provenance.js';
import { formatShard, type ShardSpec, shardIndices } from '../embed/shard.js';
import { CommitError, type FileJournal, openJournal, recoverJournal } from './journal.js';

export interface EmbedCommand {
  input: string; // path or '-'
  output: string;
  model: string;
  perResidue: boolean;
  perProtein: boolean;
  maxResidues: number;
  maxSeqLen: number;
  maxBatch: number;
  resume: boolean;
  quiet: boolean;
  /** Weights holding NaN/Inf are an error (exit 4) instead of a warning. */
  strict?: boolean;
  /** The kind of input text: 'aa' (default) or '3di' (ProstT5). */
  inputKind?: string;
  /** Prediction heads to run on the hidden state (src/heads/registry.ts), each with its checkpoint folder or file. */
  heads?: Array<{ name: string; path?: string }>;
  /** Embed only this shard of the input (src/embed/shard.ts); each dataset then records its input position. */
  shard?: ShardSpec;
  /** Store the per-residue and per-protein datasets as float16 (HDF5 only). */
  half?: boolean;
}

export async function readRecords(input: string): Promise<FastaRecord[]> {
  const name = input === '-' ? '<stdin>' : input;
  const stream = input === '-' ? process.stdin : createReadStream(input);
  const records: FastaRecord[] = [];
  try {
    for await (const r of readFasta(stream as AsyncIterable<Uint8Array>, name)) records.push(r);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') throw new IOError(`cannot read ${name}: ${err.message}`, { file: name }, { cause: e });
    throw e;
  }
  if (records.length === 0) throw new SequenceError(`${name}: no FASTA records found`, { file: name });
  return records;
}

/**
 * HDF5 dataset names are ids with `/` and `.` made `_` (the ProtTrans layout), so two distinct
 * ids can land on one name (`a.1` and `a_1`). Found here, before any GPU work or file is made.
 */
export function checkDatasetNames(records: FastaRecord[], input: string): void {
  const clash = findDatasetNameClash(records.map((r) => r.id));
  if (clash) {
    const [a, b] = [records[clash.firstIndex], records[clash.secondIndex]];
    throw new SequenceError(
      `${input}: record "${b.id}" (line ${b.line}) and record "${a.id}" (line ${a.line}) both become HDF5 dataset "${clash.name}" (/ and . are written as _); rename one`,
      { file: input, record: b.id, line: b.line, other: a.id, dataset: clash.name },
    );
  }
}

/** That `dir` exists as a folder, or can be made: its nearest existing ancestor is a writable folder. */
async function checkCreatable(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    let st;
    try {
      st = await stat(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) continue;
      throw new IOError(`cannot make the output folder ${dir}: ${(e as Error).message}`, { file: dir }, { cause: e });
    }
    if (!st.isDirectory()) throw new IOError(`cannot make the output folder ${dir}: ${d} is a file, not a folder`, { file: dir });
    try {
      await access(d, constants.W_OK);
    } catch (e) {
      throw new IOError(`cannot write in ${d} (for the output ${dir}): ${(e as Error).message}`, { file: dir }, { cause: e });
    }
    return;
  }
}

/** A head's checkpoint: a folder, or one file served under its own name. */
async function headFiles(path: string): Promise<ModelFiles> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    throw new IOError(`cannot read the head checkpoint ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  if (st.isDirectory()) return new DirectoryFiles(abs);
  return { name: abs, open: async (f) => (f === basename(abs) ? FileSource.open(abs) : null) };
}

/** Why an HDF5 partial is not usable for --resume (does not open, or lacks a finished record's datasets), or null. */
async function unreadable(partial: string, finished: string[], kinds: Kind[]): Promise<string | null> {
  let h5: Hdf5EmbeddingWriter | null = null;
  try {
    h5 = await Hdf5EmbeddingWriter.open(partial, 'r');
    const missing = finished.find((id) => !kinds.every((k) => h5!.isComplete(id, hdf5Group(k, kinds))));
    return missing === undefined ? null : `record "${missing}" is no longer whole`;
  } catch (e) {
    return (e as Error).message;
  } finally {
    try {
      h5?.close();
    } catch {
      // judged above
    }
  }
}

/** Whether the folder holds the bundled random-weight demo model (examples/demo-model). */
async function isDemoModel(dir: string): Promise<boolean> {
  try {
    return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))?.prott5_webgpu_demo === true;
  } catch {
    return false;
  }
}

/** How often a long batch says which layer it is at (ms). */
const LAYER_NOTE_MS = 3000;

/** The reason a Ctrl-C gives the embed call it stops. */
class Interrupted extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('interrupted (Ctrl-C)');
  }
}

/**
 * `embed INPUT --plan N`: checks the FASTA and prints the plan of N shards as TSV (shard,
 * records, residues, first and last record id), loading no model: the workflow's split step.
 */
export async function printPlan(input: string, count: number): Promise<number> {
  const records = await readRecords(input);
  checkDatasetNames(records, input === '-' ? '<stdin>' : input);
  const lines = ['shard\trecords\tresidues\tfirst\tlast'];
  for (let i = 1; i <= count; i++) {
    const mine = shardIndices(records, { index: i, count }).map((j) => records[j]);
    lines.push([`${i}/${count}`, mine.length, mine.reduce((a, r) => a + r.sequence.length, 0), mine[0]?.id ?? '', mine[mine.length - 1]?.id ?? ''].join('\t'));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Runs the command; resolves to the exit code (0, or 130 when interrupted). */
export async function runEmbed(cmd: EmbedCommand): Promise<number> {
  const ext = extname(cmd.output).toLowerCase();
  const format = ext === '.safetensors' ? 'safetensors' : ext === '.h5' || ext === '.hdf5' ? 'hdf5' : null;
  if (!format) throw new UsageError(`output ${cmd.output}: use a .h5 (HDF5, the ProtTrans layout) or .safetensors file name`);
  if (cmd.resume && format !== 'hdf5') throw new UsageError('--resume needs HDF5 output (.h5)');
  if (cmd.half && format !== 'hdf5') throw new UsageError('--half needs HDF5 output (.h5)');
  const heads = cmd.heads ?? [];
  const headKinds = heads.flatMap((h) => headSpec(h.name).outputs.filter((k) => k.cli).map((k) => k.key));
  const asked: string[] = [...headKinds];
  if (cmd.perResidue) asked.push(PER_RESIDUE.key);
  if (cmd.perProtein || (!cmd.perResidue && heads.length === 0)) asked.push(PER_PROTEIN.key);
  const kinds: Kind[] = orderKinds(asked);
  /** The kinds stored as float16 with --half: the encoder's own (heads' outputs stay float32). */
  const isHalfKind = (k: Kind) => cmd.half === true && (k === PER_RESIDUE.key || k === PER_PROTEIN.key);
  const progress = new Progress(cmd.quiet);

  const allRecords = await readRecords(cmd.input);
  const inputName = cmd.input === '-' ? '<stdin>' : cmd.input;
  // Names are checked over the whole input, so shards never clash when merged.
  if (format === 'hdf5') checkDatasetNames(allRecords, inputName);
  const inputDigest = recordsDigest(allRecords, cmd.inputKind);
  // With --shard, only that shard's records (in input order), each remembering its input position.
  const positions = cmd.shard ? shardIndices(allRecords, cmd.shard) : allRecords.map((_, i) => i);
  const records = positions.map((i) => allRecords[i]);
  const out = resolve(cmd.output);
  const partial = `${out}.partial`;
  // Output paths are checked before any GPU work; one writer per output (OUT.lock).
  for (const [path, what] of [[out, 'the output'], [partial, 'its partial file']] as const) {
    if (existsSync(path) && statSync(path).isDirectory()) throw new IOError(`${path} (${what}) is a directory; give -o a file name ending in .h5 or .safetensors`, { file: path });
  }
  let unlock: (() => Promise<void>) | null = null;
  const lock = async () => {
    unlock ??= await acquireLock(`${out}.lock`, (owner) =>
      `another prott5 (${describeOwner(owner)}) is writing ${out}; wait for it to finish (or delete ${out}.lock if it is gone)`);
  };
  await checkCreatable(dirname(out));
  // Where the folder is still to be made (below), the lock is taken once it exists.
  if (existsSync(dirname(out))) await lock();
  try {
    // A hub id (owner/name) is downloaded once into the cache; a folder is used as is.
    const modelDir = await resolveModel(cmd.model, { onProgress: cmd.quiet ? undefined : downloadProgressLine(process.stderr), onWait: (m) => progress.note(m) });
    const settings = { model: resolve(modelDir), kinds: kinds.join(','), input: basename(inputName), digest: inputDigest };
    const model = await loadProtT5(modelDir, { quietDrivers: true, strict: cmd.strict, onWarning: (m) => process.stderr.write(`prott5: warning: ${m}\n`) });
    try {
      model.inputMode(cmd.inputKind); // --input 3di on a model without 3Di tokens: a usage error now
    } catch (e) {
      model.dispose();
      throw e;
    }
    // After the load, so a folder without weights is the loader's error (exit 4), not ours.
    const provenance: Provenance = {
      ...(await modelProvenance(cmd.model, modelDir).catch((e) => {
        model.dispose();
        throw e;
      })),
      prott5_outputs: settings.kinds,
      prott5_dtype: cmd.half ? 'float16' : 'float32',
      prott5_input: settings.input,
      prott5_input_sha256: settings.digest,
      ...(cmd.inputKind && cmd.inputKind !== 'aa' ? { prott5_input_kind: cmd.inputKind } : {}),
      ...(cmd.shard ? { prott5_shard: formatShard(cmd.shard) } : {}),
    };

    // The output's folder is created if missing (as the quick start's examples/output/ is), once
    // the input and the model are known to be good, so a failed run leaves no new folder behind.
    await makeDirs(dirname(out)).catch((e: Error) => {
      model.dispose();
      throw new IOError(`cannot create the folder of ${out}: ${e.message}`, { file: out }, { cause: e });
    });
    await lock().catch((e) => {
      model.dispose();
      throw e;
    });
    const cleanup: Array<() => Promise<void> | void> = [() => model.dispose()];
    try {
      for (const h of heads) await model.addHead(h.name, h.path === undefined ? undefined : await headFiles(h.path));
    } catch (e) {
      model.dispose();
      throw e;
    }
    let interrupted = false;
    // The first Ctrl-C stops the batch at its next layer and keeps every finished record; the
    // second quits at once, leaving the partial as of its last flush (readable), or none.
    const stop = new AbortController();
    const onSigint = () => {
      if (interrupted) {
        if (ownsPartial && done === 0) rmSync(partial, { force: true });
        process.exit(130);
      }
      interrupted = true;
      stop.abort(new Interrupted());
      progress.note('interrupted: stopping at the next layer and saving the finished records (Ctrl-C again to quit now)');
    };
    process.on('SIGINT', onSigint);
    cleanup.push(() => void process.off('SIGINT', onSigint));
    let h5: Hdf5EmbeddingWriter | null = null;
    /** Every write to the HDF5 partial goes through it: on disk, the partial is always as of a commit (src/cli/journal.ts). */
    let journal: FileJournal | null = null;
    /** Closes the HDF5 partial; its writes since the last commit are kept (an orderly close) or dropped (a failure). */
    const closeHdf5 = (keep: boolean) => {
      try {
        h5?.close();
      } finally {
        h5 = null;
        journal?.close(!keep);
      }
    };
    let st: SafetensorsStreamWriter | null = null;
    /** Whether this run made (or took over, with --resume) OUT.partial; records it holds. */
    let ownsPartial = false;
    let done = 0;
    /** Records still to do when the run started, and those this run finished. */
    let todoIds = new Set<string>();
    const doneIds = new Set<string>();
    try {
      if (cmd.half && model.hiddenSize % 2 !== 0) throw new UsageError(`--half needs an even hidden size; this model's is ${model.hiddenSize}`);
      const a = model.runtime.adapter;
      progress.note(`model ${cmd.model}: ${model.summary}; weights ${[...model.encoder.weightDtypes].join('/')} on ${a.description || a.architecture} (${a.backend})`);
      if (await isDemoModel(modelDir)) {
        progress.note('note: this is the bundled demo model with RANDOM weights: its embeddings mean nothing. For ProtT5, pass --model Rostlab/prot_t5_xl_half_uniref50-enc');
      }
      // safetensors names: the id as is, under the kind's group when both kinds are written.
      const name = (kind: Kind, id: string) => {
        const group = hdf5Group(kind, kinds);
        return group ? `${group}/${id}` : id;
      };
      const shapeOf = (kind: Kind, r: FastaRecord) => {
        const t = model.tokenizer.encode(r.sequence, r.id, cmd.inputKind);
        return outputShape(outputKind(kind)!, model.hiddenSize, t.residueCount, t.ids.length);
      };

      // Open the partial output; with --resume, skip what it already holds.
      let todo = records.map((r, i) => i);
      if (format === 'hdf5') {
        // Opened first: a commit cut after its journal was whole is finished here, before the partial is read.
        journal = openJournal(partial);
        // A partial killed before its first commit is not readable HDF5: nothing in it to keep.
        const attrs = cmd.resume && existsSync(partial) ? await readHdf5RootAttributes(partial).catch(() => null) : null;
        if (cmd.resume && existsSync(partial) && !attrs) progress.note(`starting over: ${partial} is not a readable HDF5 file (killed before its first batch was saved?)`);
        if (cmd.resume && !existsSync(partial)) progress.note(`nothing to resume: no ${partial}; embedding every record`);
        if (attrs) {
          const other = (['prott5_model', 'prott5_weights_sha256', 'prott5_outputs', 'prott5_dtype', 'prott5_shard'] as const).filter((k) => attrs[k] !== provenance[k]);
          if (other.length) {
            throw new UsageError(`${partial} was written with other settings (${other.map((k) => `${k} ${String(attrs[k] ?? '(none)')}, now ${provenance[k] ?? '(none)'}`).join('; ')}); delete it or run without --resume`, { file: partial });
          }
          if (attrs.prott5_input_sha256 !== settings.digest) {
            throw new UsageError(`${partial} was written for other input records (from ${String(attrs.prott5_input)}), not those of ${inputName}; delete it or run without --resume`, { file: partial });
          }
          h5 = await Hdf5EmbeddingWriter.open(partial, 'a').catch((err: unknown) => {
            throw new IOError(`${partial} is damaged and cannot be resumed (${(err as Error).message}); delete it, or run without --resume to start over`, { file: partial }, { cause: err });
          });
          ownsPartial = true;
          // A record is done only when every one of its datasets was marked complete after a flush;
          // one that is partly there (a write cut by a full disk or a kill) is dropped and computed again.
          const whole = todo.map((i) => kinds.every((k) => h5!.isComplete(records[i].id, hdf5Group(k, kinds), shapeOf(k, records[i]), isHalfKind(k))));
          const started = (i: number) => kinds.some((k) => h5!.has(records[i].id, hdf5Group(k, kinds)));
          const broken = todo.filter((i, j) => !whole[j] && started(i));
          const finished = todo.filter((_, j) => whole[j]);
          todo = todo.filter((_, j) => !whole[j]);
          // Counted now, so a failure while rebuilding the partial (below) keeps it, not removes it.
          done = records.length - todo.length;
          todoIds = new Set(todo.map((i) => records[i].id));
          if (broken.length) {
            const keep = new Set(finished.flatMap((i) => kinds.map((k) => hdf5DatasetPath(records[i].id, k, kinds))));
            h5.close();
            h5 = null;
            journal.commit();
            await compactHdf5(partial, keep);
            h5 = await Hdf5EmbeddingWriter.open(partial, 'a');
            progress.note(`${partial}: ${broken.length} record(s) were only partly written (${records[broken[0]].id}${broken.length > 1 ? ', ...' : ''}): dropped, they are computed again`);
          }
          progress.note(`resuming ${partial}: ${records.length - todo.length} of ${records.length} records already done`);
        } else {
          if (existsSync(partial) && !cmd.resume) progress.note(`starting over: ${partial} exists (use --resume to continue it)`);
          h5 = await Hdf5EmbeddingWriter.create(partial, { attributes: { ...provenance } });
          ownsPartial = true;
        }
        cleanup.push(() => closeHdf5(false));
      } else {
        const tensors = records.flatMap((r) => kinds.map((k) => ({ name: name(k, r.id), shape: shapeOf(k, r) })));
        st = await SafetensorsStreamWriter.create(partial, tensors, { format: 'prott5-webgpu', model: settings.model, outputs: settings.kinds });
        ownsPartial = true;
        cleanup.push(() => st?.close());
      }

      const write = async (e: Embedding) => {
        const r = records[todo[e.index]];
        const attributes = cmd.shard ? { [INDEX_ATTRIBUTE]: positions[todo[e.index]] } : undefined;
        for (const k of kinds) {
          const t = e.outputs[k];
          if (h5) h5.write(r.id, r.header, t.data, t.shape, hdf5Group(k, kinds), { attributes, half: isHalfKind(k) });
          else await st!.write(name(k, r.id), t.data);
        }
      };

      todoIds = new Set(todo.map((i) => records[i].id));
      const totalRes = records.reduce((a, r) => a + r.sequence.length, 0);
      let doneRes = totalRes - todo.reduce((a, i) => a + records[i].sequence.length, 0);
      done = records.length - todo.length;
      const startRes = doneRes;
      const inputs = todo.map((i) => ({ id: records[i].id, sequence: records[i].sequence }));
      // A batch that runs long says which layer it is at (every few seconds).
      let batchStart = Date.now(), lastNote = 0;
      const onLayer = ({ layer, layers, sequences }: { layer: number; layers: number; sequences: number }) => {
        const now = Date.now();
        if (now - batchStart < LAYER_NOTE_MS || now - lastNote < LAYER_NOTE_MS) return;
        lastNote = now;
        progress.note(`batch of ${sequences} record(s): layer ${layer} of ${layers}`);
      };
      const batches = model.embedBatches(inputs, {
        outputs: kinds,
        maxResidues: cmd.maxResidues,
        maxSeqLen: cmd.maxSeqLen,
        maxBatch: cmd.maxBatch,
        input: cmd.inputKind,
        signal: stop.signal,
        onLayer,
      });
      try {
        for await (const batch of batches) {
          for (const e of batch) {
            checkFiniteOutputs(e.id ?? String(e.index), e.outputs, kinds);
            await write(e);
            if (st) done++;
            doneRes += e.length;
          }
          if (h5) {
            // Data first, then the marks that say each record is whole: a cut write is never marked.
            h5.flush();
            h5.markComplete(batch.flatMap((e) => kinds.map((k) => hdf5DatasetPath(records[todo[e.index]].id, k, kinds))));
            h5.flush();
            try {
              journal!.commit();
            } catch (err) {
              // Its journal whole on disk: the batch is saved (the next open of the partial finishes it).
              if (err instanceof CommitError && err.durable) {
                done += batch.length;
                for (const e of batch) doneIds.add(records[todo[e.index]].id);
              }
              throw err;
            }
            done += batch.length;
            for (const e of batch) doneIds.add(records[todo[e.index]].id);
          }
          progress.update(done, records.length, doneRes, totalRes, startRes);
          batchStart = Date.now();
          if (interrupted) break;
        }
      } catch (e) {
        // The stop asked for by Ctrl-C, from inside a batch: its records are simply not done.
        if (!(interrupted && e === stop.signal.reason)) throw e;
      }
      // Interrupted (not in the last batch): keep what is finished for --resume.
      if (interrupted && done < records.length) {
        if (st) {
          // A safetensors partial cannot be resumed: remove it rather than promise a --resume.
          await st.close();
          st = null;
          await rm(partial, { force: true });
          progress.note(`removed ${partial}: safetensors output cannot be resumed (write .h5 for that)`);
          return 130;
        }
        closeHdf5(true);
        if (done === 0) {
          await rm(partial, { force: true });
          progress.note(`no record was finished: removed ${partial}`);
        } else {
          progress.note(`saved ${done} of ${records.length} records in ${partial}; run the same command with --resume to finish`);
        }
        return 130;
      }
      closeHdf5(true);
      if (st) await st.close();
      st = null;
      // float16 types are written into the closed file (idempotent: a kill here is redone by --resume).
      if (cmd.half) await makeHalf(partial, records.flatMap((r) => kinds.filter(isHalfKind).map((k) => hdf5DatasetPath(r.id, k, kinds))));
      const replaced = existsSync(out);
      try {
        await rename(partial, out);
      } catch (e) {
        throw new IOError(`cannot rename ${partial} to ${out}: ${(e as Error).message}`, { file: out }, { cause: e });
      }
      progress.note(`wrote ${records.length} records to ${out}${replaced ? ' (replacing the file that was there)' : ''}`);
      return 0;
    } catch (e) {
      // Nothing half-written is left behind: a safetensors partial cannot be resumed, nor can an
      // HDF5 partial that holds no finished record, so they are removed. An HDF5 partial holding
      // finished records is kept for --resume. A partial of another run is never touched.
      if (ownsPartial && (format === 'safetensors' || done === 0)) {
        try {
          closeHdf5(false);
          await st?.close();
        } catch {
          // The partial is removed below; the first error is the one to report.
        }
        h5 = st = null;
        await rm(partial, { force: true }).catch(() => undefined);
        await rm(`${partial}.journal`, { force: true }).catch(() => undefined);
      } else if (ownsPartial) {
        // What was written since the last commit is dropped: on disk the partial is as of that
        // commit. It is kept only if it opens and holds what it is said to hold (checked all the same).
        try {
          closeHdf5(false);
        } catch {
          // dropped with the journal's pages
        }
        let why: string | null = null;
        let pending = false;
        try {
          // A commit cut after its journal was whole (a full disk while applying it) is finished now.
          recoverJournal(partial);
        } catch {
          // Still failing (the disk still full): the partial and its whole journal are kept; the
          // next open of the partial (--resume) finishes the commit.
          pending = true;
        }
        if (!pending) why = await unreadable(partial, records.filter((r) => !todoIds.has(r.id) || doneIds.has(r.id)).map((r) => r.id), kinds);
        if (why) {
          await rm(partial, { force: true }).catch(() => undefined);
          await rm(`${partial}.journal`, { force: true }).catch(() => undefined);
          progress.note(`removed ${partial}: the failed write left it damaged (${why}); run the same command again to start over`);
        } else {
          progress.note(`kept ${done} of ${records.length} finished records in ${partial}${pending ? ` (its last batch is in ${partial}.journal, written into it by --resume)` : ''}; run the same command with --resume to finish`);
        }
      }
      throw e;
    } finally {
      for (const f of cleanup.reverse()) await f();
    }
  } finally {
    await (unlock as (() => Promise<void>) | null)?.();
  }
}

