/**
 * The dashboard's static files (issue 7 "A page at / (static assets served
 * by the server, no CDN)"): a fixed list of files from the package's
 * `public/` folder — no path from the URL ever reaches the file system —
 * read once and kept in memory.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const FILES: Readonly<Record<string, { file: string; type: string }>> = Object.freeze({
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/purged.js': { file: 'purged.js', type: 'text/javascript; charset=utf-8' },
  '/integrity.js': { file: 'integrity.js', type: 'text/javascript; charset=utf-8' },
  '/alerts.js': { file: 'alerts.js', type: 'text/javascript; charset=utf-8' },
  '/export.js': { file: 'export.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
});

const cache = new Map<string, Buffer>();

/** Whether `path` is one of the dashboard's files. */
export function isStaticPath(path: string): boolean {
  return Object.hasOwn(FILES, path);
}

/** Serve the dashboard file at `path` (one of {@link isStaticPath}). */
export function serveStatic(res: ServerResponse, path: string, head: boolean): void {
  const entry = FILES[path]!;
  let body = cache.get(entry.file);
  if (body === undefined) {
    body = readFileSync(new URL(`../../public/${entry.file}`, import.meta.url));
    cache.set(entry.file, body);
  }
  res.writeHead(200, { 'Content-Type': entry.type, 'Content-Length': body.length });
  res.end(head ? undefined : body);
}
