// `iomux <command> [options]`: the demos as the package's bin. Each command is a
// module under servers/ (or crawler/) exporting main(argv) -> exit code.
const COMMANDS: Record<string, { load: () => Promise<{ main(argv: string[]): Promise<number> | number }>; about: string }> = {
  echo: { load: () => import('./servers/echo'), about: 'echo server on a selector (the main demo)' },
  chat: { load: () => import('./servers/chat'), about: 'chat room on a selector' },
  http: { load: () => import('./servers/http'), about: 'tiny HTTP/1.1 server on a selector' },
  crawl: { load: () => import('./crawler/cli'), about: 'HTTP/1.1 crawler on raw sockets' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(6)} ${c.about}`);
  return `usage: iomux <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "iomux <command> --help" for a command's options.\n`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`iomux: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.main(rest);
}
