// The two entry points export one list of public names (src/api.ts), values and types alike:
// each adds only its own platform's names, listed here. Read from the built files users get
// (dist/node.js, dist/browser.js, and their declarations under dist/types).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { repoRoot } from './helpers.js';

const ROOT = repoRoot();

/** What only one entry has: its loader, device, files and tune store. */
const NODE_ONLY = ['loadProtT5', 'demoModel', 'downloadModel', 'createNodeRuntime', 'FileTuneStore', 'DirectoryFiles', 'FileSource', 'NodeGpuOptions', 'NodeLoadOptions', 'HubOptions'];
const BROWSER_ONLY = [
  'loadProtT5', 'createBrowserRuntime', 'webgpuUnavailableReason', 'CacheTuneStore', 'LocalStorageTuneStore', 'UrlFiles', 'UrlSource', 'BlobFiles', 'BlobSource',
  'DirectoryHandleFiles', 'clearModelCache', 'DEFAULT_CACHE_NAME', 'BrowserGpuOptions', 'BrowserLoadOptions', 'UrlFilesOptions', 'DownloadProgress',
];
/** Names the issue found missing from one entry or both. */
const MUST_HAVE = ['LoadProgress', 'encodeSafetensors', 'readSafetensors', 'MemorySource', 'NonFiniteWeights', 'ErrorCode', 'UsageError', 'EmbeddingFor', 'ProtT5Model', 'EmbeddingModel'];

const sorted = (a: Iterable<string>) => [...new Set(a)].sort();
const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

/** Every name (value or type) a declaration file exports, by the compiler's own reading. */
function declaredNames(): { node: string[]; browser: string[] } {
  const files = ['node', 'browser'].map((n) => join(ROOT, 'dist', 'types', 'src', `${n}.d.ts`));
  const program = ts.createProgram(files, { strict: true, skipLibCheck: true, types: ['@webgpu/types', 'node'], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'] });
  const checker = program.getTypeChecker();
  const names = (f: string) => checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(f)!)!).map((s) => s.name);
  return { node: sorted(names(files[0])), browser: sorted(names(files[1])) };
}

test('the runtime exports of dist/node.js and dist/browser.js differ only by the platform names', async () => {
  const node = sorted(Object.keys(await import(pathToFileURL(join(ROOT, 'dist', 'node.js')).href)));
  const browser = sorted(Object.keys(await import(pathToFileURL(join(ROOT, 'dist', 'browser.js')).href)));
  assert.equal(minus(node, browser), minus(NODE_ONLY, ['NodeGpuOptions', 'NodeLoadOptions', 'HubOptions']).filter((n) => n !== 'loadProtT5').sort(), 'Node-only values');
  assert.equal(minus(browser, node), minus(BROWSER_ONLY, ['BrowserGpuOptions', 'BrowserLoadOptions', 'UrlFilesOptions', 'DownloadProgress', 'loadProtT5']).sort(), 'browser-only values');
  for (const n of ['loadProtT5', 'encodeSafetensors', 'readSafetensors', 'MemorySource', 'UsageError']) {
    assert.ok(node.includes(n) && browser.includes(n), `${n} in both`);
  }
});

test('the declared exports (values and types) of both entries differ only by the platform names', () => {
  const { node, browser } = declaredNames();
  assert.equal(minus(node, browser), minus(NODE_ONLY, ['loadProtT5']).sort(), 'Node-only names');
  assert.equal(minus(browser, node), minus(BROWSER_ONLY, ['loadProtT5']).sort(), 'browser-only names');
  for (const n of MUST_HAVE) assert.ok(node.includes(n) && browser.includes(n), `${n} is declared by both entries`);
});

test.run();
