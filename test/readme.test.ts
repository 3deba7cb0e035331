// The README and the docs stand alone: every ```ts block of the README and of
// docs/*.md type-checks as shown against the built declarations
// (dist/index.d.ts), and every relative link in every doc points at a file
// inside the repository (and, with a #fragment, at a heading of that file).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

/** Markdown files under dir (relative to ROOT), recursively, skipping node_modules and dist. */
function markdownUnder(dir: string, name?: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'reference') out.push(...markdownUnder(rel, name));
    } else if (e.name.endsWith('.md') && (!name || name.test(e.name))) out.push(rel);
  }
  return out;
}
const DOCS_WITH_CODE = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const ALL_DOCS = [
  ...DOCS_WITH_CODE,
  ...markdownUnder('demos', /^README\.md$/),
  ...fs.readdirSync(path.join(ROOT, 'demos/docs')).filter((f) => f.endsWith('.md')).map((f) => `demos/docs/${f}`),
];

const read = (doc: string) => fs.readFileSync(path.join(ROOT, doc), 'utf8');
const withoutCode = (text: string) => text.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, (m) => (m.includes('](') ? '' : m));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2... for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('README and docs', () => {
  it('the docs are where the README says they are', () => {
    expect(DOCS_WITH_CODE).toEqual(expect.arrayContaining(['README.md', 'docs/API.md', 'docs/RELIABILITY.md', 'docs/guide.md', 'docs/benchmarks.md', 'docs/platforms.md']));
    expect(ALL_DOCS).toEqual(expect.arrayContaining(['demos/examples/README.md', 'demos/docs/crawl.md']));
  });

  it('the README is a landing page: at most 15 KB, with both set-up commands verbatim', () => {
    const readme = read('README.md');
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15 * 1024);
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });

  it('the platform table in the README is the one in docs/platforms.md', () => {
    const table = (doc: string) => /^\| platform \|[^\n]*\n(?:\|[^\n]*\n)+/m.exec(read(doc))?.[0];
    expect(table('README.md')).toBeDefined();
    expect(table('README.md')).toBe(table('docs/platforms.md'));
  });

  it('every ts code block of the README and docs/*.md compiles with tsc --strict against dist/index.d.ts', () => {
    const blocks = DOCS_WITH_CODE.flatMap((doc) =>
      [...read(doc).matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({ doc, line: read(doc).slice(0, m.index).split('\n').length + 1, code: m[1] })));
    expect(blocks.filter((b) => b.doc === 'README.md').length).toBeGreaterThanOrEqual(3);
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-readme-'));
    try {
      const files = blocks.map(({ code }, i) => {
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
      const shown = r.stdout.replace(/snippet-(\d+)\.ts\((\d+),/g, (_, n, line) =>
        `${blocks[n - 1].doc} ts block at line ${blocks[n - 1].line}, line ${Number(line)} of the block (`);
      expect(r.status, shown).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every relative link in every doc points at a file inside the repository, and at a heading there', () => {
    expect(ALL_DOCS.length).toBeGreaterThanOrEqual(8);
    const bad: string[] = [];
    let checked = 0;
    for (const doc of ALL_DOCS) {
      for (const m of withoutCode(read(doc)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^(https?:|mailto:)/.test(target)) continue;
        checked++;
        const [file, fragment] = target.split('#');
        const abs = file === '' ? path.join(ROOT, doc) : path.resolve(path.dirname(path.join(ROOT, doc)), file);
        if (!abs.startsWith(ROOT + path.sep)) bad.push(`${doc}: ${target} leaves the repository`);
        else if (!fs.existsSync(abs)) bad.push(`${doc}: ${target} does not exist`);
        else if (fragment !== undefined) {
          if (!abs.endsWith('.md')) bad.push(`${doc}: ${target}: a fragment on a file that is not markdown`);
          else if (!anchors(fs.readFileSync(abs, 'utf8')).has(fragment)) bad.push(`${doc}: ${target}: no such heading`);
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(bad).toEqual([]);
  });
});
