// Step 4: the echo server on a selector, as in the example of Python's
// `selectors` module. DefaultSelector picks the best mechanism of the
// platform (epoll on Linux), and each registration carries its handler in
// key.data, so the loop is just "call whatever is ready".
//
//   node dist/examples/04-selector-echo-server.js [port]     (default 8801; 0 = any)
//   IOMUX_BACKEND=select|poll|epoll to choose the mechanism.
//
// `iomux echo` is this program grown up: partial writes, back-pressure,
// half-close, EMFILE, and selectAsync() so that Ctrl-C gets a clean shutdown.
import { DefaultSelector, EVENT_READ, EVENT_WRITE, Socket, SO_REUSEADDR, SOL_SOCKET } from 'iomux';

type Handler = (sock: Socket, mask: number) => void;
const sel = new DefaultSelector<Handler>();
const owed = new Map<Socket, Buffer[]>();

function accept(listener: Socket): void {
  const accepted = listener.accept();
  if (!accepted) return;
  const [conn, address] = accepted;
  conn.setBlocking(false);
  owed.set(conn, []);
  sel.register(conn, EVENT_READ, serve);
  console.log(`accepted ${JSON.stringify(address)}`);
}

function serve(conn: Socket, mask: number): void {
  const queue = owed.get(conn)!;
  try {
    if (mask & EVENT_READ) {
      const data = conn.recv(4096);
      if (data !== null && data.length === 0) return close(conn);
      if (data) queue.push(data);
    }
    while (queue.length > 0) {
      const n = conn.send(queue[0]);
      if (n === null) break;
      if (n < queue[0].length) {
        queue[0] = queue[0].subarray(n);
        break;
      }
      queue.shift();
    }
  } catch {
    return close(conn); // ECONNRESET / EPIPE
  }
  // Ask for EVENT_WRITE only while we owe bytes; modify() with the same events is free.
  sel.modify(conn, queue.length > 0 ? EVENT_READ | EVENT_WRITE : EVENT_READ, serve);
}

function close(conn: Socket): void {
  sel.unregister(conn);
  owed.delete(conn);
  conn.close();
}

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
sel.register(listener, EVENT_READ, accept);
console.log(`listening on 127.0.0.1:${(listener.getsockname() as [string, number])[1]} (backend ${sel.backend})`);

for (;;) {
  for (const [key, mask] of sel.select()) key.data(key.fileobj as Socket, mask);
}
