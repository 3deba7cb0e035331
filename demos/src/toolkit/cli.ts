// The one command-line layer of `iomux echo|chat|http|crawl`: a flag table per
// command parsed with node:util parseArgs, the shared units (units.ts), the
// same wording and exit codes for bad flags, -h/--help and --version, and the
// same signal handling and summary layout.
//
// Exit codes (README, `iomux help`):
//   0    done: a server stopped by SIGINT/SIGTERM, a crawl that finished
//   1    failed at run time: cannot listen (bind EADDRINUSE 127.0.0.1:8801),
//        the selector cannot be made, a crawl where every page failed
//   2    usage: a bad flag or value, a missing argument, a bad IOMUX_BACKEND
//   130  crawl interrupted by SIGINT (143: SIGTERM); a second signal at any time
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, checkBackendEnv } from './backend';
import { parseDurationMs, parseSize } from './units';

export type FlagType = 'string' | 'bool' | 'int' | 'port' | 'duration' | 'size' | 'backend' | readonly string[];

export interface FlagDef {
  type: FlagType;
  /** One line (or more, joined by \n) for --help. */
  help: string;
  /** For int/duration/size: the smallest value taken (default 0; durations 1). */
  min?: number;
  /** The value's name in --help (default from the type). */
  arg?: string;
  short?: string;
}

export type FlagTable = Record<string, FlagDef>;
export type FlagValue = string | number | boolean | undefined;
export type FlagValues = Record<string, FlagValue>;

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

const COMMON: FlagTable = {
  help: { type: 'bool', short: 'h', help: 'this text' },
  version: { type: 'bool', help: 'print the version and exit' },
};

const ARG: Record<string, string> = { string: 'TEXT', int: 'N', port: 'PORT', duration: 'TIME', size: 'BYTES', backend: 'NAME' };

function choices(t: FlagType): readonly string[] | undefined {
  return t === 'backend' ? BACKEND_NAMES : Array.isArray(t) ? (t as readonly string[]) : undefined;
}

/** Checks one raw value against its definition; the message names the flag. */
function convert(name: string, def: FlagDef, raw: string): number | string {
  const flag = `--${name}`;
  const min = def.min ?? (def.type === 'duration' ? 1 : 0);
  switch (def.type) {
    case 'int': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'port': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(n >= 0 && n <= 65535)) throw new UsageError(`${flag} must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'duration': {
      const ms = parseDurationMs(raw);
      if (ms === null || ms < min) {
        throw new UsageError(`${flag} must be a duration such as 500ms, 5s or 2m (a bare number is ms)${min > 0 ? `, at least ${min} ms` : ''}, got ${JSON.stringify(raw)}`);
      }
      return ms;
    }
    case 'size': {
      const n = parseSize(raw);
      if (n === null || n < min) {
        throw new UsageError(`${flag} must be a size such as 512, 1k or 2MiB (a bare number is bytes)${min > 0 ? `, at least ${min}` : ''}, got ${JSON.stringify(raw)}`);
      }
      return n;
    }
    case 'string':
      if (raw === '') throw new UsageError(`${flag} must not be empty`);
      return raw;
    default: {
      const allowed = choices(def.type)!;
      if (!allowed.includes(raw)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    }
  }
}

/** parseArgs' messages, reworded to name the flag the same way as ours. */
function reword(err: Error & { code?: string }): string {
  const m = /'(-{1,2}[^' ]+)/.exec(err.message);
  const flag = m?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? err.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) || /requires an argument/.test(err.message) || /ambiguous/.test(err.message)
        ? `${flag ?? 'an option'} needs a value`
        : `${flag ?? 'an option'} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(/'([^']*)'/.exec(err.message)?.[1] ?? '')}`;
    default:
      return err.message.split('\n')[0];
  }
}

export interface Parsed {
  values: FlagValues;
  positionals: string[];
}

/** Parses argv against the table (plus -h/--help, --version); throws UsageError naming the flag. */
export function parseFlags(argv: string[], table: FlagTable, allowPositionals = false): Parsed {
  const all = { ...table, ...COMMON };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, def] of Object.entries(all)) options[name] = { type: def.type === 'bool' ? 'boolean' : 'string', ...(def.short ? { short: def.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(reword(err as Error & { code?: string }));
  }
  const values: FlagValues = {};
  for (const [name, raw] of Object.entries(parsed.values)) {
    const def = all[name];
    // A repeated flag: the last one counts, as in most tools.
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    values[name] = typeof v === 'boolean' ? v : convert(name, def, v as string);
  }
  return { values, positionals: parsed.positionals };
}

export function helpText(cmd: CommandSpec): string {
  const rows: Array<[string, string]> = [];
  for (const [name, def] of Object.entries({ ...cmd.flags, ...COMMON })) {
    const list = choices(def.type);
    const arg = def.type === 'bool' ? '' : ` ${def.arg ?? (list ? list.join('|') : ARG[def.type as string])}`;
    rows.push([`${def.short ? `-${def.short}, ` : ''}--${name}${arg}`, def.help]);
  }
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = rows.map(([l, h]) => {
    const helpLines = h.split('\n');
    const first = l.length + 2 > width ? `  ${l}\n  ${' '.repeat(width)}${helpLines[0]}` : `  ${l.padEnd(width)}${helpLines[0]}`;
    return [first, ...helpLines.slice(1).map((x) => `  ${' '.repeat(width)}${x}`)].join('\n');
  });
  return `usage: iomux ${cmd.name} ${cmd.usage ?? '[options]'}\n\n${cmd.about}\n\noptions:\n${lines.join('\n')}\n\n` +
    'TIME: a bare number is milliseconds, or 500ms, 5s, 2m. BYTES: a bare number is bytes, or 1k, 64KiB, 2MiB.\n' +
    `${cmd.epilog ? `\n${cmd.epilog}` : ''}` +
    `\nExit codes: 0 done${cmd.name === 'crawl' ? '' : ' (stopped by SIGINT/SIGTERM, after a summary)'}, 1 failed at run time, 2 bad usage` +
    `${cmd.name === 'crawl' ? ', 130 interrupted by SIGINT (143 SIGTERM) after a summary of what was done' : ''}.\n`;
}

export function version(): string {
  const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as { version: string };
  const demos = read(path.join(__dirname, '..', '..', 'package.json')).version;
  let lib = 'unknown';
  try {
    lib = read(require.resolve('iomux/package.json')).version;
  } catch {
    // an unusual install: the demos still run
  }
  return `iomux-demos ${demos} (iomux ${lib}, node ${process.version})\n`;
}

/** What a command's run() gets besides its flags. */
export interface RunContext {
  /** Aborted by the first SIGINT or SIGTERM (its reason is the signal's name). */
  signal: AbortSignal;
  /** Writes one line to stdout, whole (a summary before exit is never lost). */
  out(line: string): void;
  /** One event on stdout: `obj` as a JSON line with --json, else `text`. */
  event(obj: object, text: string): void;
}

export interface CommandSpec {
  name: string;
  about: string;
  usage?: string;
  flags: FlagTable;
  positionals?: boolean;
  epilog?: string;
  /** Cross-flag checks; throw UsageError. */
  check?(p: Parsed): void;
  run(p: Parsed, ctx: RunContext): Promise<number>;
}

function say(fd: 1 | 2, text: string): void {
  try {
    require('node:fs').writeSync(fd, text);
  } catch {
    // stdout closed (piped into head): best effort
  }
}

export function usageFailure(cmd: string, message: string): number {
  say(2, `iomux ${cmd}: ${message}\niomux ${cmd}: see --help\n`);
  return EXIT_USAGE;
}

/**
 * Runs one command: parses its flags (help, version and usage errors handled
 * here), checks IOMUX_BACKEND, turns the first SIGINT/SIGTERM into an abort
 * of ctx.signal (a second one exits at once with 128 + signal number), and
 * reports a run-time failure as one line (exit 1), never a stack trace.
 */
export async function runCommand(cmd: CommandSpec, argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseFlags(argv, cmd.flags, cmd.positionals ?? false);
    if (parsed.values.help) {
      say(1, helpText(cmd));
      return EXIT_OK;
    }
    if (parsed.values.version) {
      say(1, version());
      return EXIT_OK;
    }
    cmd.check?.(parsed);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(cmd.name, err.message);
    throw err;
  }
  const envProblem = parsed.values.backend === undefined ? checkBackendEnv() : undefined;
  if (envProblem) return usageFailure(cmd.name, envProblem);

  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!ac.signal.aborted) return ac.abort(sig);
    say(2, `iomux ${cmd.name}: second ${sig}: exiting at once\n`);
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Windows has no signal a program can send to another (kill() is
  // TerminateProcess): a parent that started us with an IPC channel asks for
  // the same stop with the message {signal: 'SIGINT' | 'SIGTERM'}. The channel
  // does not keep the process alive.
  const onMessage = (m: unknown) => {
    const sig = (m as { signal?: unknown } | null)?.signal;
    if (sig === 'SIGINT' || sig === 'SIGTERM') onSignal(sig);
  };
  if (process.channel) {
    process.on('message', onMessage);
    process.channel.unref();
  }
  try {
    const json = parsed.values.json === true;
    return await cmd.run(parsed, {
      signal: ac.signal,
      out: (line) => say(1, `${line}\n`),
      event: (obj, text) => say(1, `${json ? JSON.stringify(obj) : text}\n`),
    });
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(cmd.name, err.message);
    say(2, `iomux ${cmd.name}: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.IOMUX_DEBUG) say(2, `${(err as Error)?.stack}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('message', onMessage);
  }
}

/**
 * The summary layout all four commands share: a head line, then one
 * "  key: value" line per figure.
 */
export function summaryText(head: string, rows: Array<[string, string | number]>): string {
  return [head, ...rows.map(([k, v]) => `  ${k}: ${v}`)].join('\n');
}

/** "stopped by SIGTERM" / "stopped": the head of a server's summary. */
export function stoppedHead(signal: AbortSignal, what: string): string {
  return `stopped${signal.aborted ? ` by ${String(signal.reason)}` : ''}: ${what}`;
}

/** The flags every server takes: where to listen, the backend, JSON output. */
export function serverFlags(defaultPort: number): FlagTable {
  return {
    host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
    port: { type: 'port', help: `TCP port (default ${defaultPort}; 0 picks a free one)` },
    backend: { type: 'backend', help: "the selector (default: DefaultSelector, the platform's best;\nthe IOMUX_BACKEND environment variable also works)" },
    json: { type: 'bool', help: 'JSON lines on stdout instead of text' },
  };
}

/** Those flags' values, as the servers' options take them. */
export function serverOptions(v: FlagValues): { host?: string; port?: number; backend?: string } {
  return { host: v.host as string | undefined, port: v.port as number | undefined, backend: v.backend as string | undefined };
}
