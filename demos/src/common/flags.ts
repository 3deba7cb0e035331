// A small argv parser for the demo servers: --name value, --name=value and
// boolean switches, checked against a spec so a typo is an error, not a no-op.
export type FlagKind = 'string' | 'int' | 'bool';
export type FlagSpec = Record<string, FlagKind>;
export type FlagValues = Record<string, string | number | boolean | undefined>;

export class FlagError extends Error {}

export function parseFlags(argv: string[], spec: FlagSpec): FlagValues {
  const out: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw new FlagError(`unknown option --${name}`);
    if (kind === 'bool') {
      if (eq >= 0) throw new FlagError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new FlagError(`--${name} needs a value`);
    if (kind === 'int') {
      if (!/^\d+$/.test(raw)) throw new FlagError(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw new FlagError(`--${name} is too large`);
      out[name] = n;
    } else {
      out[name] = raw;
    }
  }
  return out;
}
