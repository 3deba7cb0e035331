// Step 8: the same crawler on iomux's EventLoop with async/await. The Future
// and Task of step 7 are now the language's Promise and async function, and
// the loop's sockConnect/sockSendAll/sockRecv do the "try the syscall, else
// wait for readiness" of steps 6 and 7. The loop waits with selectAsync(), so
// Node's own event loop (timers, signals) keeps running meanwhile.
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
