// The local site the crawler examples (05-09) fetch from: a Node http server
// in a child process, so that an example may block its own thread in select()
// and still be answered. Page 0 is `/`; page i links to pages 2i+1 and 2i+2.
// `/delay/MS` answers after MS milliseconds (example 05's three servers).
import { spawn } from 'node:child_process';

const SERVER = `
const http = require('node:http');
const [pages, first, count] = process.argv.slice(1).map(Number);
const path = (i) => (i === 0 ? '/' : '/page/' + i);
const page = (i) => {
  const links = [2 * i + 1, 2 * i + 2].filter((j) => j < pages).map((j) => '<a href="' + path(j) + '">page ' + j + '</a>');
  return '<html><body><h1>page ' + i + '</h1>' + links.join(' ') + '<p>' + 'lorem ipsum '.repeat(150) + '</p></body></html>';
};
const ports = [];
function listen(k) {
  if (k === count) return console.log('listening ' + ports.join(' '));
  const server = http.createServer((req, res) => {
    const delay = /^\\/delay\\/(\\d+)$/.exec(req.url);
    if (delay) return setTimeout(() => res.end('answered after ' + delay[1] + ' ms\\n'), Number(delay[1]));
    const m = /^\\/(?:page\\/(\\d+))?$/.exec(req.url);
    const i = m ? Number(m[1] ?? 0) : -1;
    if (i < 0 || i >= pages) { res.statusCode = 404; return res.end('not found\\n'); }
    res.setHeader('content-type', 'text/html');
    res.end(page(i));
  });
  server.on('error', (err) => { console.log('error: ' + err.message); process.exit(1); });
  server.listen(first === 0 ? 0 : first + k, '127.0.0.1', () => { ports.push(server.address().port); listen(k + 1); });
}
listen(0);
process.stdin.on('end', () => process.exit(0)).resume();   // ends with its parent
`;

export interface Site {
  ports: number[];
  stop(): void;
}

/** Starts `count` servers of a site of `pages` pages on ports port..port+count-1 (0: any free ones). */
export function startSite(opts: { port?: number; pages?: number; count?: number } = {}): Promise<Site> {
  const child = spawn(process.execPath, ['-e', SERVER, String(opts.pages ?? 30), String(opts.port ?? 0), String(opts.count ?? 1)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('\n')) return;
      const line = out.split('\n')[0];
      if (!line.startsWith('listening ')) return reject(new Error(line.replace(/^error: /, 'local site: ')));
      resolve({ ports: line.slice(10).split(' ').map(Number), stop: () => child.kill() });
    });
    child.on('exit', () => reject(new Error('local site: the server process exited')));
  });
}
