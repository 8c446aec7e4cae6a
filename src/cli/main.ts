// The prott5 command: embed, convert, info, bench. `prott5 <command> --help` for each.
// main() runs one command and resolves to its exit code; src/cli/bin.ts is the executable.
import { parseArgs } from 'node:util';
import { ProtT5Error, UsageError } from '../errors.js';
import { cachedChoices } from '../gpu/tuner.js';
import { softwareDriver } from '../gpu/env.js';
import { createNodeRuntime } from '../gpu/node-gpu.js';
import { FileTuneStore } from '../gpu/node-tune-store.js';
import { PROTTRANS_LIMITS } from '../embed/batching.js';
import { CONVERT_HELP, convertCommand } from './convert.js';
import { predictCommand } from './predict.js';
import { TUNE_HELP, tuneCommand } from './tune.js';
import { printPlan, runEmbed } from './embed.js';
import { MERGE_HELP, mergeCommand } from './merge.js';
import { parseShard } from '../embed/shard.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatModelInfo, modelInfo } from './model-info.js';
import { downloadProgressLine } from './progress.js';

const HELP: Record<string, string> = {
  main: `prott5: ProtT5 protein embeddings on WebGPU

Usage: prott5 <command> [options]

Commands:
  embed     embed the records of a FASTA file (HDF5 or safetensors out)
  predict   prediction heads (secondary structure, localization, TMbed, ...) on the embeddings
  merge     join the HDF5 files of "embed --shard I/N" into one
  convert   convert weights (PyTorch .bin, a model folder) to safetensors
  info      show the GPU adapter, its features and limits (--model X: a model's family, variant, dims, parameters)
  bench     benchmark the kernels and a ProtT5-XL-shaped layer on this GPU
  tune      measure a model's kernel variants on this adapter ahead of time (--reset: forget them)

Run "prott5 <command> --help" for a command's options.
Exit codes: 0 ok, 1 internal error, 2 bad command line, 3 bad sequence/FASTA, 4 bad model
(weights or config), 5 GPU device error, 6 out of GPU memory, 7 file I/O or download error, 130 interrupted.`,
  embed: `Usage: prott5 embed INPUT.fasta -o OUT.h5 --model DIR|OWNER/NAME [options]

Embeds every record of INPUT.fasta ("-" reads standard input) with the ProtT5 encoder.

Output (by extension):
  .h5 / .hdf5     HDF5 in the ProtTrans layout: one float32 dataset per record, named by its id
                  ("/" and "." replaced by "_"), the full header in attribute "original_id".
                  With both --per-residue and --per-protein, datasets go in groups
                  "per_residue" and "per_protein".
  .safetensors    one F32 tensor per record named by its id ("per_residue/ID", "per_protein/ID"
                  when both are asked for).
The file is written as OUT.partial and renamed when complete.

Options:
  -o, --output FILE      output file (required)
  -m, --model DIR|ID     model folder: config.json + model.safetensors, a sharded index, or
                         pytorch_model.bin; or a Hugging Face hub id (owner/name[@revision], e.g.
                         Rostlab/prot_t5_xl_half_uniref50-enc), downloaded once into the cache
                         ($PROTT5_CACHE, else $XDG_CACHE_HOME/prott5-webgpu, else
                         ~/.cache/prott5-webgpu; $HF_ENDPOINT, $HF_TOKEN are used) (required)
      --per-residue      [L, d_model] per record (one row per residue)
      --per-protein      [d_model] per record, the mean over residues (the default)
      --max-residues N   most padded tokens in a batch (default ${PROTTRANS_LIMITS.maxResidues})
      --max-seq-len N    longer sequences run alone (default ${PROTTRANS_LIMITS.maxSeqLen})
      --max-batch N      most sequences in a batch (default ${PROTTRANS_LIMITS.maxBatch})
      --resume           continue OUT.partial left by an interrupted run (HDF5 only)
      --shard I/N        embed only shard I of N (balanced by residues; N jobs on one FASTA
                         cover every record once; join them with "prott5 merge")
      --plan N           only check INPUT and print the plan of N shards (TSV: shard, records,
                         residues, first and last id); no model is loaded
      --half             store per-residue and per-protein datasets as float16 (HDF5 only)
      --strict           weights holding NaN or Inf are an error (exit 4), not a warning
      --input aa|3di     the kind of sequence text: amino acids (the default), or 3Di structure
                         states (ProstT5 only; lower-case letters acdefghiklmnpqrstvwy)
      --head NAME[=PATH] also run the prediction head NAME on the hidden state (its checkpoint
                         folder or file at PATH) and write its outputs, each in its own group;
                         repeatable. Without --per-residue/--per-protein only the heads' outputs
  -q, --quiet            no progress on stderr
  -h, --help             this help`,
  convert: CONVERT_HELP,
  merge: MERGE_HELP,
  tune: TUNE_HELP,
  bench: `Usage: prott5 bench [--quick] [--json FILE] [--md FILE] [--full] [--adapters LIST]

Runs the bench on every adapter present (a GPU, llvmpipe, SwiftShader; a child process each):
its arithmetic and copy ceilings, every matmul and attention variant (each checked against a
float64 reference first) at ProtT5-XL shapes, and one ProtT5-XL-shaped layer beside the same
layer in tfjs-backend-webgpu (same adapter) and PyTorch CPU fp32 on all cores (Debian
python3-torch: "npm run bench:setup" installs it), outputs compared. Ends with a summary:
% of ceiling, the layer's ms and ratios, whole-model residues/s, PASS/SHORT against the goals.
Takes minutes on a GPU, tens of minutes on the CPU drivers.

Options:
  --quick          smaller shapes, fewer repetitions (a check that it runs)
  --full           also the f16 XL layer, the XXL-shaped layer, BERT/ESM layers, tfjs's matmul, memory in L
  --adapters LIST  only these (comma-separated: hardware, llvmpipe, swiftshader)
  --xxl-only       only the ceilings and the ProtT5-XXL-shaped layer (128 heads, d_ff 65536), this adapter
  --xxl-d-model N  d_model of that layer (default 1024, ProtT5-XXL's)
  --json FILE      also write the summary as JSON (adapters[], peers, goals; each adapter's numbers under runs)
  --md FILE        also write the markdown report`,
  info: `Usage: prott5 info [--json] [--model DIR|OWNER/NAME]

Shows the WebGPU adapter the engine would use (a GPU, or a CPU driver: llvmpipe or
SwiftShader), which one was chosen and why, its features and the limits that bound batch
sizes. With --model: the model instead, read from its files (no GPU needed): its family (from
config.json), the published variant it matches (ProtT5-XL-U50, ProtT5-XL-BFD, ProtT5-XXL,
ProstT5, Ankh base or large, or unknown), dims, parameter count, input kinds and weight dtypes
(a hub id is downloaded into the cache first, as embed does).`,
};

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

async function embed(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      model: { type: 'string', short: 'm' },
      'per-residue': { type: 'boolean', default: false },
      'per-protein': { type: 'boolean', default: false },
      'max-residues': { type: 'string' },
      'max-seq-len': { type: 'string' },
      'max-batch': { type: 'string' },
      resume: { type: 'boolean', default: false },
      shard: { type: 'string' },
      plan: { type: 'string' },
      half: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      head: { type: 'string', multiple: true },
      input: { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP.embed);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw new UsageError(`embed takes one input FASTA file (or "-"), got ${positionals.length}\n\n${HELP.embed}`);
  if (values.plan !== undefined) return printPlan(positionals[0], int('plan', values.plan, 1));
  if (!values.output) throw new UsageError(`embed needs -o OUT.h5 (or OUT.safetensors)\n\n${HELP.embed}`);
  if (!values.model) throw new UsageError(`embed needs --model DIR (or a hub id such as Rostlab/prot_t5_xl_half_uniref50-enc)\n\n${HELP.embed}`);
  return runEmbed({
    input: positionals[0],
    output: values.output,
    model: values.model,
    perResidue: values['per-residue']!,
    perProtein: values['per-protein']!,
    maxResidues: int('max-residues', values['max-residues'], PROTTRANS_LIMITS.maxResidues),
    maxSeqLen: int('max-seq-len', values['max-seq-len'], PROTTRANS_LIMITS.maxSeqLen),
    maxBatch: int('max-batch', values['max-batch'], PROTTRANS_LIMITS.maxBatch),
    resume: values.resume!,
    shard: values.shard === undefined ? undefined : parseShard(values.shard),
    half: values.half!,
    strict: values.strict!,
    heads: (values.head ?? []).map((h) => {
      const i = h.indexOf('=');
      return i < 0 ? { name: h } : { name: h.slice(0, i), path: h.slice(i + 1) };
    }),
    inputKind: values.input,
    quiet: values.quiet!,
  });
}

async function bench(args: string[]): Promise<number> {
  // Loaded only for this command; tfjs (the peer) is a dev dependency, imported by the bench
  // only if installed.
  const { BENCH_OPTIONS, runBench } = await import('../../bench/bench.js');
  const { values } = parseArgs({ args, options: BENCH_OPTIONS });
  if (values.help) {
    console.log(HELP.bench);
    return EXIT.OK;
  }
  await runBench(values);
  return EXIT.OK;
}

async function info(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, model: { type: 'string', short: 'm' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(HELP.info);
    return EXIT.OK;
  }
  if (values.model !== undefined) {
    const m = await modelInfo(values.model, { onProgress: downloadProgressLine(process.stderr) });
    console.log(values.json ? JSON.stringify(m, null, 2) : formatModelInfo(m));
    return EXIT.OK;
  }
  const rt = await createNodeRuntime({ quietDrivers: true });
  const a = rt.adapter;
  const l = rt.limits;
  const limits = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  const software = softwareDriver(a);
  const swiftshader = software === 'swiftshader';
  const store = new FileTuneStore();
  const kernels = await cachedChoices(rt, store);
  if (values.json) console.log(JSON.stringify({ ...a, swiftshader, software, limits, kernels }, null, 2));
  else {
    console.log(`adapter:      ${a.description || '(no description)'} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'})`);
    console.log(`backend:      ${a.backend}${software ? ` — ${software === 'swiftshader' ? 'SwiftShader' : 'llvmpipe'}, a CPU driver: correct but slow; a GPU is much faster` : ''}`);
    console.log(`chosen:       ${a.kind}, because ${a.reason} (PROTT5_ADAPTER=hardware|llvmpipe|swiftshader forces one)`);
    console.log(`fallback:     ${a.isFallbackAdapter}`);
    console.log(`features:     ${a.features.join(', ') || '(none)'}`);
    for (const [k, v] of Object.entries(limits)) console.log(`${k.padEnd(34)}${v}`);
    const tuned = Object.entries(kernels);
    console.log(`kernel variants (autotuned, ${store.path}):${tuned.length ? '' : ' none yet; chosen at the first model load'}`);
    for (const [k, v] of tuned) console.log(`  ${k.padEnd(40)}${JSON.stringify(v)}`);
  }
  rt.destroy();
  return EXIT.OK;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'embed':
        return await embed(rest);
      case 'convert':
        return await convertCommand(rest);
      case 'predict':
        return await predictCommand(rest);
      case 'merge':
        return await mergeCommand(rest);
      case 'info':
        return await info(rest);
      case 'bench':
        return await bench(rest);
      case 'tune':
        return await tuneCommand(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(HELP.main);
        return cmd === undefined ? EXIT.USAGE : EXIT.OK;
      default:
        throw new UsageError(`unknown command "${cmd}"\n\n${HELP.main}`);
    }
  } catch (e) {
    const code = (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
      ? EXIT.USAGE
      : exitCodeFor(e);
    const msg = e instanceof ProtT5Error || code === EXIT.USAGE ? (e as Error).message : (e as Error).stack ?? String(e);
    process.stderr.write(`prott5: error: ${msg}\n`);
    return code;
  }
}

