// Streams embeddings into a safetensors file: the header is written first (every record's
// shape is known from the FASTA), then each tensor at its offset as its batch finishes, in
// whatever order the batches come.
import { open, type FileHandle } from 'node:fs/promises';
import { IOError } from '../errors.js';
import { safetensorsHeader } from '../../weights/safetensors.js';

export class SafetensorsStreamWriter {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly start: Map<string, { offset: number; bytes: number }>,
  ) {}

  static async create(path: string, tensors: Array<{ name: string; shape: number[] }>, metadata?: Record<string, string>): Promise<SafetensorsStreamWriter> {
    const { header, offsets } = safetensorsHeader(tensors.map((t) => ({ ...t, dtype: 'F32' as const })), metadata);
    let fh: FileHandle;
    try {
      fh = await open(path, 'w');
      await fh.write(header, 0, header.byteLength, 0);
    } catch (e) {
      throw new IOError(`cannot write ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
    }
    const start = new Map(tensors.map((t, i) => [t.name, { offset: header.byteLength + offsets[i], bytes: t.shape.reduce((a, b) => a * b, 1) * 4 }]));
    return new SafetensorsStreamWriter(fh, path, start);
  }

  async write(name: string, data: Float32Array): Promise<void> {
    const at = this.start.get(name);
    if (!at || at.bytes !== data.byteLength) throw new IOError(`${this.path}: tensor "${name}" was not declared with ${data.byteLength} bytes`, { file: this.path });
    try {
      await this.fh.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, at.offset);
    } catch (e) {
      throw new IOError(`cannot write ${this.path}: ${(e as Error).message}`, { file: this.path }, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.fh.sync();
    await this.fh.close();
  }
}
