// Step 2: a non-blocking echo server on raw select(2), the classic way.
// One thread serves every client: select() says which sockets can be read or
// written without blocking, and we only ever do that.
//
//   node dist/examples/02-select-echo-server.js [port]     (default 8801; 0 = any)
//
// select() here blocks the whole Node process (no timers, no JS signal
// handlers run meanwhile); Ctrl-C still works because nothing catches SIGINT.
// It is limited to fds below FD_SETSIZE (1024 on Linux).
import { select, Socket, SO_REUSEADDR, SOL_SOCKET } from 'iomux';

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

// Each client's socket and the bytes we still owe it (what send() did not take).
const clients = new Map<Socket, Buffer[]>();

function drop(sock: Socket): void {
  clients.delete(sock);
  sock.close();
}

for (;;) {
  const readers = [listener, ...clients.keys()];
  const writers = [...clients].filter(([, owed]) => owed.length > 0).map(([sock]) => sock);
  const [readable, writable] = select(readers, writers, [], null) as [Socket[], Socket[], Socket[]];

  for (const sock of writable) {
    const owed = clients.get(sock);
    if (!owed) continue;
    try {
      while (owed.length > 0) {
        const n = sock.send(owed[0]);
        if (n === null) break; // kernel buffer full: select() will tell us when to go on
        if (n < owed[0].length) {
          owed[0] = owed[0].subarray(n);
          break;
        }
        owed.shift();
      }
    } catch {
      drop(sock); // EPIPE / ECONNRESET: the client is gone
    }
  }

  for (const sock of readable) {
    if (sock === listener) {
      // accept() cannot block now; null if the client already went away.
      const accepted = listener.accept();
      if (accepted) {
        accepted[0].setBlocking(false);
        clients.set(accepted[0], []);
      }
      continue;
    }
    const owed = clients.get(sock);
    if (!owed) continue; // dropped while writing above
    let data: Buffer | null;
    try {
      data = sock.recv(4096);
    } catch {
      drop(sock);
      continue;
    }
    if (data === null) continue;
    if (data.length === 0) {
      drop(sock); // EOF (a production server would finish sending first: see `iomux echo`)
      continue;
    }
    owed.push(data); // sent when select() says the socket is writable
  }
}
