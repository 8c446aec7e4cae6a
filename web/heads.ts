// The demo page's prediction heads: head folders given by URL (each holding a head's checkpoint
// files under their published names, recognised by them), loaded onto the model, run with the
// embedding, and drawn under the sequence: per-residue tracks (one letter per residue:
// secondary structure, disorder, transmembrane, binding, conservation, 3Di) and a bar chart per
// per-protein output (localization, membrane).
import { UrlFiles, UsageError, registeredHeads, type PredictingHeadSpec, type ProtT5Model } from '../src/browser.js';

export interface LoadedHead { spec: PredictingHeadSpec; url: string }

const predicting = (): PredictingHeadSpec[] => registeredHeads().filter((h): h is PredictingHeadSpec => Array.isArray((h as PredictingHeadSpec).predictions));

/** Loads the head in each folder URL onto the model (the first head whose files are all there). */
export async function loadHeads(model: ProtT5Model, urls: string[]): Promise<LoadedHead[]> {
  const out: LoadedHead[] = [];
  for (const raw of urls) {
    const url = raw.endsWith('/') ? raw : `${raw}/`;
    const files = new UrlFiles(url, { cache: false });
    let found: PredictingHeadSpec | null = null;
    for (const spec of predicting()) {
      const present = await Promise.all(spec.files.map(async (f) => {
        const src = await files.open(f).catch(() => null);
        await src?.close?.();
        return src !== null;
      }));
      if (present.every(Boolean)) { found = spec; break; }
    }
    if (!found) throw new UsageError(`${url}: no head's checkpoint files there (known: ${predicting().map((h) => `${h.name}: ${h.files.join(', ')}`).join('; ')})`);
    await model.addHead(found.name, files);
    out.push({ spec: found, url });
  }
  return out;
}

/** Output kind keys to ask embed() for. */
export const headKeys = (heads: LoadedHead[]): string[] => heads.flatMap((h) => h.spec.predictions.map((p) => p.kind.key));

/** One protein's head outputs for the HDF5 download (`/<head>/<output>/<id>`, as prott5 predict writes them). */
export function headDatasets(heads: LoadedHead[], r: { length: number; heads: Record<string, { data: Float32Array; shape: number[] }> }) {
  return heads.flatMap((h) => h.spec.predictions.filter((p) => r.heads[p.kind.key]).map((p) => {
    const t = r.heads[p.kind.key];
    return { head: h.spec.name, output: p.name, data: t.data, shape: t.shape, labels: p.labels, prediction: p.decode(t.data, r.length) };
  }));
}

/** The tracks and bar charts of one protein into `el`. */
export function renderTracks(el: HTMLElement, heads: LoadedHead[], sequence: string, outputs: Record<string, { data: Float32Array }>): void {
  el.innerHTML = '';
  if (!heads.length) return;
  const L = sequence.length;
  const table = document.createElement('div');
  table.className = 'tracks';
  const line = (label: string, text: string, title?: string) => {
    const name = document.createElement('span');
    name.className = 'track-name';
    name.textContent = label;
    const seq = document.createElement('span');
    seq.className = 'track';
    seq.textContent = text;
    if (title) seq.title = title;
    table.append(name, seq);
  };
  line('sequence', sequence);
  const bars: HTMLElement[] = [];
  for (const h of heads) {
    for (const p of h.spec.predictions) {
      const t = outputs[p.kind.key];
      if (!t) continue;
      if (p.kind.per === 'residue') {
        line(`${h.spec.name} ${p.name}`, p.decode(t.data, L), `${p.kind.description}; classes ${p.labels.join(' ')}`);
      } else {
        const fig = document.createElement('figure');
        fig.className = 'bars';
        const cap = document.createElement('figcaption');
        cap.textContent = `${h.spec.name} ${p.name}: ${p.decode(t.data, L)}`;
        fig.append(cap);
        p.labels.forEach((label, c) => {
          const row = document.createElement('div');
          row.className = 'bar-row';
          const v = t.data[c];
          row.innerHTML = '<span class="bar-label"></span><span class="bar"><span></span></span><span class="bar-value"></span>';
          (row.children[0] as HTMLElement).textContent = label;
          ((row.children[1] as HTMLElement).firstElementChild as HTMLElement).style.width = `${(100 * v).toFixed(1)}%`;
          (row.children[2] as HTMLElement).textContent = v.toFixed(3);
          fig.append(row);
        });
        bars.push(fig);
      }
    }
  }
  el.append(table, ...bars);
}
