// Step 3: the same echo server on raw epoll(7) (Linux). Instead of handing the
// kernel every fd on every call, we register each fd once and change its
// interest only when it changes: the cost of a wait no longer grows with the
// number of idle connections. No FD_SETSIZE limit either.
//
//   node dist/examples/03-epoll-echo-server.js [port]     (default 8801; 0 = any)
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, Socket, SO_REUSEADDR, SOL_SOCKET } from 'iomux';

const port = Number(process.argv[2] ?? 8801);
const listener = new Socket();
listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
try {
  listener.bind(['127.0.0.1', port]); // a port that is taken: EADDRINUSE, one line and exit 1
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
listener.listen();
listener.setBlocking(false);
console.log(`listening on 127.0.0.1:${(listener.getsockname() as [string, number])[1]}`);

const ep = new Epoll();
ep.register(listener, EPOLLIN);

// epoll reports fds, so connections are found by fd.
const clients = new Map<number, { sock: Socket; owed: Buffer[] }>();

function drop(fd: number): void {
  const c = clients.get(fd);
  if (!c) return;
  clients.delete(fd);
  ep.unregister(fd);
  c.sock.close();
}

// Write what we can; then watch for EPOLLOUT only while something is left.
function flush(fd: number): void {
  const c = clients.get(fd)!;
  while (c.owed.length > 0) {
    const n = c.sock.send(c.owed[0]);
    if (n === null) break;
    if (n < c.owed[0].length) {
      c.owed[0] = c.owed[0].subarray(n);
      break;
    }
    c.owed.shift();
  }
  ep.modify(fd, c.owed.length > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

for (;;) {
  for (const [fd, events] of ep.poll(null)) {
    if (fd === listener.fileno()) {
      let accepted;
      while ((accepted = listener.accept()) !== null) {
        const sock = accepted[0];
        sock.setBlocking(false);
        clients.set(sock.fileno(), { sock, owed: [] });
        ep.register(sock, EPOLLIN);
      }
      continue;
    }
    const c = clients.get(fd);
    if (!c) continue;
    try {
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        const data = c.sock.recv(4096);
        if (data !== null && data.length === 0) {
          drop(fd); // EOF
          continue;
        }
        if (data) {
          c.owed.push(data);
          flush(fd); // try at once: usually the socket is writable and nothing is queued
        }
      }
      if (events & EPOLLOUT) flush(fd);
    } catch {
      drop(fd); // ECONNRESET / EPIPE
    }
  }
}
