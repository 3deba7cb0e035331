// `iomux <command> [options]`: the demos as the package's bin. Each command is a
// CommandSpec (flags, help, run) that ../toolkit/cli.ts runs the same way.
import { helpText, runCommand, usageFailure, version, type CommandSpec } from './toolkit/cli';

const COMMANDS: Record<string, { load: () => Promise<{ command: CommandSpec }>; about: string }> = {
  echo: { load: () => import('./servers/echo'), about: 'echo server on a selector (the main demo)' },
  chat: { load: () => import('./servers/chat'), about: 'chat room on a selector' },
  http: { load: () => import('./servers/http'), about: 'tiny HTTP/1.1 server on a selector' },
  crawl: { load: () => import('./crawler/cli'), about: 'HTTP/1.1 crawler on raw sockets' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(6)} ${c.about}`);
  return `usage: iomux <command> [options]\n       iomux help [command]\n       iomux --version\n\ncommands:\n${lines.join('\n')}\n\n` +
    'Run "iomux help <command>" (or "iomux <command> --help") for its options.\n\n' +
    'Exit codes, the same for every command:\n' +
    '  0    done (a server stopped by SIGINT/SIGTERM prints a summary and exits 0)\n' +
    '  1    failed at run time (cannot listen: "bind EADDRINUSE 127.0.0.1:8801"; no selector;\n' +
    '       a crawl where every page failed)\n' +
    '  2    bad usage: unknown flag, bad value, missing argument, bad IOMUX_BACKEND\n' +
    '  130  crawl interrupted by SIGINT (143 by SIGTERM), after the summary so far;\n' +
    '       a second SIGINT/SIGTERM exits any command at once with 130/143\n';
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version') {
    process.stdout.write(version());
    return 0;
  }
  if (name === 'help') {
    if (rest.length === 0) {
      process.stdout.write(usage());
      return 0;
    }
    const cmd = COMMANDS[rest[0]];
    if (!cmd || rest.length > 1) return usageFailure('help', `unknown command ${JSON.stringify(rest.join(' '))}; commands are ${Object.keys(COMMANDS).join(', ')}`);
    process.stdout.write(helpText((await cmd.load()).command));
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`iomux: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return runCommand((await cmd.load()).command, rest);
}
