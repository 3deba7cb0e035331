// `iomux chat`: the chat room server. See chat-server.ts for how it works;
// flags, help, signals and exit codes are ../toolkit/cli.ts.
import { describeAccept } from '../toolkit/accept';
import { serverFlags, serverOptions, stoppedHead, summaryText, type CommandSpec } from '../toolkit/cli';
import { formatAddress } from '../toolkit/listen';
import { ChatServer, type ChatEvent } from './chat-server';

export const command: CommandSpec = {
  name: 'chat',
  about: 'A line-based chat room on one selector. Connect with any line client\n' +
    '(nc, telnet, python3 -c ...): every line goes to the other members as\n' +
    '"name: text" (control characters and escape sequences removed).\n' +
    'Commands: /nick NAME, /who, /quit.',
  flags: {
    ...serverFlags(8802),
    'max-line': { type: 'size', min: 1, help: 'longest line accepted (default 1024); a longer line\ngets an error notice and is discarded, the client stays' },
    'max-clients': { type: 'int', min: 1, help: 'room size (default 1000); extra clients are told the\nroom is full and disconnected' },
    'max-backlog': { type: 'size', min: 1, help: 'bytes queued for one client before it is disconnected\nas too slow (default 256KiB)' },
  },
  epilog: 'The first line printed is the bound address ("listening on HOST:PORT", or\n' +
    '{"event":"listening",...} with --json). SIGINT/SIGTERM stop the server with a\nsummary.\n',
  async run({ values: v }, ctx) {
    const out = ctx.event;
    const server = new ChatServer({
      ...serverOptions(v),
      maxLine: v['max-line'] as number | undefined,
      maxClients: v['max-clients'] as number | undefined,
      maxBacklog: v['max-backlog'] as number | undefined,
      log: (e: ChatEvent) => out(e, describe(e)),
    });
    const [host, boundPort] = server.address;
    out(
      { event: 'listening', host, port: boundPort, backend: server.backend, maxLine: server.maxLine, maxClients: server.maxClients, maxBacklog: server.maxBacklog },
      `listening on ${formatAddress(server.address)} (${server.backend})`,
    );
    const s = await server.serve(ctx.signal);
    out(
      { event: 'stopped', signal: ctx.signal.aborted ? String(ctx.signal.reason) : null, ...s },
      summaryText(stoppedHead(ctx.signal, `${s.clientsServed} clients served (peak ${s.peakClients}), ${s.messages} messages`), [
        ['evicted as too slow', s.evicted], ['refused', s.refused], ['bytes', `${s.bytesIn} in, ${s.bytesOut} out`],
      ]),
    );
    return 0;
  },
};

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
    default:
      return describeAccept(e);
  }
}
