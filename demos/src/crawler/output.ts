// Where a page is saved: one flat file per URL inside the output directory.
// The name is built from a whitelist of characters, so no "/", "\", ".." or
// control character survives, whatever the URL (encoded slashes included).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const MAX_STEM = 120;

export function safeFileName(url: string): string {
  const u = new URL(url);
  let stem = `${u.hostname}_${u.port || '80'}${u.pathname}${u.search}`;
  try {
    stem = decodeURIComponent(stem); // so %2F and %2e%2e are treated as what they mean: replaced below
  } catch {
    /* invalid escapes: keep as is */
  }
  stem = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/\.{2,}/g, '_').replace(/^[._-]+/, '');
  if (stem.length > MAX_STEM) stem = stem.slice(0, MAX_STEM);
  // Distinct URLs may sanitise to the same stem: a hash of the full URL keeps them apart.
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 12);
  return `${stem || 'page'}.${hash}`;
}

export class PageStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Writes the page and returns the path; refuses (throws) anything that would land outside dir. */
  save(url: string, body: Buffer): string {
    const file = path.join(this.dir, safeFileName(url));
    if (path.dirname(file) !== this.dir) throw new Error(`refusing to write outside ${this.dir}: ${file}`);
    fs.writeFileSync(file, body);
    return file;
  }
}
