// What the dashboard's browser tests share: free demo ports, bounded waits, Chromium, and the built
// page served the way the worker serves it (/ops/mesh/...).
import { createServer } from 'net';
import { existsSync, readFileSync } from 'fs';
import { dirname, extname, join } from 'path';
import { fileURLToPath } from 'url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'web', 'dist');

const bindable = (port) => new Promise((res) => {
  const s = createServer();
  s.once('error', () => res(false));
  s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
});
// Three consecutive ports, below the ephemeral range (32768+) so that the client sockets of tests
// running beside this one cannot take base+1 or base+2 between this check and the demo's listen.
export const freeBase = async () => {
  for (let tries = 0; tries < 100; tries++) {
    const b = 20000 + Math.floor(Math.random() * 12000);
    if ((await bindable(b)) && (await bindable(b + 1)) && (await bindable(b + 2))) return b;
  }
  throw new Error('no three free consecutive ports in 20000-32000');
};

// Polls pred every 100 ms until it holds; throws after ms.
export const until = async (pred, ms, what) => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await pred().catch(() => false)) return true; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error(`timed out waiting for ${what}`);
};

export const launchChromium = (chromium) => chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'] });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
// A file of web/dist for a path under /ops/mesh (404 outside it).
export function serveDist(pathname, res) {
  const file = join(dist, pathname.replace(/^\/ops\/mesh\/?/, '') || 'index.html');
  if (!file.startsWith(dist) || !existsSync(file)) { res.writeHead(404); res.end('{}'); return; }
  res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}
