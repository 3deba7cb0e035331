// Step 5 adds to step 1: non-blocking sockets, one thread, three servers at once.
// connect() returns false (EINPROGRESS), recv() null (Python's BlockingIOError),
// and one select() says which socket is connected (writable) and which has data.
//
// The three local servers answer after 300, 0 and 150 ms, so the answers come
// back in another order than the requests went out.
//
//   node dist/examples/05-nonblocking-connect.js [--host HOST] [--port P]
//   starts three servers on P, P+1, P+2 (any free ports by default), connects to HOST (127.0.0.1)
import { select, Socket } from 'iomux';
import { startSite } from './support/site';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const host = opt('--host', '127.0.0.1');
  const port = Number(opt('--port', '0'));
  if (!Number.isInteger(port) || port < 0 || port > 65533) throw new Error(`bad --port ${opt('--port', '')}`);
  const site = await startSite({ port, count: 3 });
  const t0 = Date.now();
  const delays = [300, 0, 150];
  const connecting = new Map<Socket, number>(); // socket -> the port it connects to
  const reading = new Map<Socket, Buffer[]>();
  try {
    site.ports.forEach((p) => {
      const sock = new Socket();
      sock.setBlocking(false);
      connecting.set(sock, p);
      const done = sock.connect([host, p]); // a name is looked up first, blocking
      console.log(`connect to port ${p}: ${done ? 'connected at once' : 'in progress (EINPROGRESS)'}`);
      let early: string;
      try { early = String(sock.recv(100)); } catch (err) { early = (err as NodeJS.ErrnoException).code!; }
      console.log(`  recv() before it is connected: ${early}   (null: it would block)`);
    });
    const ports = new Map(connecting);
    while (connecting.size + reading.size > 0) {
      // Writable: the connect has finished (well or badly). Readable: data or EOF.
      const [readable, writable] = select([...reading.keys()], [...connecting.keys()], [], 5000);
      if (readable.length + writable.length === 0) throw new Error('nothing happened for 5 s');
      for (const sock of writable) {
        connecting.delete(sock);
        const err = sock.connectError();
        if (err) throw err;
        const i = site.ports.indexOf(ports.get(sock)!);
        console.log(`${Date.now() - t0} ms: port ${ports.get(sock)} connected; asking for /delay/${delays[i]}`);
        sock.send(Buffer.from(`GET /delay/${delays[i]} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
        reading.set(sock, []);
      }
      for (const sock of readable) {
        const data = sock.recv(4096);
        if (data === null) continue;
        if (data.length > 0) {
          reading.get(sock)!.push(data);
          continue;
        }
        const response = Buffer.concat(reading.get(sock)!).toString();
        console.log(`${Date.now() - t0} ms: port ${ports.get(sock)} answered: ${response.split('\r\n')[0]}, ${response.split('\r\n\r\n')[1]?.trim()}`);
        reading.delete(sock);
        sock.close();
      }
    }
  } finally {
    site.stop();
  }
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
