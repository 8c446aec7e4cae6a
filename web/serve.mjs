// A small static server for the demo page and the browser tests (Node's http module only).
// Serves web/ at /, dist/ at /dist/, examples/ at /examples/ (plus any extra mounts), with
// HTTP Range requests (the page streams weights tensor by tensor), HEAD, ETag/Last-Modified,
// and CORS headers so another origin may load models from it. Listens on 127.0.0.1 only.
//
//   node web/serve.mjs [--port 8787]      (npm run demo:web)
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding package.json (also when bundled into build/). */
function repoRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dir === dirname(dir)) return resolve(dirname(fileURLToPath(import.meta.url)), '..');
    dir = dirname(dir);
  }
  return dir;
}
const REPO = repoRoot();

export const DEFAULT_MOUNTS = { '/': 'web', '/dist/': 'dist', '/examples/': 'examples' };

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.fasta': 'text/plain; charset=utf-8',
  '.fa': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Maps a URL path to a file under one of the mounts, or null (never outside a mount's folder). */
function locate(mounts, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (!path.startsWith(prefix)) continue;
    const root = resolve(REPO, mounts[prefix]);
    const file = resolve(root, '.' + sep + path.slice(prefix.length));
    if (file !== root && !file.startsWith(root + sep)) return null;
    return file;
  }
  return null;
}

/** Parses a single `bytes=` range against `size`: {start, end} (inclusive), 'unsatisfiable', or null (serve whole). */
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(header).trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // multiple or malformed ranges: whole file
  let start, end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/**
 * Starts the server. `mounts` maps URL prefixes (ending in /) to folders relative to the repo
 * root. Returns { url, port, close() }; `url` uses the host name localhost (a secure context,
 * which WebGPU requires).
 */
export async function startServer({ port = 0, mounts = DEFAULT_MOUNTS, log = false } = {}) {
  const server = createServer((req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'access-control-allow-origin': '*' });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': 'range',
        'access-control-max-age': '86400',
      });
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file = locate(mounts, urlPath);
    if (!file) return send(404, 'not found\n');
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        if (!urlPath.endsWith('/')) {
          res.writeHead(301, { location: urlPath + '/' });
          return res.end();
        }
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      return send(404, 'not found\n');
    }
    if (!st.isFile()) return send(404, 'not found\n');
    const size = st.size;
    const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'last-modified': st.mtime.toUTCString(),
      etag,
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'content-range, content-length, etag, accept-ranges',
    };
    let start = 0, end = size - 1, status = 200;
    const rangeHeader = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (rangeHeader && (!ifRange || ifRange === etag)) {
      const r = parseRange(rangeHeader, size);
      if (r === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 });
        return res.end();
      }
      if (r) {
        ({ start, end } = r);
        status = 206;
        headers['content-range'] = `bytes ${start}-${end}/${size}`;
      }
    }
    headers['content-length'] = size === 0 ? 0 : end - start + 1;
    if (log) console.log(`${req.method} ${urlPath}${status === 206 ? ` [${start}-${end}]` : ''} ${status}`);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) return res.end();
    const stream = createReadStream(file, { start, end });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  const listen = (p) =>
    new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', fail);
        ok(server.address().port);
      });
    });
  let bound;
  for (let attempt = 0; ; attempt++) {
    try {
      bound = await listen(port === 0 ? 0 : port + attempt);
      break;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || port === 0 || attempt >= 20) throw e;
    }
  }
  return {
    port: bound,
    url: `http://localhost:${bound}/`,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

// Run as a script: serve the demo page.
if (process.argv[1] && basename(process.argv[1]) === 'serve.mjs') {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8787);
  const missing = ['dist/browser.js', 'dist/web/app.js'].filter((f) => {
    try { return !statSync(resolve(REPO, f)).isFile(); } catch { return true; }
  });
  if (missing.length) console.warn(`demo:web: ${missing.join(', ')} missing: run "npm run build" first`);
  const s = await startServer({ port, log: process.argv.includes('--log') });
  console.log(`prott5-webgpu demo page: ${s.url}   (serving web/, dist/, examples/ from ${REPO}; Ctrl-C stops)`);
  console.log('Open it in a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows).');
  process.on('SIGINT', () => s.close().then(() => process.exit(0)));
}
