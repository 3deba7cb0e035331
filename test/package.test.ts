// The package entry points, as users load them.
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

describe('package entry', () => {
  it('require("iomux") exposes the contract', () => {
    const out = execFileSync(process.execPath, ['-e', `
      const io = require('iomux');
      const [a, b] = io.socketpair();
      const sel = new io.DefaultSelector();
      sel.register(a, io.EVENT_READ);
      b.send(Buffer.from('x'));
      console.log(sel.select(0).length, typeof io.select, io.EPOLLET, io.EVENT_READ, io.EVENT_WRITE);
    `], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe(`1 function ${2 ** 31} 1 2`);
  });

  it('import { ... } from "iomux" works from ESM', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { DefaultSelector, socketpair, FD_SETSIZE } from 'iomux';
      console.log(typeof DefaultSelector, typeof socketpair, FD_SETSIZE > 0);
    `], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('function function true');
  });

  // TypeScript's re-exports would make the CommonJS exports object ~100 getters,
  // which V8 keeps as a dictionary: every io.EVENT_READ in a hot loop then costs
  // ~15 ns instead of ~1. The entry hands out a plain object of values instead.
  it('require("iomux") is a plain object of values that V8 keeps in fast mode', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', `
      const io = require('iomux');
      const getters = Object.keys(io).filter((k) => Object.getOwnPropertyDescriptor(io, k).get);
      console.log(Object.keys(io).length > 100, getters.length, %HasFastProperties(io), io.__esModule, Object.keys(io).includes('__esModule'));
    `], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('true 0 true true false');
  });

  it('ESM importers see every name the CommonJS entry has, default and namespace alike', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module';
      import io from 'iomux';
      import * as ns from 'iomux';
      const cjs = createRequire(process.cwd() + '/')('iomux');
      const missing = Object.keys(cjs).filter((k) => ns[k] !== cjs[k]);
      console.log(io === cjs, missing.join(',') || 'none', ns.EVENT_READ, ns.EVENT_WRITE);
    `], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('true none 1 2');
  });
});

// The published package is the library only: the demos, the crawler, the
// examples and the tests live in demos/ (a workspace package of their own).
// Where `npm` cannot be run as a program (Windows has npm.cmd; none under wine),
// the tarball tests are skipped with that reason; elsewhere they always run.
const npmRuns = process.platform !== 'win32' || spawnSync('npm', ['--version']).status === 0;
describe.skipIf(!npmRuns)(npmRuns ? 'packed tarball' : 'packed tarball (npm cannot be run here: Windows/wine)', () => {
  const pack = npmRuns
    ? JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }))[0]
    : { files: [] };
  const files: string[] = pack.files.map((f: { path: string }) => f.path);

  it('holds the addon sources, the compiled library and its declarations', () => {
    for (const f of ['package.json', 'binding.gyp', 'install.js', 'dist/index.js', 'dist/index.d.ts', 'src/native/module.cc']) expect(files).toContain(f);
  });

  it('holds no demo, crawler, example, test or script file', () => {
    const offending = files.filter((f) => /(^|\/)(demos?|crawler|examples|test|scripts|bench-results)\//.test(f) || /(^|\/)cli\.(js|d\.ts)$/.test(f));
    expect(offending).toEqual([]);
  });

  it('depends on what loading the addon needs and nothing else', () => {
    const pkg = JSON.parse(require('node:fs').readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['node-addon-api', 'node-gyp-build']);
    expect(pkg.bin).toBeUndefined();
  });
});

// npm 11 blocks dependencies' install scripts unless package.json's allowScripts
// names them, and warns about each one it skipped: a fresh install must print
// no such warning. Older npms have no `install-scripts` command (their version
// is in the title).
const npmVersion = npmRuns ? execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim() : '';
const npmHasAllowScripts = npmRuns && spawnSync('npm', ['install-scripts', 'ls'], { cwd: root }).status === 0;
describe.skipIf(!npmHasAllowScripts)(npmHasAllowScripts ? 'install scripts' : `install scripts (npm ${npmVersion || 'not runnable here'} has no install-scripts command)`, () => {
  it('every installed package with an install script is approved or denied in allowScripts', () => {
    const out = execFileSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('No packages with unreviewed install scripts.');
  });
});
