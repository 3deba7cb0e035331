// Step 6 adds to step 5: a selector, and a crawler fetching many pages at once.
// Each URL has a Fetcher whose callbacks register the next step (connected ->
// readResponse); the loop runs until no URL is left to do.
//
// It works, but one fetch is scattered over callbacks and fields: callback hell.
//
//   node dist/examples/06-crawler-callbacks.js [URL] [--port P] [--pages N] [--quiet]
//   with no URL it starts the local site (support/site.ts) and crawls all of it
import { DefaultSelector, EVENT_READ, EVENT_WRITE, Socket } from 'iomux';
import { Crawl, crawlMain } from './support/crawl';

type Callback = (mask: number) => void;
const selector = new DefaultSelector<Callback>();

class Fetcher {
  private readonly sock = new Socket();
  private readonly chunks: Buffer[] = [];
  constructor(private readonly crawl: Crawl, private readonly path: string) {}

  fetch(): void {
    this.sock.setBlocking(false);
    try {
      this.sock.connect(this.crawl.address); // false: in progress (EINPROGRESS); we will be told
    } catch (err) {
      return this.finish(err as Error);
    }
    selector.register(this.sock, EVENT_WRITE, () => this.connected());
  }

  private connected(): void {
    selector.unregister(this.sock);
    const err = this.sock.connectError();
    if (err) return this.finish(err);
    // A request this small fits an empty send buffer: one send() takes it all.
    this.sock.send(this.crawl.request(this.path));
    selector.register(this.sock, EVENT_READ, () => this.readResponse());
  }

  private readResponse(): void {
    let chunk: Buffer | null;
    try {
      chunk = this.sock.recv(65536);
    } catch (err) {
      return this.finish(err as Error); // ECONNRESET
    }
    if (chunk === null) return; // spurious wake-up: wait again
    if (chunk.length > 0) return void this.chunks.push(chunk);
    this.finish(Buffer.concat(this.chunks)); // EOF: the whole response
  }

  private finish(result: Buffer | Error): void {
    if (selector.getMap().has(this.sock.fileno())) selector.unregister(this.sock);
    this.sock.close();
    for (const path of this.crawl.done(this.path, result)) new Fetcher(this.crawl, path).fetch();
  }
}

crawlMain((crawl, start) => {
  new Fetcher(crawl, start).fetch();
  while (crawl.todo.size > 0) {
    for (const [key, mask] of selector.select()) key.data(mask);
  }
  selector.close();
});
