// The published declarations: a consumer file (test/fixtures/types-consumer.ts)
// that uses every exported type is compiled by tsc --strict at the default
// target against dist/index.d.ts, as a package user would; and the .d.ts shows
// no internals.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaseSelector, DefaultSelector, EVENT_READ, EVENT_WRITE, PollSelector, SelectSelector, socketpair } from '../src/ts/index';
import { backendMissing } from './platform';

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Asynchronous: a minute-long execFileSync would starve the vitest worker's RPC on a loaded machine.
const run = promisify(execFile);
// tsc's diagnostics, or '' when it succeeds.
async function tscOut(args: string[]): Promise<string> {
  try {
    await run(process.execPath, [tsc, ...args], { cwd: root, encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

function allDts(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? allDts(p) : e.name.endsWith('.d.ts') ? [p] : [];
  });
}

beforeAll(async () => {
  // The declarations as published: built exactly as `npm run build:ts` builds them.
  expect(await tscOut(['-p', 'tsconfig.json'])).toBe('');
  await run(process.execPath, ['scripts/lib/strip-dts-private.mjs', 'dist'], { cwd: root });
}, 400_000);

describe('published .d.ts', () => {
  it('a --strict consumer at the default target type-checks, and its @ts-expect-error lines are errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-types-'));
    try {
      fs.copyFileSync(path.join(root, 'test', 'fixtures', 'types-consumer.ts'), path.join(dir, 'consumer.ts'));
      // No target, no lib: TypeScript's defaults, with Node's types as a Node user has them.
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
          paths: { iomux: [path.join(root, 'dist', 'index.d.ts')] },
        },
        files: ['consumer.ts'],
      }));
      expect(await tscOut(['-p', dir])).toBe('');
      // And the expectations are real: without the markers those lines fail.
      const plain = fs.readFileSync(path.join(dir, 'consumer.ts'), 'utf8').replace(/\/\/ @ts-expect-error.*\n/g, '');
      fs.writeFileSync(path.join(dir, 'consumer.ts'), plain);
      const errors = await tscOut(['-p', dir]);
      expect(errors.match(/error TS/g)?.length).toBe(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 400_000);

  it('shows no internals: no native handles, result buffers, underscore members or #private markers', () => {
    for (const f of allDts(path.join(root, 'dist'))) {
      const text = fs.readFileSync(f, 'utf8');
      const rel = path.relative(root, f);
      expect(text, rel).not.toMatch(/\bNativeSet\b|\bNativeEpoll\b|\bBinding\b|\bResultsBuffer\b/);
      expect(text, rel).not.toMatch(/^\s*(protected\s+)?(readonly\s+)?(results|native)\b/m);
      expect(text, rel).not.toMatch(/^\s*(protected\s+|private\s+)?_\w+\(/m);
      expect(text, rel).not.toMatch(/#private/);
      expect(text, rel).not.toMatch(/\bprotected\b/);
    }
  });
});

describe('what the types promise, at run time', () => {
  it(`instanceof DefaultSelector is true for what it makes (and for every selector); modify() without data resets it${backendMissing('poll') ? ` (PollSelector left out: ${backendMissing('poll')})` : ''}`, () => {
    const made = new DefaultSelector<string | undefined>();
    // Every backend this platform has (no poll(2) on Windows).
    const others = [...(backendMissing('poll') ? [] : [new PollSelector()]), new SelectSelector()];
    try {
      expect(made instanceof DefaultSelector).toBe(true);
      expect(made instanceof BaseSelector).toBe(true);
      for (const o of others) expect(o instanceof DefaultSelector).toBe(true);
      expect({} instanceof DefaultSelector).toBe(false);
      const [a, b] = socketpair();
      try {
        expect(made.register(a, EVENT_READ, 'x').data).toBe('x');
        expect(made.modify(a, EVENT_READ | EVENT_WRITE).data).toBeUndefined();
        expect(made.getKey(a).data).toBeUndefined();
        expect(made.modify(a, EVENT_READ, 'y').data).toBe('y');
        // Same events, no data: only data changes (to undefined), with no system call.
        expect(made.modify(a, EVENT_READ).data).toBeUndefined();
        expect(made.getKey(a).fileobj).toBe(a);
      } finally {
        a.close();
        b.close();
      }
    } finally {
      made.close();
      for (const o of others) o.close();
    }
  });
});
