// Step 1 of the tutorial: a blocking client, as in Python's socket HOWTO.
// Every call waits until it is done: connect() until the handshake completes,
// sendAll() until the kernel took every byte, recv() until data (or EOF)
// arrives. Simple, and fine for one connection; a server cannot work this way.
//
//   node dist/examples/01-blocking-client.js [host] [port] [message]
//       sends message to an echo server (default 127.0.0.1:8801, `npm start`)
//       and prints what comes back
//   node dist/examples/01-blocking-client.js --http host port [path]
//       a blocking HTTP/1.1 GET: prints the raw response
import { createConnection, type Socket } from 'iomux';

// Python's socket.create_connection: resolves host (names, IPv4 or IPv6
// literals) and tries each address in turn until one connects; blocks until
// then, or throws the last error (e.g. `connect ECONNREFUSED 127.0.0.1:8801`).
function openConnection(host: string, port: number): Socket {
  return createConnection([host, port], { timeoutMs: 10_000 });
}

function echoOnce(host: string, port: number, message: string): void {
  const sock = openConnection(host, port);
  try {
    const data = Buffer.from(message);
    sock.sendAll(data);
    // TCP is a byte stream, not messages: the echo may come back in pieces,
    // so read until we have as many bytes as we sent.
    const chunks: Buffer[] = [];
    let received = 0;
    while (received < data.length) {
      const chunk = sock.recv(4096)!; // blocking: never null
      if (chunk.length === 0) throw new Error(`server closed after ${received} of ${data.length} bytes`);
      chunks.push(chunk);
      received += chunk.length;
    }
    console.log(`received: ${Buffer.concat(chunks).toString()}`);
  } finally {
    sock.close();
  }
}

function httpGet(host: string, port: number, path: string): void {
  const sock = openConnection(host, port);
  try {
    // "Connection: close" asks the server to close when done, so the end of
    // the response is simply EOF: recv() returning an empty Buffer.
    sock.sendAll(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = sock.recv(4096)!;
      if (chunk.length === 0) break;
      chunks.push(chunk);
    }
    process.stdout.write(Buffer.concat(chunks));
  } finally {
    sock.close();
  }
}

const args = process.argv.slice(2);
try {
  if (args[0] === '--http') {
    httpGet(args[1] ?? '127.0.0.1', Number(args[2] ?? 8080), args[3] ?? '/');
  } else {
    echoOnce(args[0] ?? '127.0.0.1', Number(args[1] ?? 8801), args[2] ?? 'hello, iomux');
  }
} catch (err) {
  // ECONNREFUSED, ENOTFOUND for a host that does not resolve, ...: one line, exit 1
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
