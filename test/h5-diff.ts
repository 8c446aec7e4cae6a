// Compares two embeddings HDF5 files: the same datasets (names, shapes, dtype, attributes) and
// root attributes, values within `tol` (absolute; 0: bit for bit). The first difference, or null.
import { readHdf5Embeddings, readHdf5RootAttributes } from '../src/cli/hdf5.js';

export async function diffHdf5(got: string, want: string, { tol = 0, ignoreRoot = [] as string[] } = {}): Promise<string | null> {
  const [x, y] = [await readHdf5Embeddings(got), await readHdf5Embeddings(want)];
  const names = (m: Map<string, unknown>) => [...m.keys()].sort().join(',');
  if (names(x) !== names(y)) return `datasets differ: ${x.size} [${[...x.keys()].slice(0, 5)}...] vs ${y.size} expected [${[...y.keys()].slice(0, 5)}...]`;
  let worst = 0;
  for (const [k, w] of y) {
    const g = x.get(k)!;
    if (g.shape.join() !== w.shape.join()) return `${k}: shape [${g.shape}] vs [${w.shape}]`;
    if (g.half !== w.half) return `${k}: float16 ${g.half} vs ${w.half}`;
    if (JSON.stringify(g.attrs) !== JSON.stringify(w.attrs)) return `${k}: attributes ${JSON.stringify(g.attrs)} vs ${JSON.stringify(w.attrs)}`;
    for (let i = 0; i < w.data.length; i++) {
      const d = Math.abs(g.data[i] - w.data[i]);
      if (tol === 0 ? !Object.is(g.data[i], w.data[i]) : !(d <= tol)) return `${k}[${i}]: ${g.data[i]} vs ${w.data[i]}`;
      worst = Math.max(worst, d);
    }
  }
  const [ra, rb] = [await readHdf5RootAttributes(got), await readHdf5RootAttributes(want)];
  for (const k of ignoreRoot) {
    delete ra[k];
    delete rb[k];
  }
  if (JSON.stringify(ra) !== JSON.stringify(rb)) return `root attributes ${JSON.stringify(ra)} vs ${JSON.stringify(rb)}`;
  return null;
}
