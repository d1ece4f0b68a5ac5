import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { contentSecurityPolicy, escapeHtml, renderWebviewHtml } from '../../../src/host/panel/webview-html';

/**
 * Serves the standalone harness: the outer replay page, the real panel HTML (from webview-html.ts, with
 * a fresh nonce each load), the built bundles and the recorded streams. The tests hand these responses
 * to Chromium through request interception, so no port is opened; `npm run harness` serves them on
 * 127.0.0.1 for a person.
 */
export const HARNESS_ORIGIN = 'http://loss-lens.test';

export interface HarnessResponse {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.ndjson': 'application/x-ndjson',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

function nonce(): string {
  return randomBytes(18).toString('base64url');
}

function harnessHtml(origin: string): string {
  const n = nonce();
  const csp = contentSecurityPolicy(origin, n).replace("default-src 'none'", `default-src 'none'; frame-src ${origin}; connect-src ${origin}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>Loss Lens webview harness</title>
<link rel="stylesheet" href="/harness/harness.css">
</head>
<body>
<div id="harness-controls" role="toolbar" aria-label="Harness controls"></div>
<iframe id="panel" title="Loss Lens panel" src="/panel.html"></iframe>
<script nonce="${n}" src="/harness/harness.js"></script>
</body>
</html>
`;
}

export function createHarnessResolver(rootDir: string, origin = HARNESS_ORIGIN) {
  const file = (p: string): HarnessResponse => {
    if (!existsSync(p)) return { status: 404, contentType: 'text/plain', body: `not found: ${path.relative(rootDir, p)}` };
    return { status: 200, contentType: TYPES[path.extname(p)] ?? 'application/octet-stream', body: readFileSync(p) };
  };
  const inside = (base: string, rel: string): string | null => {
    const p = path.resolve(base, rel);
    return p.startsWith(base + path.sep) ? p : null;
  };
  return (urlPath: string): HarnessResponse => {
    const pathname = decodeURIComponent(urlPath.split('?')[0]);
    if (pathname === '/' || pathname === '/harness.html') return { status: 200, contentType: TYPES['.html'], body: harnessHtml(origin) };
    if (pathname === '/panel.html') {
      // ?script=… paints the panel for a script before any message arrives, as the extension's panel does.
      const script = new URLSearchParams(urlPath.split('?')[1] ?? '').get('script') ?? undefined;
      const html = renderWebviewHtml({ scriptUri: '/webview/main.js', styleUri: '/webview/main.css', cspSource: origin, nonce: nonce(), script });
      return { status: 200, contentType: TYPES['.html'], body: html };
    }
    if (pathname === '/harness/harness.css') return file(path.join(rootDir, 'test/webview/harness/harness.css'));
    if (pathname === '/streams/index.json') {
      const dir = path.join(rootDir, 'test/fixtures/streams');
      const names = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).map((f) => f.replace(/\.ndjson$/, ''));
      return { status: 200, contentType: TYPES['.json'], body: JSON.stringify(names) };
    }
    const routes: Array<[string, string]> = [
      ['/webview/', path.join(rootDir, 'dist/webview')],
      ['/harness/', path.join(rootDir, 'dist/harness')],
      ['/streams/', path.join(rootDir, 'test/fixtures/streams')],
    ];
    for (const [prefix, base] of routes) {
      if (!pathname.startsWith(prefix)) continue;
      const p = inside(base, pathname.slice(prefix.length));
      return p ? file(p) : { status: 403, contentType: 'text/plain', body: 'forbidden' };
    }
    return { status: 404, contentType: 'text/plain', body: 'not found' };
  };
}

/** For a person: `npm run harness`, then open the printed address. Listens on loopback only. */
export function startHarnessServer(rootDir: string, port: number): Promise<Server> {
  const origin = `http://127.0.0.1:${port}`;
  const resolve = createHarnessResolver(rootDir, origin);
  const server = createServer((req, res) => {
    const r = resolve(req.url ?? '/');
    res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-store', ...r.headers });
    res.end(r.body);
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

// Run directly (dist/harness/server.cjs): serve the harness for manual work.
if (typeof require !== 'undefined' && require.main === module) {
  const port = Number(process.env.PORT ?? 5177);
  void startHarnessServer(path.resolve(__dirname, '../..'), port).then(() => {
    console.log(`Loss Lens webview harness: http://127.0.0.1:${port}/`);
  });
}
