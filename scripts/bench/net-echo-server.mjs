#!/usr/bin/env node
// Node's own `net` echo server for `npm run bench:echo`: what a user would
// write without iomux. socket.pipe(socket) is the idiomatic form and keeps
// back-pressure right (a client that stops reading pauses its reads).
// noDelay matches the iomux and C servers, which set TCP_NODELAY.
//
//   node scripts/bench/net-echo-server.mjs [--host 127.0.0.1] [--port 0]
//
// First line: {"event":"listening","host":...,"port":N,"pid":N}, as `iomux echo --json`.
import * as net from 'node:net';

const argv = process.argv.slice(2);
const arg = (name, def) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy()); // resets from the load generator are expected at the end
  socket.pipe(socket);
});
server.listen({ host, port, backlog: 1024 }, () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ event: 'listening', host: a.address, port: a.port, pid: process.pid }) + '\n');
});
// The benchmark stops it between cells; open connections need no goodbye.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
