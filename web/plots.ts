// The demo page's plots, drawn on plain canvases: PCA (power iteration, in float64), a 2-D
// scatter of per-protein embeddings, a per-residue heatmap. No chart library.

export interface Pca2 {
  /** [N, 2] coordinates on the first two principal components. */
  coords: Float64Array;
  /** Fraction of the total variance each component explains. */
  explained: [number, number];
}

/**
 * The first two principal components of N row vectors of length D, by power iteration on
 * XᵀX without forming it (2·N·D work per step), the second deflated against the first.
 * Deterministic: a fixed start vector and a sign convention (largest loading positive).
 */
export function pca2(rows: ArrayLike<number>[], D: number): Pca2 {
  const N = rows.length;
  const X = new Float64Array(N * D);
  const mean = new Float64Array(D);
  for (const r of rows) for (let d = 0; d < D; d++) mean[d] += r[d] / N;
  let total = 0;
  rows.forEach((r, i) => {
    for (let d = 0; d < D; d++) {
      const v = r[d] - mean[d];
      X[i * D + d] = v;
      total += v * v;
    }
  });
  const coords = new Float64Array(N * 2);
  const explained: [number, number] = [0, 0];
  if (N < 2 || total === 0) return { coords, explained };
  const comps: Float64Array[] = [];
  const u = new Float64Array(N);
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(D);
    for (let d = 0; d < D; d++) v[d] = 1 + ((d * 7919) % 13) / 13; // fixed, not orthogonal to anything in particular
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      for (const p of comps) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += v[d] * p[d];
        for (let d = 0; d < D; d++) v[d] -= dot * p[d];
      }
      for (let i = 0; i < N; i++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += X[i * D + d] * v[d];
        u[i] = s;
      }
      const w = new Float64Array(D);
      for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) w[d] += X[i * D + d] * u[i];
      for (const p of comps) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += w[d] * p[d];
        for (let d = 0; d < D; d++) w[d] -= dot * p[d];
      }
      let norm = 0;
      for (let d = 0; d < D; d++) norm += w[d] * w[d];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let d = 0; d < D; d++) w[d] /= norm;
      let change = 0;
      for (let d = 0; d < D; d++) change = Math.max(change, Math.abs(w[d] - v[d]));
      v = w;
      const converged = Math.abs(norm - lambda) <= 1e-12 * norm && change < 1e-9;
      lambda = norm;
      if (converged) break;
    }
    let big = 0;
    for (let d = 0; d < D; d++) if (Math.abs(v[d]) > Math.abs(v[big])) big = d;
    if (v[big] < 0) for (let d = 0; d < D; d++) v[d] = -v[d];
    let varc = 0;
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += X[i * D + d] * v[d];
      coords[i * 2 + c] = s;
      varc += s * s;
    }
    explained[c] = varc / total;
    comps.push(v);
  }
  return { coords, explained };
}

// Diverging colour map: blue (negative), near-white (0), red (positive).
function diverging(t: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, t));
  const lo: [number, number, number] = [49, 84, 180], mid: [number, number, number] = [246, 246, 246], hi: [number, number, number] = [186, 28, 40];
  const [a, b, s] = x < 0 ? [mid, lo, -x] : [mid, hi, x];
  return [a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, a[2] + (b[2] - a[2]) * s];
}

/** The q-quantile of |values| over an evenly spaced sample of at most 200k values. */
export function absQuantile(values: ArrayLike<number>, q: number): number {
  const step = Math.max(1, Math.floor(values.length / 200_000));
  const s: number[] = [];
  for (let i = 0; i < values.length; i += step) s.push(Math.abs(values[i]));
  if (!s.length) return 0;
  s.sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/**
 * Heatmap of a per-residue embedding [L, D]: residues along x, dimensions along y, scaled to
 * the canvas. Returns the colour scale used (±scale saturates).
 */
export function drawHeatmap(canvas: HTMLCanvasElement, data: Float32Array, L: number, D: number, sequence: string, title: string): number {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height;
  const left = 48, right = 70, top = 22, bottom = 46;
  const pw = W - left - right, ph = H - top - bottom;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  const scale = absQuantile(data, 0.99) || 1;
  // One pixel per (residue, dim), then scaled without smoothing.
  const img = new ImageData(L, D);
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) {
      const [r, g, b] = diverging(data[l * D + d] / scale);
      const o = (d * L + l) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = L;
  off.height = D;
  off.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, left, top, pw, ph);
  ctx.strokeStyle = '#8a93a3';
  ctx.strokeRect(left - 0.5, top - 0.5, pw + 1, ph + 1);
  ctx.fillStyle = '#1d2330';
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'bottom';
  ctx.fillText(title, left, top - 5);
  // y axis: dimensions.
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const d of [0, Math.floor(D / 2), D - 1]) ctx.fillText(`dim ${d}`, left - 4, top + ((d + 0.5) / D) * ph);
  // x axis: residue letters when they fit, positions otherwise.
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const cw = pw / L;
  if (cw >= 7) {
    ctx.font = `${Math.min(11, Math.floor(cw))}px ui-monospace, monospace`;
    for (let l = 0; l < L; l++) ctx.fillText(sequence[l] ?? '', left + (l + 0.5) * cw, top + ph + 3);
  }
  ctx.font = '10px system-ui, sans-serif';
  const tick = Math.max(1, Math.ceil(L / 10 / 10) * 10);
  for (let l = 0; l < L; l += tick) ctx.fillText(String(l + 1), left + (l + 0.5) * cw, top + ph + (cw >= 7 ? 17 : 3));
  ctx.fillText('residue', left + pw / 2, top + ph + (cw >= 7 ? 31 : 17));
  // Colour bar.
  const bx = W - right + 18, bw = 12;
  for (let y = 0; y < ph; y++) {
    const [r, g, b] = diverging(1 - (2 * y) / (ph - 1));
    ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
    ctx.fillRect(bx, top + y, bw, 1);
  }
  ctx.strokeRect(bx - 0.5, top - 0.5, bw + 1, ph + 1);
  ctx.fillStyle = '#1d2330';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(`+${scale.toPrecision(2)}`, bx + bw + 3, top + 4);
  ctx.fillText('0', bx + bw + 3, top + ph / 2);
  ctx.fillText(`−${scale.toPrecision(2)}`, bx + bw + 3, top + ph - 4);
  return scale;
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
}

/** Scatter plot with labels; returns the points' canvas positions for hit testing. */
export function drawScatter(canvas: HTMLCanvasElement, pts: ScatterPoint[], selected: number, axes: [string, string]): Array<[number, number]> {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height;
  const pad = { l: 40, r: 16, t: 14, b: 36 };
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
  const span = (v: number[]) => {
    const lo = Math.min(...v), hi = Math.max(...v);
    const m = hi - lo || Math.abs(hi) || 1;
    return [lo - 0.08 * m, hi + 0.08 * m];
  };
  const [x0, x1] = pts.length ? span(xs) : [-1, 1];
  const [y0, y1] = pts.length ? span(ys) : [-1, 1];
  const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const py = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  // Axes and zero lines.
  ctx.strokeStyle = '#c9d0dc';
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.l - 0.5, pad.t - 0.5, W - pad.l - pad.r + 1, H - pad.t - pad.b + 1);
  ctx.setLineDash([3, 3]);
  if (x0 < 0 && x1 > 0) { ctx.beginPath(); ctx.moveTo(px(0), pad.t); ctx.lineTo(px(0), H - pad.b); ctx.stroke(); }
  if (y0 < 0 && y1 > 0) { ctx.beginPath(); ctx.moveTo(pad.l, py(0)); ctx.lineTo(W - pad.r, py(0)); ctx.stroke(); }
  ctx.setLineDash([]);
  ctx.fillStyle = '#1d2330';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(axes[0], pad.l + (W - pad.l - pad.r) / 2, H - 8);
  ctx.save();
  ctx.translate(13, pad.t + (H - pad.t - pad.b) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(axes[1], 0, 0);
  ctx.restore();
  const pos: Array<[number, number]> = pts.map((p) => [px(p.x), py(p.y)]);
  const labels = pts.length <= 60;
  pts.forEach((p, i) => {
    if (i === selected) return;
    ctx.fillStyle = 'rgba(36, 88, 198, 0.8)';
    ctx.beginPath();
    ctx.arc(pos[i][0], pos[i][1], 5, 0, 2 * Math.PI);
    ctx.fill();
    if (labels) {
      ctx.fillStyle = '#3b4456';
      ctx.font = '10px system-ui, sans-serif';
      label(ctx, p.label.slice(0, 24), pos[i][0], pos[i][1], 7, W);
    }
  });
  if (selected >= 0 && selected < pts.length) {
    const [x, y] = pos[selected];
    ctx.fillStyle = '#c0262d';
    ctx.beginPath();
    ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#c0262d';
    ctx.font = 'bold 11px system-ui, sans-serif';
    label(ctx, pts[selected].label.slice(0, 30), x, y, 9, W);
  }
  return pos;
}

/** A point's label to its right, or to its left where it would run off the canvas. */
function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, gap: number, W: number): void {
  ctx.textBaseline = 'middle';
  const right = x + gap + ctx.measureText(text).width <= W - 2;
  ctx.textAlign = right ? 'left' : 'right';
  ctx.fillText(text, right ? x + gap : x - gap, y);
}
