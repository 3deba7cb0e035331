// `iomux http`: the tiny HTTP/1.1 server. See http-server.ts for how it works;
// flags, help, signals and exit codes are ../toolkit/cli.ts.
import { describeAccept } from '../toolkit/accept';
import { serverFlags, serverOptions, stoppedHead, summaryText, type CommandSpec } from '../toolkit/cli';
import { formatAddress } from '../toolkit/listen';
import { HttpServer, type HttpEvent } from './http-server';

export const command: CommandSpec = {
  name: 'http',
  about: `A tiny HTTP/1.1 server on one selector:
  GET /              200 "Hello, world!"
  GET /name          200 the server's name (--name), or NAME from /name?name=NAME
  OPTIONS * (or a path) 200 with Allow
  anything else      404; other known methods on / and /name: 405; unknown methods: 501
Persistent connections (HTTP/1.1 default; HTTP/1.0 with Connection: keep-alive),
pipelining, HEAD, request bodies (Content-Length or chunked) read and discarded,
Expect: 100-continue answered before the body. Malformed requests get 400, an
over-long request target 414, oversized heads 431, unsupported transfer codings
501, HTTP/2+ request lines (PRI * HTTP/2.0 included) 505, all followed by a close.
When every connection slot is taken, the oldest connection that has not completed
a request is closed to make room; if all have, the newcomer gets 503.`,
  flags: {
    ...serverFlags(8803),
    name: { type: 'string', help: 'what GET /name answers (default "iomux")' },
    'max-connections': { type: 'int', min: 1, help: 'connections served at once (default 1000)' },
    'request-timeout': { type: 'duration', help: "from a request's first byte to its last (default\n10s); a slower client gets 408 and is closed" },
    'keepalive-timeout': { type: 'duration', help: 'idle persistent connections are closed after this\n(default 5s)' },
    'max-header-size': { type: 'size', min: 1, help: 'request line + headers (default 8KiB); more: 431' },
    log: { type: 'bool', help: 'access log: one line per request on stdout (common log\nformat); off by default' },
  },
  epilog: 'The first line printed is the bound address ("listening on http://HOST:PORT/",\n' +
    'or {"event":"listening",...} with --json). SIGINT/SIGTERM stop the server and\n' +
    'print a summary (connections, requests, statuses).\n',
  async run({ values: v }, ctx) {
    const out = ctx.event;
    const server = new HttpServer({
      ...serverOptions(v),
      name: v.name as string | undefined,
      maxConnections: v['max-connections'] as number | undefined,
      requestTimeoutMs: v['request-timeout'] as number | undefined,
      keepAliveTimeoutMs: v['keepalive-timeout'] as number | undefined,
      maxHeaderBytes: v['max-header-size'] as number | undefined,
      log: v.log ? (e: HttpEvent) => out(e, describe(e)) : undefined,
      accessLog: v.log ? (line) => out({ event: 'access', line }, line) : undefined,
    });
    const [host, boundPort] = server.address;
    out(
      { event: 'listening', host, port: boundPort, backend: server.backend, maxConnections: server.maxConnections, requestTimeoutMs: server.requestTimeoutMs },
      `listening on http://${formatAddress(server.address)}/ (${server.backend})`,
    );
    const s = await server.serve(ctx.signal);
    const statuses = Object.entries(s.statuses).map(([k, n]) => `${k}×${n}`).join(' ') || 'none';
    out(
      { event: 'stopped', signal: ctx.signal.aborted ? String(ctx.signal.reason) : null, ...s },
      summaryText(stoppedHead(ctx.signal, `${s.connections} connections (peak ${s.peakConnections}), ${s.requests} requests`), [
        ['statuses', statuses], ['refused', s.refused], ['evicted', s.evicted], ['bytes', `${s.bytesIn} in, ${s.bytesOut} out`],
      ]),
    );
    return 0;
  },
};

function describe(e: HttpEvent): string {
  switch (e.event) {
    case 'error-response':
      return `${e.peer}: ${e.status} (${e.reason})`;
    case 'refused':
      return `refused ${e.peer}: ${e.reason}`;
    case 'evicted':
      return `evicted ${e.peer}: ${e.reason}`;
    default:
      return describeAccept(e);
  }
}
