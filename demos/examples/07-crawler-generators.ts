// Step 7 adds to step 6: the same crawler as generator coroutines, top to bottom.
// A Future (a result to come) and a Task (resumes the generator that yielded the
// Future when it resolves): what `await` is made of. No async/await in this file.
//
//   node dist/examples/07-crawler-generators.js [URL] [--port P] [--pages N] [--quiet]
import { DefaultSelector, EVENT_READ, EVENT_WRITE, Socket } from 'iomux';
import { Crawl, crawlMain } from './support/crawl';

const selector = new DefaultSelector<() => void>();

// --- the machinery: about thirty lines ---------------------------------------
class Future {
  result: unknown;
  private callbacks: Array<(f: Future) => void> = [];
  addDoneCallback(fn: (f: Future) => void): void { this.callbacks.push(fn); }
  setResult(result?: unknown): void {
    this.result = result;
    for (const fn of this.callbacks) fn(this);
  }
}
type Coroutine<T> = Generator<Future, T, unknown>;

class Task {
  constructor(private readonly coro: Coroutine<void>) { this.step(undefined); }
  private step(value: unknown): void {
    const next = this.coro.next(value); // run the coroutine to its next `yield future`
    if (!next.done) next.value.addDoneCallback((f) => this.step(f.result));
  }
}

/** A Future resolved when the socket is ready for `events`. */
function ready(sock: Socket, events: number): Future {
  const f = new Future();
  selector.register(sock, events, () => { selector.unregister(sock); f.setResult(); });
  return f;
}

// --- the crawler: reads like the blocking code of step 1 ---------------------
function* fetch(crawl: Crawl, path: string): Coroutine<void> {
  const sock = new Socket();
  sock.setBlocking(false);
  let response: Buffer | Error;
  try {
    if (!sock.connect(crawl.address)) {
      yield ready(sock, EVENT_WRITE);
      const err = sock.connectError();
      if (err) throw err;
    }
    sock.send(crawl.request(path));
    const chunks: Buffer[] = [];
    for (;;) {
      yield ready(sock, EVENT_READ);
      const chunk = sock.recv(65536);
      if (chunk === null) continue;
      if (chunk.length === 0) break;
      chunks.push(chunk);
    }
    response = Buffer.concat(chunks);
  } catch (err) {
    response = err as Error;
  } finally {
    sock.close();
  }
  for (const next of crawl.done(path, response)) new Task(fetch(crawl, next));
}

crawlMain((crawl, start) => {
  new Task(fetch(crawl, start));
  while (crawl.todo.size > 0) {
    for (const [key] of selector.select()) key.data();
  }
  selector.close();
});
