// prott5 predict: prediction heads on a FASTA file's embeddings (the model run here) or on
// per-residue embeddings computed before (--embeddings IN.h5). Writes what the upstreams write
// (one FASTA-like file per per-residue output, one TSV per per-protein head, and the upstream
// tools' own text files: src/cli/predict-text.ts) into a folder, or everything into one HDF5
// file (/<head>/<output>/<id>, attributes labels and prediction), with --per-residue /
// --per-protein also the embeddings, as `prott5 embed` writes them. Every file is written as
// <file>.partial and renamed when all are complete.
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IOError, UsageError } from '../errors.js';
import { createNodeRuntime } from '../gpu/node-gpu.js';
import { makeDirs } from '../gpu/node-dirs.js';
import { PROTTRANS_LIMITS } from '../embed/batching.js';
import { hdf5DatasetPath, hdf5Group, idFromOriginalId, ORIGINAL_ID_ATTRIBUTE, safeDatasetName } from '../embed/hdf5-layout.js';
import { checkFiniteOutputs, orderKinds, PER_PROTEIN, PER_RESIDUE } from '../embed/outputs.js';
import { checkHeadNames, writeHeadDatasets, type HeadDataset } from '../embed/hdf5-heads.js';
import { predictFromEmbeddings, predictingHead, predictionKeys, toPrediction, type EmbeddingRecord, type Prediction, type PredictionTensor } from '../embed/predict.js';
import { isPredicting, type PredictingHeadSpec } from '../heads/prediction.js';
import { registeredHeads } from '../heads/registry.js';
import type { Head } from '../heads/head.js';
import { loadProtT5 } from '../node.js';
import { resolveModel } from '../../weights/hub.js';
import { DirectoryFiles } from '../../weights/node-files.js';
import { checkDatasetNames, readRecords } from './embed.js';
import { EXIT } from './exit-codes.js';
import { h5call, Hdf5EmbeddingWriter, loadH5, readHdf5Embeddings } from './hdf5.js';
import { downloadProgressLine, Progress } from './progress.js';
import { modelProvenance, recordsDigest } from './provenance.js';
import { upstreamFiles } from './predict-text.js';

function headsHelp(): string {
  return registeredHeads().filter(isPredicting).map((h) => `  ${h.name.padEnd(14)}${h.description}\n  ${''.padEnd(14)}files: ${h.files.join(', ')}`).join('\n');
}

export function predictHelp(): string {
  return `Usage: prott5 predict INPUT.fasta --model DIR|ID --heads DIR[,DIR...] -o OUT [options]
       prott5 predict --embeddings IN.h5 --heads DIR[,DIR...] -o OUT [options]

Runs prediction heads on the per-residue embeddings, on the GPU: the model's (computed here)
or those of an HDF5 file written before (prott5 embed --per-residue, or UniProt's ProtT5
per-residue downloads: one [L, d] dataset per protein).

Heads (--heads: folders holding a head's checkpoint files under their published names;
NAME=DIR picks the head by name):
${headsHelp()}

Output:
  OUT (a folder)  per per-residue output <head>_<output>.fasta: ">id" and one letter per residue
                  (DSSP3 HEC, DSSP8, disorder -X, TMbed B b H h S . (format 0), 3Di, conservation
                  0-8, SETH disorder 0/1, binding M/N/S or -); per per-protein head <head>.tsv:
                  id, each output's class, then its probabilities. And the upstream tools' own
                  files: bindembed21dl/<id>.bindPredict_out (bindPredict, RI variant),
                  seth_Cs.txt (SETH -f Cs), seth_caid.txt (SETH's CAID table; FASTA input),
                  prostt5-3di_output_probabilities.csv (ProstT5's id,reliability).
  OUT.h5          /<head>/<output>/<id> float32 datasets ([L, C] per residue, [C] per protein;
                  <id> as in the embeddings' files), attributes "labels" (class names),
                  "prediction" (the decoded string or class) and "original_id". With
                  --per-residue / --per-protein the same file also holds the embeddings
                  exactly as "prott5 embed" with those options writes them (datasets, groups,
                  attributes, the root's provenance; "prott5 merge" and --embeddings read it).

Options:
  -o, --output OUT        a folder, or a file ending in .h5 (required)
  -m, --model DIR|ID      model folder or hub id (with a FASTA input)
      --heads DIR[,DIR]   head checkpoint folders (repeatable)
      --embeddings IN.h5  per-residue embeddings instead of a FASTA file and a model
      --per-residue       also write the [L, d_model] embeddings into OUT.h5 (FASTA input)
      --per-protein       also write the [d_model] mean embeddings into OUT.h5 (FASTA input)
      --max-residues N    most padded tokens in a batch (default ${PROTTRANS_LIMITS.maxResidues})
      --max-batch N       most sequences in a batch (default ${PROTTRANS_LIMITS.maxBatch})
      --strict            model weights holding NaN or Inf are an error (exit 4)
  -q, --quiet             no progress on stderr
  -h, --help              this help`;
}

/** The heads in a folder: those whose published files are all there (or NAME=DIR). */
export function recogniseHeads(arg: string): Array<{ spec: PredictingHeadSpec; dir: string }> {
  const eq = arg.indexOf('=');
  if (eq > 0 && !existsSync(arg)) {
    const spec = predictingHead(arg.slice(0, eq));
    return [{ spec, dir: resolve(arg.slice(eq + 1)) }];
  }
  const dir = resolve(arg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new IOError(`--heads ${arg}: not a folder`, { file: arg });
  const found = registeredHeads().filter(isPredicting).filter((h) => h.files.every((f) => existsSync(join(dir, f))));
  // model.pt alone is ProstT5's 3Di CNN's name; other heads name their files distinctly.
  if (found.length === 0) {
    const known = registeredHeads().filter(isPredicting).map((h) => `${h.name} (${h.files.join(', ')})`).join('; ');
    throw new UsageError(`--heads ${arg}: no head's checkpoint files are in this folder; known heads and their files: ${known}`, { file: arg });
  }
  return found.map((spec) => ({ spec, dir }));
}

export interface PredictCommand {
  input?: string;
  model?: string;
  embeddings?: string;
  heads: string[];
  output: string;
  maxResidues: number;
  maxBatch: number;
  strict: boolean;
  quiet: boolean;
  /** Also write these embeddings into OUT.h5 (FASTA input only). */
  perResidue?: boolean;
  perProtein?: boolean;
}

/** Per-residue datasets of an embeddings file: at the root, or in its per_residue group. */
async function readEmbeddings(path: string): Promise<{ records: Array<EmbeddingRecord & { header: string }>; D: number }> {
  const all = await readHdf5Embeddings(path);
  const entries = [...all].filter(([key, e]) => e.shape.length === 2 && (!key.includes('/') || key.startsWith('per_residue/')));
  if (entries.length === 0) throw new UsageError(`${path}: no per-residue embeddings ([L, d] datasets at the root or in per_residue/); embed with --per-residue`, { file: path });
  const D = entries[0][1].shape[1];
  const records = entries.map(([key, e]) => {
    const name = key.split('/').pop()!;
    if (e.shape[1] !== D) throw new UsageError(`${path}: dataset ${key} is [${e.shape.join(', ')}], the others have ${D} columns`, { file: path, dataset: key });
    const header = typeof e.attrs[ORIGINAL_ID_ATTRIBUTE] === 'string' ? (e.attrs[ORIGINAL_ID_ATTRIBUTE] as string) : name;
    return { id: idFromOriginalId(header, name), header, data: e.data, length: e.shape[0] };
  });
  return { records, D };
}

function tsvCell(s: string): string {
  return s.replace(/[\t\n\r]/g, ' ');
}

/** The files of a folder output: name → text. */
function folderFiles(preds: Prediction[], specs: PredictingHeadSpec[], idOf: (p: Prediction) => string): Map<string, string> {
  const files = new Map<string, string>();
  for (const h of specs) {
    const perProtein = h.predictions.filter((p) => p.kind.per === 'protein');
    for (const p of h.predictions.filter((x) => x.kind.per !== 'protein')) {
      files.set(`${h.name}_${p.name}.fasta`, preds.map((r) => `>${idOf(r)}\n${r.heads[h.name][p.name].prediction}\n`).join(''));
    }
    if (perProtein.length) {
      const header = ['id', ...perProtein.map((p) => p.name), ...perProtein.flatMap((p) => p.labels.map((l) => `${p.name}:${l}`))];
      const lines = preds.map((r) => [
        idOf(r),
        ...perProtein.map((p) => r.heads[h.name][p.name].prediction),
        ...perProtein.flatMap((p) => Array.from(r.heads[h.name][p.name].probs.data, (v) => v.toFixed(4))),
      ].map(tsvCell).join('\t'));
      files.set(`${h.name}.tsv`, [header.map(tsvCell).join('\t'), ...lines].join('\n') + '\n');
    }
  }
  return files;
}

/**
 * Opens OUT.partial for the embeddings (the root attributes `prott5 embed` writes) and returns
 * a per-batch writer: each batch's datasets as `embed` lays them out (groups only when both
 * kinds), flushed, then marked complete; so a proteome's embeddings never wait in memory.
 */
async function embeddingsWriter(path: string, kinds: readonly string[], attributes: Record<string, string>) {
  const h5 = await Hdf5EmbeddingWriter.create(path, { attributes });
  return {
    batch(batch: ReadonlyArray<{ id?: string; index: number; outputs: Record<string, PredictionTensor> }>, headerOf: (id: string) => string): void {
      for (const e of batch) {
        const id = e.id ?? String(e.index);
        checkFiniteOutputs(id, e.outputs, kinds);
        for (const k of kinds) h5.write(id, headerOf(id), e.outputs[k].data, e.outputs[k].shape, hdf5Group(k, kinds));
      }
      h5.flush();
      h5.markComplete(batch.flatMap((e) => kinds.map((k) => hdf5DatasetPath(e.id ?? String(e.index), k, kinds))));
    },
    close: () => h5.close(),
  };
}

async function writeHdf5(path: string, preds: Prediction[], specs: PredictingHeadSpec[], headerOf: (p: Prediction) => string, append = false): Promise<void> {
  const lib = await loadH5();
  const file = h5call(path, append ? 'opening the HDF5 file' : 'creating the HDF5 file', () => new lib.File(path, append ? 'a' : 'w'));
  try {
    const items: HeadDataset[] = specs.flatMap((h) => h.predictions.flatMap((p) => preds.map((r) => {
      const o = r.heads[h.name][p.name];
      return { head: h.name, output: p.name, id: r.id ?? String(r.index), header: headerOf(r), data: o.probs.data, shape: o.probs.shape, labels: o.labels, prediction: o.prediction };
    })));
    writeHeadDatasets(file, items, (what, fn) => h5call(path, what, fn));
  } finally {
    h5call(path, 'closing', () => file.close());
  }
}

async function makeOutputFolder(out: string, dir: string): Promise<void> {
  await makeDirs(dir).catch((e: Error) => {
    throw new IOError(`cannot create the folder for ${out}: ${e.message}`, { file: out }, { cause: e });
  });
}

export async function runPredict(cmd: PredictCommand): Promise<number> {
  if (cmd.heads.length === 0) throw new UsageError(`predict needs --heads DIR (a folder holding a head's checkpoint files)\n\n${predictHelp()}`);
  if (!cmd.embeddings && (!cmd.input || !cmd.model)) throw new UsageError(`predict needs INPUT.fasta and --model, or --embeddings IN.h5\n\n${predictHelp()}`);
  if (cmd.embeddings && (cmd.input || cmd.model)) throw new UsageError('predict takes either INPUT.fasta with --model, or --embeddings IN.h5, not both');
  const progress = new Progress(cmd.quiet);
  const found = cmd.heads.flatMap((a) => a.split(',')).filter((a) => a.length > 0).flatMap(recogniseHeads);
  const seen = new Set<string>();
  for (const f of found) {
    if (seen.has(f.spec.name)) throw new UsageError(`head ${f.spec.name} is given twice (--heads)`, { head: f.spec.name });
    seen.add(f.spec.name);
  }
  const specs = found.map((f) => f.spec);
  const out = resolve(cmd.output);
  const ext = extname(out).toLowerCase();
  const h5 = ext === '.h5' || ext === '.hdf5';
  const embKinds = orderKinds([...(cmd.perResidue ? [PER_RESIDUE.key] : []), ...(cmd.perProtein ? [PER_PROTEIN.key] : [])]);
  if (embKinds.length && !h5) throw new UsageError('--per-residue / --per-protein write the embeddings into the HDF5 output: give -o OUT.h5');
  if (embKinds.length && cmd.embeddings) throw new UsageError(`--per-residue / --per-protein need a FASTA input and --model (the embeddings are already in ${cmd.embeddings})`);
  if (h5 && existsSync(out) && statSync(out).isDirectory()) throw new IOError(`${out} is a directory; give -o a file name ending in .h5, or a folder`, { file: out });
  if (!h5 && existsSync(out) && !statSync(out).isDirectory()) throw new IOError(`${out} is a file; -o takes a folder (or a file ending in .h5)`, { file: out });

  let preds: Prediction[];
  /** OUT.partial holds the embeddings already (--per-residue / --per-protein). */
  let withEmbeddings = false;
  const partial = `${out}.partial`;
  const headers = new Map<string, string>();
  const sequences = new Map<string, string>();
  if (cmd.embeddings) {
    const { records, D } = await readEmbeddings(cmd.embeddings);
    for (const r of records) headers.set(r.id, r.header);
    const rt = await createNodeRuntime({ quietDrivers: true });
    const loaded: Array<{ spec: PredictingHeadSpec; head: Head }> = [];
    try {
      for (const f of found) loaded.push({ spec: f.spec, head: await f.spec.load(rt, { hiddenSize: D, files: new DirectoryFiles(f.dir) }) });
      progress.note(`${records.length} records of ${cmd.embeddings} (d = ${D}); heads ${specs.map((s) => s.name).join(', ')} on ${rt.adapter.description || rt.adapter.architecture}`);
      preds = await predictFromEmbeddings(rt, loaded, records, D, { maxRows: cmd.maxResidues, maxBatch: cmd.maxBatch });
    } finally {
      for (const l of loaded) l.head.dispose();
      rt.destroy();
    }
  } else {
    const records = await readRecords(cmd.input!);
    if (h5) checkDatasetNames(records, cmd.input!);
    // One kind of embedding sits at the file's root, beside the heads' groups.
    if (embKinds.length === 1) checkHeadNames(records, specs.map((s) => s.name), cmd.input);
    for (const r of records) {
      headers.set(r.id, r.header);
      sequences.set(r.id, r.sequence);
    }
    const modelDir = await resolveModel(cmd.model!, { onProgress: cmd.quiet ? undefined : downloadProgressLine(process.stderr) });
    const model = await loadProtT5(modelDir, { quietDrivers: true, strict: cmd.strict, onWarning: (m) => process.stderr.write(`prott5: warning: ${m}\n`) });
    try {
      for (const f of found) await model.addHead(f.spec.name, new DirectoryFiles(f.dir));
      progress.note(`model ${cmd.model}: ${model.summary}; heads ${specs.map((s) => s.name).join(', ')}`);
      // One run: the heads' outputs and, when asked, the embeddings, written batch by batch.
      let writer: Awaited<ReturnType<typeof embeddingsWriter>> | null = null;
      if (embKinds.length) {
        await makeOutputFolder(out, dirname(out));
        writer = await embeddingsWriter(partial, embKinds, {
          ...(await modelProvenance(cmd.model!, modelDir)),
          prott5_outputs: embKinds.join(','),
          prott5_dtype: 'float32',
          prott5_input: basename(cmd.input!),
          prott5_input_sha256: recordsDigest(records),
          prott5_heads: specs.map((s) => s.name).join(','),
        });
      }
      try {
        preds = new Array(records.length);
        const inputs = records.map((r) => ({ id: r.id, sequence: r.sequence }));
        for await (const batch of model.embedBatches(inputs, { outputs: [...embKinds, ...predictionKeys(specs)], maxResidues: cmd.maxResidues, maxBatch: cmd.maxBatch })) {
          for (const e of batch) preds[e.index] = toPrediction(e, specs);
          writer?.batch(batch, (id) => headers.get(id) ?? id);
        }
        writer?.close();
        writer = null;
        withEmbeddings = embKinds.length > 0;
      } catch (e) {
        try { writer?.close(); } catch { /* already failing */ }
        if (embKinds.length) await rm(partial, { force: true }).catch(() => undefined);
        throw e;
      }
    } finally {
      model.dispose();
    }
  }

  const idOf = (p: Prediction) => p.id ?? String(p.index);
  await makeOutputFolder(out, h5 ? dirname(out) : out);
  if (h5) {
    try {
      await writeHdf5(partial, preds, specs, (p) => headers.get(idOf(p)) ?? idOf(p), withEmbeddings);
      await rename(partial, out);
    } catch (e) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw e instanceof IOError ? e : new IOError(`cannot write ${out}: ${(e as Error).message}`, { file: out }, { cause: e });
    }
    progress.note(`wrote ${preds.length} records × ${specs.length} head(s)${withEmbeddings ? ` and their ${embKinds.join(', ')} embeddings` : ''} to ${out}`);
    return EXIT.OK;
  }
  const files = folderFiles(preds, specs, idOf);
  const headerOf = (p: Prediction) => headers.get(idOf(p)) ?? idOf(p);
  for (const [name, text] of upstreamFiles(preds, new Set(specs.map((s) => s.name)), idOf, headerOf, sequences.size ? (p) => sequences.get(idOf(p))! : undefined)) files.set(name, text);
  const written: string[] = [];
  try {
    for (const [name, text] of files) {
      if (name.includes('/')) await mkdir(join(out, dirname(name)), { recursive: true });
      await writeFile(join(out, `${name}.partial`), text);
      written.push(name);
    }
    for (const name of written) await rename(join(out, `${name}.partial`), join(out, name));
  } catch (e) {
    for (const name of written) await rm(join(out, `${name}.partial`), { force: true }).catch(() => undefined);
    throw new IOError(`cannot write into ${out}: ${(e as Error).message}`, { file: out }, { cause: e });
  }
  progress.note(`wrote ${[...files.keys()].join(', ')} (${preds.length} records) in ${out}`);
  return EXIT.OK;
}

/** `prott5 predict ARGS`: parses the command line (main.ts hands it over). */
export async function predictCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      model: { type: 'string', short: 'm' },
      heads: { type: 'string', multiple: true },
      embeddings: { type: 'string' },
      'max-residues': { type: 'string' },
      'max-batch': { type: 'string' },
      'per-residue': { type: 'boolean', default: false },
      'per-protein': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(predictHelp());
    return EXIT.OK;
  }
  if (positionals.length > 1) throw new UsageError(`predict takes one input FASTA file, got ${positionals.length}\n\n${predictHelp()}`);
  if (!values.output) throw new UsageError(`predict needs -o OUT (a folder, or OUT.h5)\n\n${predictHelp()}`);
  const int = (name: string, v: string | undefined, d: number) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  return runPredict({
    input: positionals[0],
    model: values.model,
    embeddings: values.embeddings,
    heads: values.heads ?? [],
    output: values.output,
    maxResidues: int('max-residues', values['max-residues'], PROTTRANS_LIMITS.maxResidues),
    maxBatch: int('max-batch', values['max-batch'], PROTTRANS_LIMITS.maxBatch),
    strict: values.strict!,
    quiet: values.quiet!,
    perResidue: values['per-residue'],
    perProtein: values['per-protein'],
  });
}
