// Node only: ByteSource over a file on disk and ModelFiles over a folder. Imported by the Node
// entry and the CLI, never by the browser build.
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IOError } from '../src/errors.js';
import { refuseUnlessPlain } from './model-folder.js';
import type { ByteSource, ModelFiles } from './source.js';

export class FileSource implements ByteSource {
  private constructor(readonly name: string, readonly size: number, private readonly fh: FileHandle) {}

  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new IOError(`cannot open ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
    }
    const st = await fh.stat();
    return new FileSource(path, st.size, fh);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new IOError(`${this.name}: read of ${length} bytes at offset ${offset} is outside the file (${this.size} bytes)`, { file: this.name });
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new IOError(`${this.name}: unexpected end of file at offset ${offset + done}`, { file: this.name });
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A model folder on disk. Only plain file names inside the folder are opened. */
export class DirectoryFiles implements ModelFiles {
  readonly name: string;
  constructor(dir: string) {
    this.name = resolve(dir);
  }
  whyMissing(): string | undefined {
    return existsSync(this.name) ? undefined : 'the folder does not exist';
  }

  async open(file: string): Promise<ByteSource | null> {
    refuseUnlessPlain(this.name, file);
    try {
      return await FileSource.open(join(this.name, file));
    } catch (e) {
      if (e instanceof IOError && /ENOENT/.test(e.message)) return null;
      throw e;
    }
  }
}
