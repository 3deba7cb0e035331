// The package entry points, as users load them.
import { execFileSync } from 'node:child_process';
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
});
