// Progress on stderr: a redrawn bar when stderr is a terminal, one line per batch otherwise,
// nothing with --quiet.

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
