// Step 9 adds to step 8: "switch on I/O" (greenlet, gevent): code that reads as if
// it blocked, and a hub that switches task whenever a socket would block. In JS
// there is no stack switching, so the blocking calls are generators (`yield*`).
//
// Python's greenlets switch whole stacks, so gevent can patch the plain
// socket.recv(); a JavaScript function can only be suspended at a `yield` (or
// `await`) of its own. With --blocking the very same code runs one task at a
// time, each wait a real blocking select() on its one socket: the switch is all
// the hub. The five styles compared (lines, pages/s, CPU per page, a real run):
// README.md here.
//
//   node dist/examples/09-switch-on-io.js [URL] [--port P] [--pages N] [--quiet] [--blocking]
import { DefaultSelector, EVENT_READ, EVENT_WRITE, select, Socket } from 'iomux';
import { Crawl, crawlMain } from './support/crawl';

type Wait = [sock: Socket, events: number];
type Green<T> = Generator<Wait, T, void>;

// --- "blocking" socket calls: try the syscall, and only when it would block, switch
function* connect(sock: Socket, address: [string, number]): Green<void> {
  if (sock.connect(address)) return;
  yield [sock, EVENT_WRITE];
  const err = sock.connectError();
  if (err) throw err;
}
function* sendAll(sock: Socket, data: Buffer): Green<void> {
  for (let sent = 0; sent < data.length;) {
    const n = sock.send(data, sent);
    if (n === null) yield [sock, EVENT_WRITE];
    else sent += n;
  }
}
function* recv(sock: Socket, size: number): Green<Buffer> {
  for (;;) {
    const data = sock.recv(size);
    if (data !== null) return data;
    yield [sock, EVENT_READ];
  }
}

// --- the hub: run each task until it would block; resume it when its socket is ready
class Hub {
  private readonly selector = new DefaultSelector<Green<void>>();
  private readonly runnable: Array<Green<void>> = [];
  spawn = (task: Green<void>): void => void this.runnable.push(task);
  run(): void {
    while (this.runnable.length > 0 || this.selector.getMap().size > 0) {
      for (const task of this.runnable.splice(0)) this.switchTo(task);
      if (this.selector.getMap().size === 0) continue;
      for (const [key] of this.selector.select()) {
        this.selector.unregister(key.fileobj);
        this.switchTo(key.data);
      }
    }
    this.selector.close();
  }
  private switchTo(task: Green<void>): void {
    const next = task.next();
    if (!next.done) this.selector.register(next.value[0], next.value[1], task);
  }
}

// --- no hub: each task runs to its end, and "would block" really blocks
function runBlocking(first: (spawn: (task: Green<void>) => void) => Green<void>): void {
  const queue: Array<Green<void>> = [];
  const spawn = (task: Green<void>) => void queue.push(task);
  queue.push(first(spawn));
  for (let task = queue.shift(); task; task = queue.shift()) {
    for (let next = task.next(); !next.done; next = task.next()) {
      const [sock, events] = next.value;
      select(events === EVENT_READ ? [sock] : [], events === EVENT_WRITE ? [sock] : [], [], null);
    }
  }
}

// --- the crawler: straight-line code, as in step 1
function* fetch(crawl: Crawl, path: string, spawn: (task: Green<void>) => void): Green<void> {
  const sock = new Socket();
  sock.setBlocking(false);
  let response: Buffer | Error;
  try {
    yield* connect(sock, crawl.address);
    yield* sendAll(sock, crawl.request(path));
    const chunks: Buffer[] = [];
    for (let data = yield* recv(sock, 65536); data.length > 0; data = yield* recv(sock, 65536)) chunks.push(data);
    response = Buffer.concat(chunks);
  } catch (err) {
    response = err as Error;
  } finally {
    sock.close();
  }
  for (const next of crawl.done(path, response)) spawn(fetch(crawl, next, spawn));
}

const blocking = process.argv.includes('--blocking');
if (blocking) process.argv.splice(process.argv.indexOf('--blocking'), 1);
crawlMain((crawl, start) => {
  if (blocking) return runBlocking((spawn) => fetch(crawl, start, spawn));
  const hub = new Hub();
  hub.spawn(fetch(crawl, start, hub.spawn));
  hub.run();
});
