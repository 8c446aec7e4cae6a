// Buffer pool: storage buffers are reused by size class, and every real allocation is
// recorded, so tests and benches can assert on memory (peak bytes, largest buffer) without timing.

/** Size classes 2^k and 1.5·2^k (≤ 33% slack), at least 256 bytes. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  if (bytes === p) return p;
  if (bytes <= p * 1.5) return p * 1.5;
  return p * 2;
}

export interface AllocationRecord {
  label: string;
  bytes: number;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  /** Every createBuffer the pool made, in order. */
  readonly allocations: AllocationRecord[] = [];
  /** Bytes held by the pool (in use + free), now and at most. */
  liveBytes = 0;
  peakBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly maxBufferSize: number) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = Math.min(sizeClass(bytes), Math.max(bytes, this.maxBufferSize));
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    const hit = list?.pop();
    if (hit) return hit;
    const buffer = this.device.createBuffer({ size, usage, label });
    this.allocations.push({ label, bytes: size });
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
  }

  /** Destroys every free buffer (after a run, or before a differently shaped workload). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.liveBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  /** Starts a fresh measurement window for peakBytes. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}
