// `iomux http`: the tiny HTTP/1.1 server. See http-server.ts for how it works.
import { parseDurationMs } from '../common/duration';
import { FlagError, parseFlags } from '../common/flags';
import { formatAddress, signalStop } from '../common/serve';
import { HttpServer, type HttpEvent } from './http-server';

const HELP = `usage: iomux http [options]

A tiny HTTP/1.1 server on one selector:
  GET /              200 "Hello, world!"
  GET /name          200 the server's name (--name), or NAME from /name?name=NAME
  anything else      404; other methods than GET/HEAD on / and /name: 405
Persistent connections (HTTP/1.1 default; HTTP/1.0 with Connection: keep-alive),
pipelining, HEAD, request bodies (Content-Length or chunked) read and discarded.
Malformed requests get 400, oversized heads 431, unsupported transfer codings
501, HTTP/2+ request lines 505, all followed by a close.

options:
  --host HOST              address to listen on (default 127.0.0.1)
  --port PORT              port (default 8803; 0 picks a free one)
  --backend NAME           select | poll | epoll (default: the platform's best)
  --name NAME              what GET /name answers (default "iomux")
  --max-connections N      connections served at once (default 1000); extra
                           ones are answered 503 (Retry-After: 1) and closed
  --request-timeout TIME   from a request's first byte to its last (default
                           10s); a slower client gets 408 and is closed
  --keepalive-timeout TIME idle persistent connections are closed after this
                           (default 5s)
                           (TIME: milliseconds, or with a unit: 500ms, 30s, 2m)
  --max-header-size BYTES  request line + headers (default 8192); more: 431
  --log                    log error responses and refusals
  --json                   JSON lines on stdout instead of text
  --help                   this text

The first line printed is the bound address ("listening on http://HOST:PORT/",
or {"event":"listening",...} with --json). SIGINT/SIGTERM stop the server and
print a summary (connections, requests, statuses).
`;

export async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      host: 'string', port: 'int', backend: 'string', name: 'string', 'max-connections': 'int',
      'request-timeout': 'string', 'keepalive-timeout': 'string', 'max-header-size': 'int', log: 'bool', json: 'bool', help: 'bool',
    });
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`iomux http: ${err.message}\n\n${HELP}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const json = flags.json === true;
  const out = (obj: Record<string, unknown>, text: string) => process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  const port = flags.port as number | undefined;
  if (port !== undefined && port > 65535) return usageError('--port must be at most 65535');
  for (const name of ['max-connections', 'max-header-size']) {
    if (flags[name] === 0) return usageError(`--${name} must be at least 1`);
  }
  const ms: Record<string, number | undefined> = {};
  for (const name of ['request-timeout', 'keepalive-timeout']) {
    if (flags[name] === undefined) continue;
    const v = parseDurationMs(flags[name] as string);
    if (v === null || v < 1) return usageError(`--${name} must be a duration such as 5000, 500ms or 30s, got ${JSON.stringify(flags[name])}`);
    ms[name] = v;
  }

  let server: HttpServer;
  try {
    server = new HttpServer({
      host: flags.host as string | undefined,
      port,
      backend: flags.backend as string | undefined,
      name: flags.name as string | undefined,
      maxConnections: flags['max-connections'] as number | undefined,
      requestTimeoutMs: ms['request-timeout'],
      keepAliveTimeoutMs: ms['keepalive-timeout'],
      maxHeaderBytes: flags['max-header-size'] as number | undefined,
      log: flags.log ? (e: HttpEvent) => out(e, describe(e)) : undefined,
    });
  } catch (err) {
    if (err instanceof RangeError) return usageError(err.message);
    process.stderr.write(`iomux http: ${(err as Error).message}\n`);
    return 1;
  }
  // Handlers first: a signal that follows the listening line at once must still stop us cleanly.
  const stop = signalStop();
  const [host, boundPort] = server.address;
  out(
    { event: 'listening', host, port: boundPort, backend: server.backend, maxConnections: server.maxConnections, requestTimeoutMs: server.requestTimeoutMs },
    `listening on http://${formatAddress(server.address)}/ (${server.backend})`,
  );
  try {
    const s = await server.serve(stop.signal);
    const why = String(stop.signal.reason ?? 'stopped');
    const statuses = Object.entries(s.statuses).map(([k, v]) => `${k}×${v}`).join(' ') || 'none';
    out(
      { event: 'stopped', signal: why, ...s },
      `stopped (${why}): ${s.connections} connections (peak ${s.peakConnections}), ${s.refused} refused, ` +
        `${s.requests} requests, statuses ${statuses}, ${s.bytesIn} bytes in, ${s.bytesOut} bytes out`,
    );
    return 0;
  } finally {
    stop.dispose();
  }
}

function usageError(msg: string): number {
  process.stderr.write(`iomux http: ${msg}\n`);
  return 2;
}

function describe(e: HttpEvent): string {
  switch (e.event) {
    case 'error-response':
      return `${e.peer}: ${e.status} (${e.reason})`;
    case 'refused':
      return `refused ${e.peer}: ${e.reason}`;
    case 'accept-paused':
      return `accept paused for 100 ms: ${e.code}`;
  }
}
