// The demo page: choose a model (the random-weight demo model, a URL, or local files), paste or
// drop FASTA, embed with a progress bar, then a results table, a per-residue heatmap, a PCA
// scatter of the per-protein embeddings, and downloads: safetensors, or HDF5 in the ProtTrans
// layout (h5wasm, loaded only when asked for: see hdf5-download.ts). Every failure ends in a
// visible message (the #error banner), never a blank page. body[data-state] tells tests (and
// CSS) where the page is: starting, ready, no-webgpu, loading, embedding, done, error.
import {
  BlobFiles, DeviceError, DirectoryHandleFiles, IOError, ConfigError, ProtT5Error, SequenceError, UsageError, WeightsError,
  clearModelCache, createBrowserRuntime, encodeSafetensors, loadProtT5, parseFasta, webgpuUnavailableReason,
  type FastaRecord, type ModelFiles, type ProtT5Model, type Runtime,
} from '../src/browser.js';
import { drawHeatmap, drawScatter, pca2 } from './plots.js';
import { encodeHdf5Embeddings } from './hdf5-download.js';
import { renderHubModels } from './hub-models.js';
import { headDatasets, headKeys, loadHeads, renderTracks, type LoadedHead } from './heads.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

interface Result {
  index: number;
  id: string;
  header: string;
  sequence: string;
  length: number;
  /** The batch's wall time shared by residue count. */
  ms: number;
  perProtein: Float32Array;
  perResidue?: Float32Array;
  /** Prediction heads' outputs by kind key. */
  heads: Record<string, { data: Float32Array; shape: number[] }>;
}

const state = {
  rt: null as Runtime | null,
  model: null as ProtT5Model | null,
  modelKey: '',
  modelLabel: '',
  modelIsDemo: false,
  picked: null as ModelFiles | null,
  pickedKey: 0,
  results: [] as Result[],
  selected: 0,
  busy: false,
  noGpu: false,
  scatterPos: [] as Array<[number, number]>,
  heads: [] as LoadedHead[],
  headsKey: '',
};

const setState = (s: string) => {
  document.body.dataset.state = s;
};

const mb = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} kB`);

// ---- messages ---------------------------------------------------------------------------

function hint(e: unknown): string {
  if (e instanceof DeviceError) return '\n\nThis page needs WebGPU: a recent Chrome or Edge, Safari 26+, or Firefox 141+ (Windows). See chrome://gpu for its status.';
  if (e instanceof IOError) return '\n\nCheck the address. A model on another site must allow this page (CORS) and HTTP Range requests; Hugging Face .../resolve/main/ URLs do.';
  if (e instanceof ConfigError || e instanceof WeightsError) return '\n\nThe model folder needs config.json and model.safetensors (or a sharded index, or pytorch_model.bin) of a T5 encoder such as Rostlab/prot_t5_xl_half_uniref50-enc.';
  if (e instanceof SequenceError) return '';
  return '';
}

function showError(title: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  const code = e instanceof ProtT5Error ? ` (${e.code})` : '';
  $('error-title').textContent = `${title}${code}`;
  $('error-text').textContent = msg + hint(e);
  $('error').hidden = false;
  console.error(e);
}

function clearError(): void {
  $('error').hidden = true;
}

function setBusy(busy: boolean): void {
  state.busy = busy;
  for (const id of ['load-model', 'run', 'download', 'download-h5']) ($(id) as HTMLButtonElement).disabled = busy || (state.noGpu && !id.startsWith('download'));
}

// ---- model ------------------------------------------------------------------------------

function modelChoice(): 'demo' | 'url' | 'files' {
  return (document.querySelector('input[name=model]:checked') as HTMLInputElement).value as 'demo' | 'url' | 'files';
}

function selectChoice(v: string): void {
  (document.querySelector(`input[name=model][value=${v}]`) as HTMLInputElement).checked = true;
}

/** What the current choice would load, and a key that tells whether it is already loaded. */
function modelSource(): { key: string; label: string; source: string | ModelFiles; cache: boolean; demo: boolean } {
  const choice = modelChoice();
  if (choice === 'demo') {
    const url = new URL('examples/demo-model/', location.href).href;
    return { key: `demo`, label: 'demo model (random weights)', source: url, cache: false, demo: true };
  }
  if (choice === 'url') {
    const url = ($('model-url') as HTMLInputElement).value.trim();
    if (!url) throw new UsageError('enter the URL of a model folder (it must hold config.json)');
    const cache = ($('model-cache') as HTMLInputElement).checked;
    return { key: `url:${url}:${cache}`, label: url, source: url, cache, demo: false };
  }
  if (!state.picked) throw new UsageError('choose a model folder or its files first');
  return { key: `files:${state.pickedKey}`, label: state.picked.name, source: state.picked, cache: false, demo: false };
}

async function ensureRuntime(): Promise<Runtime> {
  if (state.rt) return state.rt;
  const rt = await createBrowserRuntime();
  state.rt = rt;
  const a = rt.adapter;
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  const el = $('adapter');
  el.textContent = `WebGPU: ${name}${a.isFallbackAdapter ? ' (software fallback: correct but slow)' : ''}; features: ${a.features.filter((f) => ['shader-f16', 'subgroups', 'timestamp-query'].includes(f)).join(', ') || 'none of note'}`;
  el.classList.toggle('software', a.isFallbackAdapter);
  void rt.device.lost.then((info) => {
    if (state.rt !== rt) return;
    state.rt = null;
    state.model = null;
    state.modelKey = '';
    if (info.reason !== 'destroyed') {
      showError('The GPU device was lost', new DeviceError(`${info.message || 'no message'} (reason: ${info.reason}). Load the model again to continue.`));
      setState('error');
    }
  });
  return rt;
}

async function loadModel(): Promise<ProtT5Model> {
  const src = modelSource();
  if (state.model && state.modelKey === src.key) return state.model;
  state.model?.dispose();
  state.model = null;
  state.modelKey = '';
  $('model-info').textContent = '';
  setState('loading');
  const bar = $('load-progress') as HTMLProgressElement;
  const status = $('load-status');
  bar.hidden = false;
  bar.value = 0;
  status.textContent = 'opening the model…';
  let download = '';
  let tensors = '';
  const t0 = performance.now();
  try {
    const rt = await ensureRuntime();
    const model = await loadProtT5(src.source, {
      runtime: rt,
      cache: src.cache,
      onProgress: (p) => {
        if (p.phase === 'upload') {
          bar.value = p.loaded / p.total;
          tensors = `${p.loaded}/${p.total} tensors, ${mb(p.bytes)} on the GPU`;
        } else if (p.phase === 'tuning') {
          if (p.total) bar.value = p.loaded / p.total;
          tensors = `choosing kernel variants for this GPU (measured once, then remembered): ${p.op} ${p.loaded + 1}/${p.total ?? '?'}${p.variant ? `, trying ${p.variant}` : ''}…`;
        } else if (p.phase === 'compiling') {
          tensors = p.total === null ? `compiling GPU pipelines (${p.loaded})…` : `${p.total} GPU pipelines compiled`;
        }
        status.textContent = [tensors, download].filter(Boolean).join('; ');
      },
      onDownload: (d) => {
        download = `${mb(d.received)} downloaded${d.cached ? `, ${mb(d.cached)} from this browser's cache` : ''}`;
        status.textContent = [tensors, download].filter(Boolean).join('; ');
      },
    });
    state.model = model;
    state.modelKey = src.key;
    state.modelLabel = src.label;
    state.modelIsDemo = src.demo;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    status.textContent = `loaded in ${secs} s${download ? ` (${download})` : ''}`;
    $('model-info').innerHTML = '';
    const info = $('model-info');
    info.append(`${src.label}: ${model.summary}; weights ${[...model.encoder.weightDtypes].join('/')} on the GPU.`);
    if (src.demo) {
      const w = document.createElement('span');
      w.className = 'warn';
      w.textContent = ' Random weights: these embeddings mean nothing.';
      info.append(w);
    }
    return model;
  } catch (e) {
    status.textContent = 'failed';
    throw e;
  } finally {
    bar.hidden = true;
  }
}

// ---- input ------------------------------------------------------------------------------

/** FASTA, or plain sequences one per line (named seq_1, seq_2, ...). */
function parseInput(text: string): FastaRecord[] {
  if (/^\s*>/.test(text)) return parseFasta(text, 'the pasted FASTA');
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const fasta = lines.map((l, i) => `>seq_${i + 1}\n${l}`).join('\n');
  return parseFasta(fasta, 'the pasted sequences');
}

// ---- run --------------------------------------------------------------------------------

async function run(): Promise<void> {
  const text = ($('fasta') as HTMLTextAreaElement).value;
  const records = parseInput(text);
  if (records.length === 0) throw new SequenceError('no sequences: paste FASTA or plain sequences first, or load the example');
  const model = await loadModel();
  const keep = ($('per-residue') as HTMLInputElement).checked;
  const headUrls = ($('heads-urls') as HTMLTextAreaElement).value.split(/\s+/).filter(Boolean);
  const headsKey = `${state.modelKey}|${headUrls.join(' ')}`;
  if (state.headsKey !== headsKey) {
    state.heads = [];
    state.headsKey = '';
    state.heads = await loadHeads(model, headUrls);
    state.headsKey = headsKey;
  }
  const keys = headKeys(state.heads);
  setState('embedding');
  const bar = $('run-progress') as HTMLProgressElement;
  const status = $('run-status');
  bar.hidden = false;
  bar.value = 0;
  const results: Result[] = new Array(records.length);
  const totalRes = records.reduce((a, r) => a + r.sequence.length, 0);
  status.textContent = `0/${records.length} sequences`;
  const t0 = performance.now();
  let t = t0;
  try {
    const input = records.map((r) => ({ id: r.id, sequence: r.sequence }));
    for await (const batch of model.embedBatches(input, {
      outputs: ['perProtein', ...(keep ? ['perResidue'] : []), ...keys],
      onProgress: (p) => {
        bar.value = p.residues / Math.max(1, p.totalResidues);
        status.textContent = `${p.sequences}/${p.totalSequences} sequences, ${p.residues}/${totalRes} residues`;
      },
    })) {
      const now = performance.now();
      const dt = now - t;
      t = now;
      const res = batch.reduce((a, e) => a + Math.max(1, e.length), 0);
      for (const e of batch) {
        const r = records[e.index];
        results[e.index] = {
          index: e.index, id: r.id, header: r.header, sequence: r.sequence, length: e.length,
          ms: (dt * Math.max(1, e.length)) / res,
          perProtein: e.perProtein!.data,
          perResidue: e.perResidue?.data,
          heads: Object.fromEntries(keys.map((k) => [k, e.outputs[k]])),
        };
      }
    }
  } finally {
    bar.hidden = true;
  }
  const secs = (performance.now() - t0) / 1000;
  status.textContent = `${records.length} sequences, ${totalRes} residues in ${secs.toFixed(2)} s (${(totalRes / secs).toFixed(0)} residues/s)`;
  state.results = results;
  state.selected = results.reduce((best, r, i) => (r.length > results[best].length ? i : best), 0);
  renderResults();
  setState('done');
}

// ---- results ----------------------------------------------------------------------------

function renderResults(): void {
  const rs = state.results;
  $('results-section').hidden = false;
  const D = state.model?.hiddenSize ?? rs[0]?.perProtein.length ?? 0;
  $('results-summary').textContent = `${rs.length} proteins, d_model ${D}${state.modelIsDemo ? ' (demo model: random weights)' : ''}`;
  const tbody = $('results').querySelector('tbody')!;
  tbody.innerHTML = '';
  for (const r of rs) {
    const tr = document.createElement('tr');
    tr.dataset.index = String(r.index);
    const cells: Array<[string, string]> = [
      [String(r.index + 1), 'num'],
      [r.id, 'id'],
      [String(r.length), 'num'],
      [r.ms.toFixed(1), 'num'],
      [`${Array.from(r.perProtein.subarray(0, 3), (v) => v.toPrecision(6)).join('  ')}  …`, 'vec'],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      td.className = cls;
      if (cls === 'id') td.title = r.header;
      tr.append(td);
    }
    tr.addEventListener('click', () => select(r.index));
    tbody.append(tr);
  }
  const sel = $('protein-select') as HTMLSelectElement;
  sel.innerHTML = '';
  for (const r of rs) sel.append(new Option(`${r.id} (${r.length} aa)`, String(r.index)));
  select(state.selected);
}

function select(i: number): void {
  state.selected = i;
  const rs = state.results;
  document.querySelectorAll('#results tbody tr').forEach((tr) => tr.classList.toggle('selected', (tr as HTMLElement).dataset.index === String(i)));
  ($('protein-select') as HTMLSelectElement).value = String(i);
  drawScatterPlot();
  const r = rs[i];
  renderTracks($('tracks'), state.heads, r.sequence, r.heads);
  const canvas = $('heatmap') as HTMLCanvasElement;
  const D = r.perProtein.length;
  if (!r.perResidue) {
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#5b6475';
    ctx.font = '14px system-ui, sans-serif';
    ctx.fillText('Per-residue embeddings were not kept (tick "keep per-residue embeddings" and run again).', 20, 40);
    $('heatmap-range').textContent = '';
    return;
  }
  const scale = drawHeatmap(canvas, r.perResidue, r.length, D, r.sequence, `${r.id}: ${r.length} residues × ${D} dimensions`);
  $('heatmap-range').textContent = `colour scale ±${scale.toPrecision(3)}`;
}

function drawScatterPlot(): void {
  const rs = state.results;
  const canvas = $('scatter') as HTMLCanvasElement;
  const D = rs[0]?.perProtein.length ?? 0;
  const { coords, explained } = pca2(rs.map((r) => r.perProtein), D);
  const pts = rs.map((r, i) => ({ x: coords[i * 2], y: coords[i * 2 + 1], label: r.id }));
  state.scatterPos = drawScatter(canvas, pts, state.selected, [
    `PC1 (${(explained[0] * 100).toFixed(1)}% of variance)`,
    `PC2 (${(explained[1] * 100).toFixed(1)}%)`,
  ]);
  $('scatter-caption').textContent = rs.length < 3
    ? 'Per-protein embeddings (PCA needs at least 3 proteins to say much).'
    : `Per-protein embeddings of ${rs.length} proteins on their first two principal components (computed in this page). Click a point.`;
}

/** What the downloads say about where they came from. */
function provenance(): Record<string, string> {
  return {
    format: 'prott5-webgpu embeddings',
    model: state.modelLabel,
    random_weights: String(state.modelIsDemo),
    created: new Date().toISOString(),
  };
}

function saveFile(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function download(): void {
  if (!state.results.length) throw new UsageError('nothing to download yet: run the embedding first');
  const tensors: Array<{ name: string; dtype: 'F32'; shape: number[]; data: Float32Array }> = [];
  for (const r of state.results) tensors.push({ name: `per_protein/${r.id}`, dtype: 'F32', shape: [r.perProtein.length], data: r.perProtein });
  for (const r of state.results) {
    if (r.perResidue) tensors.push({ name: `per_residue/${r.id}`, dtype: 'F32', shape: [r.length, r.perProtein.length], data: r.perResidue });
  }
  // Heads' outputs as prott5 predict names them in HDF5: <head>/<output>/<id>.
  for (const r of state.results) {
    for (const h of headDatasets(state.heads, r)) tensors.push({ name: `${h.head}/${h.output}/${r.id}`, dtype: 'F32', shape: h.shape, data: h.data });
  }
  saveFile(encodeSafetensors(tensors, provenance()), 'embeddings.safetensors', 'application/octet-stream');
}

/** HDF5 in the ProtTrans layout, as `prott5 embed -o embeddings.h5` writes it; the heads' outputs as `prott5 predict --per-residue --per-protein -o x.h5` adds them. */
async function downloadHdf5(): Promise<void> {
  if (!state.results.length) throw new UsageError('nothing to download yet: run the embedding first');
  const status = $('download-status');
  status.textContent = 'writing HDF5 (the first time loads the HDF5 library, about 4 MB)…';
  try {
    const bytes = await encodeHdf5Embeddings(
      state.results.map((r) => ({ id: r.id, header: r.header, length: r.length, perProtein: r.perProtein, perResidue: r.perResidue, heads: headDatasets(state.heads, r) })),
      { prott5_model: state.modelLabel, random_weights: String(state.modelIsDemo), created: new Date().toISOString() },
    );
    saveFile(bytes, 'embeddings.h5', 'application/x-hdf5');
    status.textContent = `embeddings.h5: ${mb(bytes.length)}`;
  } catch (e) {
    status.textContent = 'HDF5 download failed';
    throw e;
  }
}

// ---- wiring -----------------------------------------------------------------------------

/** Runs a UI action: busy buttons, errors to the banner. */
function action(title: string, fn: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    if (state.busy) return;
    clearError();
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      showError(title, e);
      setState('error');
    } finally {
      setBusy(false);
    }
  };
}

async function readTextFile(file: File): Promise<void> {
  if (file.size > 256 * 2 ** 20) throw new IOError(`${file.name} is ${mb(file.size)}; the page takes FASTA files up to 256 MB`);
  ($('fasta') as HTMLTextAreaElement).value = await file.text();
}

function wire(): void {
  $('error-close').addEventListener('click', clearError);
  $('load-model').addEventListener('click', action('Could not load the model', async () => {
    await loadModel();
    setState('ready');
  }));
  $('run').addEventListener('click', action('Embedding failed', run));
  $('download').addEventListener('click', action('Download failed', download));
  $('download-h5').addEventListener('click', action('HDF5 download failed', downloadHdf5));
  $('load-example').addEventListener('click', action('Could not load the example', async () => {
    const res = await fetch(new URL('examples/sample.fasta', location.href));
    if (!res.ok) throw new IOError(`examples/sample.fasta: HTTP ${res.status}`);
    ($('fasta') as HTMLTextAreaElement).value = await res.text();
  }));
  $('fasta-file').addEventListener('change', action('Could not read the file', async () => {
    const f = ($('fasta-file') as HTMLInputElement).files?.[0];
    if (f) await readTextFile(f);
  }));
  const ta = $('fasta');
  ta.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    ta.classList.add('drop');
  });
  ta.addEventListener('dragleave', () => ta.classList.remove('drop'));
  ta.addEventListener('drop', (ev) => {
    ev.preventDefault();
    ta.classList.remove('drop');
    const f = ev.dataTransfer?.files?.[0];
    if (f) void action('Could not read the dropped file', () => readTextFile(f))();
  });
  // A file dropped elsewhere must not navigate away from the page.
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => ev.preventDefault());

  $('model-url').addEventListener('focus', () => selectChoice('url'));
  renderHubModels($('hub-models'), (url) => {
    ($('model-url') as HTMLInputElement).value = url;
    selectChoice('url');
  });
  $('clear-cache').addEventListener('click', action('Could not clear the cache', async () => {
    const had = await clearModelCache();
    $('load-status').textContent = had ? 'cached weights deleted' : 'no cached weights';
  }));
  const picked = (files: FileList | null) => {
    if (!files || files.length === 0) return;
    const bf = new BlobFiles(files);
    state.picked = bf;
    state.pickedKey++;
    selectChoice('files');
    const names = bf.fileNames;
    const useful = names.filter((n) => /^(config\.json|model.*\.safetensors(\.index\.json)?|pytorch_model\.bin)$/.test(n));
    $('files-summary').textContent = `${bf.name}: ${useful.join(', ') || 'no model files found'}${names.length > useful.length ? ` (+${names.length - useful.length} other files)` : ''}`;
  };
  $('model-folder').addEventListener('change', () => picked(($('model-folder') as HTMLInputElement).files));
  $('model-files').addEventListener('change', () => picked(($('model-files') as HTMLInputElement).files));
  const w = window as Window & { showDirectoryPicker?: (o?: { mode?: string }) => Promise<FileSystemDirectoryHandle> };
  if (typeof w.showDirectoryPicker === 'function') {
    const btn = $('pick-folder');
    btn.hidden = false;
    btn.addEventListener('click', action('Could not open the folder', async () => {
      let dir: FileSystemDirectoryHandle;
      try {
        dir = await w.showDirectoryPicker!({ mode: 'read' });
      } catch (e) {
        if ((e as DOMException).name === 'AbortError') return;
        throw e;
      }
      state.picked = new DirectoryHandleFiles(dir);
      state.pickedKey++;
      selectChoice('files');
      $('files-summary').textContent = `folder ${dir.name}/ (files are read when the model loads)`;
    }));
  }
  $('protein-select').addEventListener('change', () => select(Number(($('protein-select') as HTMLSelectElement).value)));
  $('scatter').addEventListener('click', (ev) => {
    const c = $('scatter') as HTMLCanvasElement;
    const rect = c.getBoundingClientRect();
    const x = ((ev.clientX - rect.left) * c.width) / rect.width, y = ((ev.clientY - rect.top) * c.height) / rect.height;
    let best = -1, bd = 14 * 14;
    state.scatterPos.forEach(([px, py], i) => {
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bd) [best, bd] = [i, d];
    });
    if (best >= 0) select(best);
  });
  window.addEventListener('error', (ev) => {
    showError('Unexpected error', ev.error ?? ev.message);
  });
  window.addEventListener('unhandledrejection', (ev) => {
    showError('Unexpected error', ev.reason);
  });
}

async function start(): Promise<void> {
  wire();
  const why = webgpuUnavailableReason();
  if (why) {
    $('adapter').textContent = 'WebGPU: not available in this browser';
    showError('WebGPU is not available', new DeviceError(why));
    state.noGpu = true;
    setBusy(false);
    setState('no-webgpu');
    return;
  }
  try {
    await ensureRuntime();
  } catch (e) {
    $('adapter').textContent = 'WebGPU: no usable adapter';
    showError('Could not start WebGPU', e);
    setState('no-webgpu');
    return;
  }
  setState('ready');
}

void start().catch((e) => {
  showError('The page failed to start', e);
  setState('error');
});
