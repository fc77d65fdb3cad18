/**
 * The static file server of `resdet serve`: it serves exactly the files that were in its folder
 * when it started, nothing else. The URL never becomes a file path: the folder is listed once
 * into a table `URL path -> file`, and a request is answered only when its decoded path is a key
 * of that table. So `/../x`, `/%2e%2e/x`, `/a%2fb`, `//etc/passwd`, a NUL byte or a symbolic link
 * pointing out of the folder can never reach a file outside it (links are not followed when the
 * folder is listed).
 *
 * GET and HEAD only (anything else: 405 with `Allow`); an unknown path, and any path that is not
 * a plain file name of the table (traversal, bad percent-encoding): 404. The page runs tfjs's threaded wasm only in a cross-origin isolated page, so
 * every answer carries COOP/COEP (and nosniff, no caching: the files are a run's snapshot).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Content types by file extension; other files are served as bytes. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.safetensors': 'application/octet-stream',
};

/**
 * The regular files under `root` by URL path (`/index.html`, `/wasm/x.wasm`), symbolic links and
 * special files left out; `/` maps to `/index.html` when there is one.
 */
export function listSite(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file, `${prefix}${e.name}/`);
      else if (e.isFile()) files.set(`${prefix}${e.name}`, file);
    }
  };
  walk(path.resolve(root), '/');
  if (files.has('/index.html')) files.set('/', files.get('/index.html')!);
  return files;
}

/**
 * The table key a request target names: its path without the query, each segment
 * percent-decoded. Undefined when the target is not an origin-form path or a segment decodes to
 * something that cannot be a file name (`.`, `..`, a slash, a backslash, a NUL).
 */
export function siteKey(target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  const raw = target.split(/[?#]/, 1)[0];
  const segments: string[] = [];
  for (const [i, s] of raw.split('/').entries()) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    if (d === '.' || d === '..' || /[/\\\0]/.test(d)) return undefined;
    // an empty segment is only allowed first ("/x" splits into "", "x") and last (a folder-like "/")
    if (d === '' && i !== 0 && raw !== '/') return undefined;
    segments.push(d);
  }
  return segments.join('/') || '/';
}

/** A running site server. */
export interface SiteServer {
  /** e.g. `http://127.0.0.1:8080/` */
  url: string;
  port: number;
  /** stops listening and closes open connections */
  close(): Promise<void>;
}

/**
 * Serves the files under `root` (listed once, now) on `host:port` (port 0: any free port).
 * @throws an Error when the port cannot be bound (EADDRINUSE, EACCES)
 */
export async function serveSite(root: string, host: string, port: number): Promise<SiteServer> {
  const files = listSite(root);
  const server = http.createServer((req, res) => {
    const send = (status: number, text: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed', { Allow: 'GET, HEAD' });
    const key = siteKey(req.url ?? '');
    const file = key === undefined ? undefined : files.get(key);
    if (!file) return send(404, 'not found');
    let body: Buffer;
    try {
      body = fs.readFileSync(file);
    } catch {
      return send(404, 'not found');
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(body.length),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
