// `iomux chat`: the chat room server. See chat-server.ts for how it works.
import { ChatServer, type ChatEvent } from './chat-server';
import { FlagError, parseFlags } from '../common/flags';
import { formatAddress, signalStop } from '../common/serve';

const HELP = `usage: iomux chat [options]

A line-based chat room on one selector. Connect with any line client
(nc, telnet, python3 -c ...): every line goes to the other members as
"name: text". Commands: /nick NAME, /who, /quit.

options:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          port (default 8802; 0 picks a free one)
  --backend NAME       select | poll | epoll (default: the platform's best)
  --max-line BYTES     longest line accepted (default 1024); a longer line
                       gets an error notice and is discarded, the client stays
  --max-clients N      room size (default 1000); extra clients are told the
                       room is full and disconnected
  --max-backlog BYTES  bytes queued for one client before it is disconnected
                       as too slow (default 262144)
  --json               JSON lines on stdout instead of text
  --help               this text

The first line printed is the bound address ("listening on HOST:PORT", or
{"event":"listening",...} with --json). SIGINT/SIGTERM stop the server with a
summary.
`;

export async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      host: 'string', port: 'int', backend: 'string', 'max-line': 'int', 'max-clients': 'int',
      'max-backlog': 'int', json: 'bool', help: 'bool',
    });
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`iomux chat: ${err.message}\n\n${HELP}`);
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
  for (const name of ['max-line', 'max-clients', 'max-backlog']) {
    if (flags[name] === 0) return usageError(`--${name} must be at least 1`);
  }

  let server: ChatServer;
  try {
    server = new ChatServer({
      host: flags.host as string | undefined,
      port,
      backend: flags.backend as string | undefined,
      maxLine: flags['max-line'] as number | undefined,
      maxClients: flags['max-clients'] as number | undefined,
      maxBacklog: flags['max-backlog'] as number | undefined,
      log: (e: ChatEvent) => out(e, describe(e)),
    });
  } catch (err) {
    if (err instanceof RangeError) return usageError(err.message);
    process.stderr.write(`iomux chat: ${(err as Error).message}\n`);
    return 1;
  }
  // Handlers first: a signal that follows the listening line at once must still stop us cleanly.
  const stop = signalStop();
  const [host, boundPort] = server.address;
  out(
    { event: 'listening', host, port: boundPort, backend: server.backend, maxLine: server.maxLine, maxClients: server.maxClients, maxBacklog: server.maxBacklog },
    `listening on ${formatAddress(server.address)} (${server.backend})`,
  );
  try {
    const s = await server.serve(stop.signal);
    const why = String(stop.signal.reason ?? 'stopped');
    out(
      { event: 'stopped', signal: why, ...s },
      `stopped (${why}): ${s.clientsServed} clients served (peak ${s.peakClients}), ${s.messages} messages, ` +
        `${s.evicted} evicted as too slow, ${s.refused} refused, ${s.bytesIn} bytes in, ${s.bytesOut} bytes out`,
    );
    return 0;
  } finally {
    stop.dispose();
  }
}

function usageError(msg: string): number {
  process.stderr.write(`iomux chat: ${msg}\n`);
  return 2;
}

function describe(e: ChatEvent): string {
  switch (e.event) {
    case 'join':
      return `${e.name} joined from ${e.peer} (${e.clients} in the room)`;
    case 'leave':
      return `${e.name} left: ${e.reason} (${e.clients} in the room)`;
    case 'nick':
      return `${e.from} is now ${e.to}`;
    case 'refused':
      return `refused ${e.peer}: ${e.reason}`;
    case 'accept-paused':
      return `accept paused for 100 ms: ${e.code}`;
  }
}
