/**
 * Random access to the bytes of one weights file, wherever it lives: a local file (Node),
 * a Blob/File (browser), an HTTP URL with Range requests. Readers (safetensors, PyTorch .bin)
 * are written against this interface only, so they run unchanged in Node and the browser and
 * never need a whole multi-gigabyte file in JS memory.
 */
export interface ByteSource {
  /** Shown in error messages: a path, a file name or a URL. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; rejects if the range is outside the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A ByteSource over bytes already in memory (tests, small files, Blob fallbacks). */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is outside the file (${this.size} bytes)`);
    }
    return this.bytes.subarray(offset, offset + length);
  }
}

/** Locates the files of a model folder by name, so the same loader serves disk, URLs and picked files. */
export interface ModelFiles {
  /** Shown in error messages: the folder path or URL base. */
  readonly name: string;
  /** The source for a file name inside the model folder, or null if it does not exist. */
  open(file: string): Promise<ByteSource | null>;
  /** Why `file` was not found, for the error message ("HTTP 404 for https://..."), if known. */
  whyMissing?(file: string): string | undefined;
}
