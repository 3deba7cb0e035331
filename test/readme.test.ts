// The README and the docs stand alone: every ```ts block of the README
// type-checks as shown against the built declarations (dist/index.d.ts), and
// every relative link in the README and docs points at a file inside the
// repository.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

describe('README and docs', () => {
  it('every ts code block of the README compiles with tsc --strict against dist/index.d.ts', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-readme-'));
    try {
      const files = blocks.map((code, i) => {
        const file = path.join(dir, `snippet-${i + 1}.ts`);
        // Each block is its own module (top-level await is fine in one).
        fs.writeFileSync(file, /^(import|export) /m.test(code) ? code : `${code}\nexport {};\n`);
        return file;
      });
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, target: 'ES2022', module: 'ES2022', moduleResolution: 'bundler',
          lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')],
          skipLibCheck: true, baseUrl: dir, paths: { iomux: [path.join(ROOT, 'dist/index.d.ts')] },
        },
        files,
      }));
      const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
      const shown = r.stdout.replace(/snippet-(\d+)\.ts\((\d+),/g, (_, n, line) => `README ts block ${n}, line ${line} (`);
      expect(r.status, shown).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('relative links in the README and docs point at files inside the repository', () => {
    const docs = ['README.md', 'docs/API.md', 'docs/RELIABILITY.md', 'demos/docs/crawl.md', 'demos/examples/README.md']
      .filter((f) => fs.existsSync(path.join(ROOT, f)));
    const bad: string[] = [];
    for (const doc of docs) {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const file = path.resolve(path.dirname(path.join(ROOT, doc)), target.split('#')[0]);
        if (!file.startsWith(ROOT + path.sep)) bad.push(`${doc}: ${target} leaves the repository`);
        else if (!fs.existsSync(file)) bad.push(`${doc}: ${target} does not exist`);
      }
    }
    expect(bad).toEqual([]);
  });
});
