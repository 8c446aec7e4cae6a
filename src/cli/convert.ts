// prott5 convert: PyTorch pytorch_model.bin (or a model folder, a .safetensors file, a hub id)
// to one safetensors file, streamed tensor by tensor: the header is written first from the
// shapes, then each tensor's bytes, so at most one tensor is in memory. Encoder tensors only by
// default (those openCheckpoint uses, the embedding as shared.weight); --all keeps every float
// tensor. Written to OUT.partial and renamed when complete.
import { copyFile, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IOError, UsageError, WeightsError } from '../errors.js';
import { openCheckpoint } from '../models/checkpoint.js';
import { selectByName } from '../models/schema.js';
import { T5_NAMES } from '../models/t5/schema.js';
import { isHubId, resolveModel } from '../../weights/hub.js';
import { downloadProgressLine } from './progress.js';
import { DirectoryFiles, FileSource } from '../../weights/node-files.js';
import { openFolderWeights } from '../../weights/model-folder.js';
import { safetensorsHeader } from '../../weights/safetensors.js';
import type { ByteSource, ModelFiles } from '../../weights/source.js';
import { type TensorEntry } from '../../weights/tensor-entry.js';
import { DTYPE_BYTES, fromFloat32, numel, toFloat32, type DType } from '../gpu/dtype.js';
import { EXIT } from './exit-codes.js';

export const CONVERT_HELP = `Usage: prott5 convert INPUT -o OUT.safetensors [--dtype f16|f32|bf16] [--all]

Writes the weights of INPUT as one safetensors file, tensor by tensor (the whole model is never
in memory). INPUT is a PyTorch pytorch_model.bin, a .safetensors file, a model folder
(config.json + model.safetensors, a sharded index, or pytorch_model.bin), or a hub id
(owner/name, downloaded once into the cache as for "embed --model").

By default only the encoder is kept: the tensors "prott5 embed" uses, with the embedding as
shared.weight, checked against config.json (from the input's folder) when there is one.

Options:
  -o, --output FILE   the .safetensors file to write, or an existing folder (FOLDER/model.safetensors)
      --dtype D       f16, f32 or bf16: store every tensor in D (rounded to nearest even);
                      default: keep each tensor's stored dtype
      --all           keep every float tensor (decoder, lm_head, ...), not only the encoder
  -q, --quiet         no progress on stderr
  -h, --help          this help

The file is written as OUT.partial and renamed when complete. config.json is copied next to the
output when the input's folder has one and the output's folder does not.`;

export interface ConvertOptions {
  /** A .bin / .safetensors file or a model folder. */
  input: string;
  /** The .safetensors file to write, or an existing folder (then FOLDER/model.safetensors). */
  output: string;
  /** Store every tensor in this dtype; default: each tensor's own. */
  dtype?: DType;
  /** Keep every float tensor, not only the encoder's. */
  all?: boolean;
  /** Called after each tensor is written. */
  onTensor?: (done: number, total: number, name: string) => void;
  /** Non-fatal notes (overflow to Inf, skipped tensors, no config.json). */
  warn?: (message: string) => void;
  /** A tensor is read, converted and written in pieces of about this many bytes where its file allows (default 16 MiB). */
  chunkBytes?: number;
  /** Checked between tensors: when it returns true the conversion stops and the partial file is removed. */
  interrupted?: () => boolean;
}

export interface ConvertResult {
  output: string;
  tensors: number;
  /** Bytes of the output file. */
  bytes: number;
  /** The dtypes written. */
  dtypes: DType[];
  /** Where config.json was copied to, or null. */
  configCopied: string | null;
  /** True when `interrupted` stopped it (nothing written). */
  interrupted: boolean;
}

export const DTYPE_NAMES: Record<string, DType> = { f16: 'F16', f32: 'F32', bf16: 'BF16', fp16: 'F16', fp32: 'F32', float16: 'F16', float32: 'F32', bfloat16: 'BF16' };

/** Default piece size for streaming one tensor (see ConvertOptions.chunkBytes). */
const CONVERT_CHUNK_BYTES = 16 * 2 ** 20;

type Format = 'safetensors' | 'pytorch';
const CANONICAL: Record<Format, string> = { safetensors: 'model.safetensors', pytorch: 'pytorch_model.bin' };

/** safetensors or PyTorch zip, by content ("PK" is a zip) and then by name. */
async function formatOf(src: ByteSource): Promise<Format> {
  const head = await src.read(0, Math.min(src.size, 9));
  if (head[0] === 0x50 && head[1] === 0x4b) return 'pytorch';
  if (extname(src.name).toLowerCase() === '.safetensors') return 'safetensors';
  return head.byteLength === 9 && head[8] === 0x7b /* '{' */ ? 'safetensors' : 'pytorch';
}

/** One weights file served under its canonical name, next to the config.json of its folder. */
class SingleFileModel implements ModelFiles {
  readonly name: string;
  constructor(private readonly file: string, private readonly format: Format) {
    this.name = resolve(file);
  }
  async open(name: string): Promise<ByteSource | null> {
    if (name === CANONICAL[this.format]) return FileSource.open(this.file);
    if (name === 'config.json') return new DirectoryFiles(dirname(this.file)).open('config.json');
    return null;
  }
}

interface Source {
  tensors: TensorEntry[];
  /** The input's safetensors `__metadata__`, carried into the output. */
  metadata: Record<string, string>;
  close(): Promise<void>;
}

/** Every tensor of a weights file, or of a folder's weights (shards per the index), unfiltered. */
async function openAll(files: ModelFiles, warn: (m: string) => void): Promise<Source> {
  const w = await openFolderWeights(files);
  if (w.unsupported.size) warn(`skipped ${w.unsupported.size} tensor(s) that are not F32, F16 or BF16: ${[...w.unsupported].map(([n, d]) => `${n} (${d})`).join(', ')}`);
  return w;
}

function wrongSize(t: TensorEntry, to: DType, got: number, want: number): WeightsError {
  return new WeightsError(`${t.file}: tensor "${t.name}" gave ${got} bytes, ${to} ${JSON.stringify(t.shape)} needs ${want}`, { file: t.file, tensor: t.name });
}

/** Converts a checkpoint to one safetensors file; see ConvertOptions. */
export async function convertWeights(opts: ConvertOptions): Promise<ConvertResult> {
  const warn = opts.warn ?? (() => undefined);
  const chunkBytes = opts.chunkBytes ?? CONVERT_CHUNK_BYTES;
  const input = resolve(opts.input);
  let inputStat;
  try {
    inputStat = await stat(input);
  } catch (e) {
    throw new IOError(`cannot read ${opts.input}: ${(e as Error).message}`, { file: opts.input }, { cause: e });
  }
  let out = resolve(opts.output);
  if (existsSync(out) && (await stat(out)).isDirectory()) out = join(out, 'model.safetensors');
  else if (extname(out).toLowerCase() !== '.safetensors') throw new UsageError(`output ${opts.output}: use a .safetensors file name (or an existing folder)`, { file: opts.output });

  // What to read: a folder's weights, or one file (with its folder's config.json when there is one).
  let files: ModelFiles;
  let configDir: string;
  if (inputStat.isDirectory()) {
    files = new DirectoryFiles(input);
    configDir = input;
  } else {
    const probe = await FileSource.open(input);
    let format: Format;
    try {
      if (probe.size === 0) throw new WeightsError(`${input}: the file is empty`, { file: input });
      format = await formatOf(probe);
    } finally {
      await probe.close();
    }
    files = new SingleFileModel(input, format);
    configDir = dirname(input);
  }
  const hasConfig = existsSync(join(configDir, 'config.json'));

  let src: Source;
  if (opts.all) src = await openAll(files, warn);
  else if (hasConfig) {
    const ckpt = await openCheckpoint(files);
    src = { tensors: [...ckpt.tensors.values()], metadata: ckpt.metadata ?? {}, close: () => ckpt.close() };
  } else {
    warn(`no config.json in ${configDir}: the encoder's tensors are chosen by name and not checked against a config`);
    // No config.json says the family: a bare weights file is read as ProtT5 (T5) by its names.
    const raw = await openAll(files, warn);
    src = { tensors: selectByName(raw.tensors, T5_NAMES), metadata: raw.metadata, close: raw.close };
    if (!src.tensors.some((t) => t.name === 'shared.weight')) {
      await src.close();
      throw new WeightsError(`${files.name}: no encoder tensors found (no shared.weight or encoder.embed_tokens.weight); use --all to convert every tensor`, { file: files.name });
    }
  }

  if (src.tensors.length === 0) {
    await src.close();
    throw new WeightsError(`${files.name}: no F32, F16 or BF16 tensor found to convert (a checkpoint that nests its weights, such as {'state_dict': ...}, is not read here)`, { file: files.name });
  }
  const partial = `${out}.partial`;
  let fh: FileHandle | null = null;
  try {
    const list = src.tensors.map((t) => ({ name: t.name, dtype: opts.dtype ?? t.dtype, shape: t.shape }));
    // The input's own metadata is kept (a conversion onto its own input loses nothing); format: pt as transformers writes.
    const { header, offsets, dataBytes } = safetensorsHeader(list, { ...src.metadata, format: 'pt' });
    try {
      fh = await open(partial, 'w');
      await fh.write(header, 0, header.byteLength, 0);
    } catch (e) {
      throw new IOError(`cannot write ${partial}: ${(e as Error).message}`, { file: partial }, { cause: e });
    }
    for (let i = 0; i < src.tensors.length; i++) {
      if (opts.interrupted?.()) {
        await fh.close();
        fh = null;
        await rm(partial, { force: true });
        return { output: out, tensors: 0, bytes: 0, dtypes: [], configCopied: null, interrupted: true };
      }
      const t = src.tensors[i];
      const to = list[i].dtype;
      const want = numel(t.shape) * DTYPE_BYTES[to];
      const at = header.byteLength + offsets[i];
      // A tensor in pieces of about chunkBytes where its file allows (one contiguous span): a
      // 256 MiB XXL weight is never whole in memory, nor its float32 values.
      const es = DTYPE_BYTES[t.dtype];
      const total = numel(t.shape) * es;
      const step = Math.max(2 * es, Math.floor(chunkBytes / es / 2) * 2 * es); // whole elements, an even count (16-bit pairs)
      const pieces: Array<() => Promise<Uint8Array>> = t.readRange && total > step
        ? Array.from({ length: Math.ceil(total / step) }, (_, k) => () => t.readRange!(k * step, Math.min(step, total - k * step)))
        : [() => t.read()];
      let written = 0, over = 0;
      for (const piece of pieces) {
        let bytes = await piece();
        if (t.dtype !== to) {
          const values = toFloat32(t.dtype, bytes);
          bytes = fromFloat32(to, values);
          if (to === 'F16') for (const v of values) if (Number.isFinite(v) && Math.abs(v) >= 65520) over++;
        }
        if (written + bytes.byteLength > want) throw wrongSize(t, to, written + bytes.byteLength, want);
        try {
          await fh.write(bytes, 0, bytes.byteLength, at + written);
        } catch (e) {
          throw new IOError(`cannot write ${partial}: ${(e as Error).message}`, { file: partial }, { cause: e });
        }
        written += bytes.byteLength;
      }
      if (over) warn(`tensor "${t.name}": ${over} value(s) are too large for F16 and became ±Inf`);
      if (written !== want) throw wrongSize(t, to, written, want);
      opts.onTensor?.(i + 1, src.tensors.length, t.name);
    }
    try {
      await fh.sync();
      await fh.close();
      fh = null;
      await rename(partial, out);
    } catch (e) {
      throw new IOError(`cannot write ${out}: ${(e as Error).message}`, { file: out }, { cause: e });
    }
    let configCopied: string | null = null;
    const outConfig = join(dirname(out), 'config.json');
    if (hasConfig && !existsSync(outConfig)) {
      try {
        await copyFile(join(configDir, 'config.json'), outConfig);
      } catch (e) {
        throw new IOError(`wrote ${out} but cannot copy config.json to ${outConfig}: ${(e as Error).message}`, { file: outConfig }, { cause: e });
      }
      configCopied = outConfig;
    }
    return { output: out, tensors: list.length, bytes: header.byteLength + dataBytes, dtypes: [...new Set(list.map((t) => t.dtype))], configCopied, interrupted: false };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(partial, { force: true }).catch(() => undefined);
    throw e;
  } finally {
    await src.close();
  }
}

/** `prott5 convert ...`: parses the arguments, runs, reports on stderr; resolves to the exit code. */
export async function convertCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      dtype: { type: 'string' },
      all: { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(CONVERT_HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw new UsageError(`convert takes one input (a weights file, a model folder or a hub id), got ${positionals.length}\n\n${CONVERT_HELP}`);
  if (!values.output) throw new UsageError(`convert needs -o OUT.safetensors\n\n${CONVERT_HELP}`);
  let dtype: DType | undefined;
  if (values.dtype !== undefined) {
    dtype = DTYPE_NAMES[values.dtype.toLowerCase()];
    if (!dtype) throw new UsageError(`--dtype must be f16, f32 or bf16, got "${values.dtype}"`);
  }
  const quiet = values.quiet!;
  const say = (m: string) => void (quiet || process.stderr.write(`${m}\n`));
  const tty = !quiet && Boolean(process.stderr.isTTY);

  let input = positionals[0];
  if (!existsSync(input) && isHubId(input)) input = await resolveModel(input, { onProgress: quiet ? undefined : downloadProgressLine(process.stderr) });

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.INTERRUPTED);
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await convertWeights({
      input,
      output: values.output,
      dtype,
      all: values.all,
      warn: (m) => {
        if (tty) process.stderr.write('\r\x1b[K');
        process.stderr.write(`prott5: warning: ${m}\n`);
      },
      onTensor: tty ? (i, n, name) => process.stderr.write(`\r\x1b[K${i}/${n} ${name}`) : undefined,
      interrupted: () => interrupted,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (r.interrupted) {
      say('interrupted: nothing written');
      return EXIT.INTERRUPTED;
    }
    say(`wrote ${r.tensors} tensors (${r.dtypes.join('/')}, ${(r.bytes / 1e6).toFixed(1)} MB) to ${r.output}${r.configCopied ? `; copied config.json to ${r.configCopied}` : ''}`);
    return EXIT.OK;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
