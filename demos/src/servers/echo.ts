// `iomux echo`: the echo server demo's command line. The server itself is
// demos/echo-server.ts.
import { writeSync } from 'node:fs';
import { parseDurationMs } from '../common/duration';
import { FlagError, parseFlags, type FlagValues } from '../common/flags';
import { formatAddress } from '../common/serve';
import { ECHO_DEFAULT_HOST, ECHO_DEFAULT_PORT, EchoServer, type EchoEvent, type EchoStats } from './echo-server';

const HELP = `usage: iomux echo [options]

An echo server on a selector: every byte a client sends comes back to it.

options:
  --backend NAME         select | poll | epoll (default: DefaultSelector, epoll on
                         Linux; the IOMUX_BACKEND environment variable also works)
  --host HOST            address to listen on (default ${ECHO_DEFAULT_HOST})
  --port PORT            TCP port (default ${ECHO_DEFAULT_PORT}; 0 = any free port)
  --unix PATH            listen on an AF_UNIX socket at PATH instead of TCP
  --max-connections N    close connections beyond N at once (default: no limit)
  --idle-timeout TIME    close a connection idle this long: 5000 (ms), 500ms, 30s, 2m
                         (default: never)
  --stats                print a line of counters every second
  --stats-interval TIME  how often --stats prints (default 1s)
  --json                 print JSON lines instead of text
  -h, --help             this text

The first line says where it listens ("listening on 127.0.0.1:8801 ...", or
{"event":"listening",...} with --json). Ctrl-C or SIGTERM stops it with a summary.
`;

const BACKENDS = ['select', 'poll', 'epoll'];

export async function main(argv: string[]): Promise<number> {
  let server: EchoServer;
  let json = false;
  try {
    const v = parseFlags(argv, {
      backend: 'string', host: 'string', port: 'int', unix: 'string', 'max-connections': 'int',
      'idle-timeout': 'string', stats: 'bool', 'stats-interval': 'string', json: 'bool', help: 'bool',
    });
    if (v.help) {
      process.stdout.write(HELP);
      return 0;
    }
    json = v.json === true;
    const backend = v.backend as string | undefined;
    if (backend !== undefined && !BACKENDS.includes(backend)) {
      throw new FlagError(`--backend must be one of select, poll, epoll; got ${JSON.stringify(backend)}`);
    }
    if (v.unix !== undefined && (v.host !== undefined || v.port !== undefined)) {
      throw new FlagError('--unix cannot be combined with --host or --port');
    }
    const port = v.port as number | undefined;
    if (port !== undefined && port > 65535) throw new FlagError(`--port must be 0 to 65535, got ${port}`);
    const maxConnections = v['max-connections'] as number | undefined;
    if (maxConnections === 0) throw new FlagError('--max-connections must be at least 1');
    server = new EchoServer({
      backend,
      host: v.host as string | undefined,
      port,
      unix: v.unix as string | undefined,
      maxConnections,
      idleTimeoutMs: duration(v, 'idle-timeout', 0),
      statsIntervalMs: v.stats ? Math.max(1, duration(v, 'stats-interval', 1000)) : 0,
      onEvent: json ? logJson : logText,
    });
  } catch (err) {
    if (err instanceof FlagError || err instanceof RangeError) {
      process.stderr.write(`iomux echo: ${err.message}\nRun "iomux echo --help" for the options.\n`);
      return 2;
    }
    // The selector could not be made (IOMUX_BACKEND=kqueue on Linux: ENOSYS, out of fds...).
    process.stderr.write(`iomux echo: ${(err as Error).message}\n`);
    return 1;
  }

  let address;
  try {
    address = server.listen();
  } catch (err) {
    server.close();
    process.stderr.write(`iomux echo: cannot listen: ${(err as Error).message}\n`);
    return 1;
  }
  const where = formatAddress(address);
  const backend = server.selector.backend;
  if (json) {
    const tcp = typeof address === 'string' ? { unix: address } : { host: address[0], port: address[1] };
    emit({ event: 'listening', address: where, ...tcp, backend, pid: process.pid, fd: server.listenerFd });
  } else {
    emit(`listening on ${where} (backend ${backend}, pid ${process.pid})`);
  }

  // Signals arrive through Node's event loop, which keeps turning while
  // serve() waits in selectAsync(): stop() ends that wait at once.
  let stoppedBy = '';
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    server.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await server.serve();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const stats = server.stats();
    server.close();
    if (json) emit({ event: 'summary', signal: stoppedBy || null, ...stats });
    else emit(`stopped${stoppedBy ? ` by ${stoppedBy}` : ''}: ${formatStats(stats, true)}`);
  }
  return 0;
}

function duration(v: FlagValues, name: string, fallback: number): number {
  const text = v[name];
  if (text === undefined) return fallback;
  const ms = parseDurationMs(String(text));
  if (ms === null) throw new FlagError(`--${name} must be a duration such as 5000 (ms), 500ms, 30s or 2m; got ${JSON.stringify(text)}`);
  return ms;
}

function formatStats(s: EchoStats, summary = false): string {
  const parts = [
    summary ? `uptime=${(s.uptimeMs / 1000).toFixed(1)}s accepted=${s.accepted} peak_connections=${s.peakConnections}` : `connections=${s.connections}`,
    `msgs=${s.msgs}`,
    `bytes_in=${s.bytesIn}`,
    `bytes_out=${s.bytesOut}`,
    summary ? `max_buffered=${s.maxBuffered}` : `buffered=${s.buffered} max_buffered=${s.maxBuffered} read_paused=${s.readPaused}`,
  ];
  const notable: Array<[string, number]> = [
    ['rejected', s.rejected], ['refused', s.refused], ['idle_timeouts', s.idleTimeouts], ['errors', s.errors],
    ['read_pauses', s.readPauses], ['accept_pauses', s.acceptPauses],
  ];
  for (const [name, n] of notable) if (n > 0) parts.push(`${name}=${n}`);
  return parts.join(' ');
}

function logText(e: EchoEvent): void {
  switch (e.event) {
    case 'stats':
      return emit(`stats: ${formatStats(e.stats)}`);
    case 'refused':
      return emit(`refused: ${e.message}`);
    case 'accept-paused':
      return emit(`accept paused: ${e.code}; retrying every ${e.ms}ms`);
    case 'accept-resumed':
      return emit(`accept resumed after ${e.pauses} pause${e.pauses === 1 ? '' : 's'}`);
    case 'accept-error':
      return emit(`accept error: ${e.message}`);
  }
}

function logJson(e: EchoEvent): void {
  if (e.event === 'stats') emit({ event: 'stats', ...e.stats });
  else emit(e);
}

// Lines go out with a synchronous write so that a summary printed just
// before exit, or a log line before a crash, is never lost.
function emit(line: string | object): void {
  const text = typeof line === 'string' ? line : JSON.stringify(line);
  try {
    writeSync(1, `${text}\n`);
  } catch {
    // stdout closed (e.g. piped into head): logging is best effort.
  }
}
