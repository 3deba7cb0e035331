// The published declarations: a consumer file (test/fixtures/types-consumer.ts)
// that uses every exported type is compiled by tsc --strict at the default
// target against dist/index.d.ts, as a package user would; and the .d.ts shows
// no internals.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function allDts(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? allDts(p) : e.name.endsWith('.d.ts') ? [p] : [];
  });
}

beforeAll(() => {
  // The declarations as published: built exactly as `npm run build:ts` builds them.
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root });
  execFileSync(process.execPath, ['scripts/lib/strip-dts-private.mjs', 'dist'], { cwd: root });
}, 120_000);

describe('published .d.ts', () => {
  it('a --strict consumer at the default target type-checks, and its @ts-expect-error lines are errors', () => {
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
      let out = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? err);
      }
      expect(out).toBe('');
      // And the expectations are real: without the markers those lines fail.
      const plain = fs.readFileSync(path.join(dir, 'consumer.ts'), 'utf8').replace(/\/\/ @ts-expect-error.*\n/g, '');
      fs.writeFileSync(path.join(dir, 'consumer.ts'), plain);
      let errors = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      } catch (err) {
        errors = String((err as { stdout?: string }).stdout);
      }
      expect(errors.match(/error TS/g)?.length).toBe(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

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
