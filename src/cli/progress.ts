// Progress on stderr: a redrawn bar when stderr is a terminal, one line per batch otherwise,
// nothing with --quiet. Also the hub download's progress line (weights/hub.ts draws nothing).
import type { DownloadProgress } from '../../weights/hub.js';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
};

export class Progress {
  private readonly t0 = Date.now();
  private readonly tty: boolean;

  constructor(private readonly quiet: boolean, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  note(message: string): void {
    if (this.quiet) return;
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(`${message}\n`);
  }

  update(done: number, total: number, residues: number, totalResidues: number, startResidues = 0): void {
    if (this.quiet) return;
    const secs = (Date.now() - this.t0) / 1000;
    const rate = (residues - startResidues) / Math.max(secs, 1e-3);
    const eta = (totalResidues - residues) / rate;
    const stats = `${done}/${total} records, ${residues}/${totalResidues} residues, ${rate.toFixed(0)} residues/s, ETA ${fmtTime(eta)}`;
    if (this.tty) {
      const width = 24, fill = Math.round((width * residues) / Math.max(totalResidues, 1));
      this.stream.write(`\r\x1b[K[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${stats}`);
      if (done === total) this.stream.write('\n');
    } else {
      this.stream.write(`${stats}\n`);
    }
  }
}

/** 1234567 → "1.2 MB". */
function size(n: number): string {
  if (n < 1e3) return `${n} B`;
  const [div, unit] = n < 1e6 ? [1e3, 'kB'] : n < 1e9 ? [1e6, 'MB'] : [1e9, 'GB'];
  return `${(n / div).toFixed(1)} ${unit}`;
}

/**
 * A progress callback that draws one line on a stream (stderr): redrawn in place on a
 * terminal; otherwise (a log file) a line when a file starts, every 10% of a large file, and
 * when it is done.
 */
export function downloadProgressLine(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  const tty = Boolean(stream.isTTY);
  let last = 0;
  let current = '';
  let decile = -1;
  return (p) => {
    const pct = p.total ? Math.floor((100 * p.done) / p.total) : p.total === 0 ? 100 : null;
    const text = `downloading ${p.repo}/${p.file}: ${size(p.done)}${p.total !== null ? ` of ${size(p.total)} (${pct}%)` : ''}`;
    if (tty) {
      const now = Date.now();
      if (!p.finished && now - last < 100 && current === p.file) return;
      last = now;
      current = p.file;
      stream.write(`\r\x1b[K${text}${p.finished ? '\n' : ''}`);
      return;
    }
    if (current !== p.file) {
      current = p.file;
      decile = pct === null ? -1 : Math.floor(pct / 10);
      if (!p.finished) stream.write(`downloading ${p.repo}/${p.file}${p.done > 0 ? ` (continuing at ${size(p.done)})` : ''}\n`);
    }
    if (p.finished) {
      stream.write(`${text}\n`);
      current = '';
    } else if (pct !== null && p.total! >= 10e6 && Math.floor(pct / 10) > decile) {
      decile = Math.floor(pct / 10);
      stream.write(`${text}\n`);
    }
  };
}
