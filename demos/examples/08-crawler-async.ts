// Step 8 adds to step 7: the language's own Future and Task (Promise, async/await)
// on iomux's EventLoop, whose sockConnect/sockSendAll/sockRecv try the syscall and
// else wait for readiness; it waits with selectAsync(), so Node's loop runs too.
//
//   node dist/examples/08-crawler-async.js [URL] [--port P] [--pages N] [--quiet]
import { EventLoop, Socket } from 'iomux';
import { Crawl, crawlMain } from './support/crawl';

async function fetch(loop: EventLoop, crawl: Crawl, path: string): Promise<void> {
  const sock = new Socket();
  let response: Buffer | Error;
  try {
    await loop.sockConnect(sock, crawl.address);
    await loop.sockSendAll(sock, crawl.request(path));
    const chunks: Buffer[] = [];
    for (let chunk = await loop.sockRecv(sock, 65536); chunk.length > 0; chunk = await loop.sockRecv(sock, 65536)) {
      chunks.push(chunk);
    }
    response = Buffer.concat(chunks);
  } catch (err) {
    response = err as Error;
  } finally {
    sock.close();
  }
  await Promise.all(crawl.done(path, response).map((next) => fetch(loop, crawl, next)));
}

crawlMain(async (crawl, start) => {
  const loop = new EventLoop();
  try {
    await loop.run(() => fetch(loop, crawl, start));
  } finally {
    loop.close();
  }
});
