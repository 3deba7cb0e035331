// `iomux echo`: the echo server demo's command line. The server itself is
// echo-server.ts; flags, help, signals and exit codes are ../toolkit/cli.ts.
import { writeSync } from 'node:fs';
import { describeAccept } from '../toolkit/accept';
import { serverFlags, serverOptions, summaryText, UsageError, type CommandSpec } from '../toolkit/cli';
import { formatAddress } from '../toolkit/listen';
import { ECHO_DEFAULT_HOST, ECHO_DEFAULT_PORT, EchoServer, type EchoEvent, type EchoStats } from './echo-server';

export const command: CommandSpec = {
  name: 'echo',
  about: 'An echo server on a selector: every byte a client sends comes back to it.',
  flags: {
    ...serverFlags(ECHO_DEFAULT_PORT),
    unix: { type: 'string', arg: 'PATH', help: 'listen on an AF_UNIX socket at PATH instead of TCP\n(a stale socket file there is removed)' },
    'max-connections': { type: 'int', min: 1, help: 'close connections beyond N at once (default: no limit)' },
    'idle-timeout': { type: 'duration', help: 'close a connection idle this long (default: never)' },
    stats: { type: 'bool', help: 'print a line of counters every second' },
    'stats-interval': { type: 'duration', help: 'how often --stats prints (default 1s)' },
  },
  epilog: 'The first line says where it listens ("listening on 127.0.0.1:8801 ...", or\n' +
    '{"event":"listening",...} with --json). SIGINT or SIGTERM stops it with a summary.\n',
  check({ values: v }) {
    if (v.unix !== undefined && (v.host !== undefined || v.port !== undefined)) {
      throw new UsageError('--unix cannot be combined with --host or --port');
    }
  },
  async run({ values: v }, ctx) {
    const json = v.json === true;
    const server = new EchoServer({
      ...serverOptions(v),
      unix: v.unix as string | undefined,
      maxConnections: v['max-connections'] as number | undefined,
      idleTimeoutMs: (v['idle-timeout'] as number | undefined) ?? 0,
      statsIntervalMs: v.stats ? ((v['stats-interval'] as number | undefined) ?? 1000) : 0,
      onEvent: json ? logJson : logText,
    });
    try {
      const address = server.listen();
      const where = formatAddress(address);
      const backend = server.selector.backend;
      if (json) {
        const tcp = typeof address === 'string' ? { unix: address } : { host: address[0], port: address[1] };
        emit({ event: 'listening', address: where, ...tcp, backend, pid: process.pid, fd: server.listenerFd });
      } else {
        emit(`listening on ${where} (backend ${backend}, pid ${process.pid})`);
      }
      // Signals arrive through Node's event loop, which keeps turning while
      // serve() waits in selectAsync(): the abort ends that wait at once.
      await server.serve(ctx.signal);
    } finally {
      const stats = server.stats();
      server.close();
      const signal = ctx.signal.aborted ? String(ctx.signal.reason) : null;
      if (json) emit({ event: 'stopped', signal, ...stats });
      else emit(summaryText(`stopped${signal ? ` by ${signal}` : ''}: ${stats.accepted} connections (peak ${stats.peakConnections}), ${stats.msgs} messages in ${(stats.uptimeMs / 1000).toFixed(1)} s`, summaryRows(stats)));
    }
    return 0;
  },
};

function summaryRows(s: EchoStats): Array<[string, string | number]> {
  const rows: Array<[string, string | number]> = [['bytes', `${s.bytesIn} in, ${s.bytesOut} out`], ['max buffered', s.maxBuffered]];
  const notable: Array<[string, number]> = [
    ['rejected', s.rejected], ['refused', s.refused], ['idle timeouts', s.idleTimeouts], ['errors', s.errors],
    ['read pauses', s.readPauses], ['accept pauses', s.acceptPauses],
  ];
  for (const [name, n] of notable) if (n > 0) rows.push([name, n]);
  return rows;
}

function formatStats(s: EchoStats): string {
  const parts = [
    `connections=${s.connections}`,
    `msgs=${s.msgs}`,
    `bytes_in=${s.bytesIn}`,
    `bytes_out=${s.bytesOut}`,
    `buffered=${s.buffered} max_buffered=${s.maxBuffered} read_paused=${s.readPaused}`,
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
    default:
      return emit(describeAccept(e));
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
