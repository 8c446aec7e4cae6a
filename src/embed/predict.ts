// Predictions: the heads' probabilities read back, with their labels and decoded predictions
// (strings per residue, a class per protein). Two sources: an embed run's outputs
// (`model.predict()`), or per-residue embeddings computed before (`predictFromEmbeddings`,
// `prott5 predict --embeddings`), batched and padded here with the masks the heads use.
import { UsageError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { BatchRows, Head } from '../heads/head.js';
import { isPredicting, type HeadOutput, type PredictingHeadSpec } from '../heads/prediction.js';
import { headSpec } from '../heads/registry.js';

export interface PredictionTensor {
  data: Float32Array;
  /** [L, C] per residue, [C] per protein. */
  shape: number[];
}

/** One output of one head for one record. */
export interface OutputPrediction {
  /** The output's name (`dssp3`, `loc`, ...). */
  output: string;
  per: 'residue' | 'protein';
  /** Class names in column order. */
  labels: readonly string[];
  /** Probabilities (SETH: the score). */
  probs: PredictionTensor;
  /** One letter per residue (DSSP, TMbed, 3Di, ...) or the class of a per-protein output. */
  prediction: string;
  /** The ensemble members' logits, where the head declares them (bindEmbed21DL: its 5 models), in member order. */
  members?: PredictionTensor[];
}

export interface Prediction {
  index: number;
  id?: string;
  /** Residues. */
  length: number;
  /** head name → output name → prediction. */
  heads: Record<string, Record<string, OutputPrediction>>;
}

/** The predicting head of this name (a UsageError for an unknown one or one without labels). */
export function predictingHead(name: string): PredictingHeadSpec {
  const spec = headSpec(name);
  if (!isPredicting(spec)) throw new UsageError(`head "${name}" computes outputs but no predictions (it has no labels)`, { head: name });
  return spec;
}

/** Output kind keys the heads' predictions need. */
export function predictionKeys(heads: readonly PredictingHeadSpec[]): string[] {
  return heads.flatMap((h) => h.predictions.flatMap((p) => outputKinds(p).map((k) => k.key)));
}

/** The kinds an output reads back: its probabilities, then its ensemble members' logits. */
const outputKinds = (p: HeadOutput) => [p.kind, ...(p.members ?? [])];

function decodeOne(p: HeadOutput, t: PredictionTensor, length: number, members?: PredictionTensor[]): OutputPrediction {
  const out: OutputPrediction = { output: p.name, per: p.kind.per === 'protein' ? 'protein' : 'residue', labels: p.labels, probs: t, prediction: p.decode(t.data, length) };
  if (members) out.members = members;
  return out;
}

/** A record's predictions from its outputs by kind key (an embed run's `Embedding.outputs`). */
export function toPrediction(e: { index: number; id?: string; length: number; outputs: Record<string, PredictionTensor> }, heads: readonly PredictingHeadSpec[]): Prediction {
  const out: Prediction = { index: e.index, id: e.id, length: e.length, heads: {} };
  for (const h of heads) {
    out.heads[h.name] = {};
    for (const p of h.predictions) {
      const [t, ...members] = outputKinds(p).map((k) => {
        const v = e.outputs[k.key];
        if (!v) throw new UsageError(`record ${e.id ?? e.index}: no output ${k.key} for head ${h.name}`, { head: h.name });
        return v;
      });
      out.heads[h.name][p.name] = decodeOne(p, t, e.length, p.members ? members : undefined);
    }
  }
  return out;
}

export interface EmbeddingRecord {
  id: string;
  /** Per-residue embeddings [L, D], row-major. */
  data: Float32Array;
  length: number;
}

export interface PredictFromEmbeddingsOptions {
  /** Most padded rows in a batch (default 4096). */
  maxRows?: number;
  /** Most records in a batch (default 64). */
  maxBatch?: number;
  onBatch?: (done: number, total: number) => void;
}

/**
 * Runs loaded heads on per-residue embeddings [L, D] (no special-token rows: SETH then sees the
 * residues alone; ProstT5's CNN its zero row after them), batched longest first and padded
 * with one row more than the longest. Results are in input order.
 */
export async function predictFromEmbeddings(rt: Runtime, heads: ReadonlyArray<{ spec: PredictingHeadSpec; head: Head }>, records: readonly EmbeddingRecord[], D: number, options: PredictFromEmbeddingsOptions = {}): Promise<Prediction[]> {
  const maxRows = options.maxRows ?? 4096, maxBatch = options.maxBatch ?? 64;
  const order = records.map((_, i) => i).sort((a, b) => records[b].length - records[a].length || a - b);
  const out: Prediction[] = new Array(records.length);
  let done = 0;
  for (let i = 0; i < order.length;) {
    const L = records[order[i]].length + 1;
    const batch: number[] = [];
    while (i < order.length && batch.length < maxBatch && (batch.length + 1) * L <= Math.max(maxRows, L)) batch.push(order[i++]);
    const B = batch.length;
    const flat = new Float32Array(B * L * D);
    const rows: BatchRows = { B, L, tokens: new Uint32Array(B), residueStart: new Uint32Array(B), residueCount: new Uint32Array(B) };
    batch.forEach((r, b) => {
      const rec = records[r];
      if (rec.data.length !== rec.length * D) throw new UsageError(`record "${rec.id}": ${rec.data.length} values is not [${rec.length}, ${D}]`, { record: rec.id });
      flat.set(rec.data, b * L * D);
      rows.tokens[b] = rec.length;
      rows.residueCount[b] = rec.length;
    });
    const hidden = rt.upload(flat, [B, L, D], 'f32', 'embeddings');
    const read = new Map<string, Float32Array>();
    try {
      for (const { spec, head } of heads) {
        const produced = await head.run(hidden, rows);
        try {
          for (const k of spec.predictions.flatMap(outputKinds)) {
            const t = produced.get(k.key);
            if (!t) throw new UsageError(`head "${spec.name}" did not produce its output "${k.key}"`, { head: spec.name });
            read.set(k.key, await rt.read(t));
          }
        } finally {
          for (const t of produced.values()) t.release();
        }
      }
    } finally {
      hidden.release();
    }
    batch.forEach((r, b) => {
      const rec = records[r];
      const outputs: Record<string, PredictionTensor> = {};
      for (const { spec } of heads) {
        for (const k of spec.predictions.flatMap(outputKinds)) {
          const w = k.width(D), all = read.get(k.key)!;
          outputs[k.key] = k.per === 'protein'
            ? { data: all.slice(b * w, (b + 1) * w), shape: [w] }
            : { data: all.slice(b * L * w, (b * L + rec.length) * w), shape: [rec.length, w] };
        }
      }
      out[r] = toPrediction({ index: r, id: rec.id, length: rec.length, outputs }, heads.map((h) => h.spec));
    });
    done += B;
    options.onBatch?.(done, records.length);
  }
  return out;
}
