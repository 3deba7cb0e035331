// Where a page is saved. --layout flat: one file per URL inside the output
// directory, its name built from a whitelist of characters, so no "/", "\",
// ".." or control character survives, whatever the URL (encoded slashes
// included). --layout mirror: a host/path tree as wget makes, browsable, each
// segment cleaned the same way and the result checked to be inside the directory.
// Either way a body is written to a temporary name beside its final one and
// renamed when complete, so a failed fetch never leaves a partial file behind.
import { createHash, randomBytes } from 'node:crypto';
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

/**
 * A body on its way to disk: written piece by piece to a temporary file in
 * the final file's directory, renamed to the final name by commit(), removed
 * by discard(). Synchronous, like the writes it replaces: one write per
 * received piece, no copy kept.
 */
export class FileWriter {
  #fd: number;
  #tmp: string;
  #open = true;

  constructor(readonly file: string) {
    // Hidden and random: never a name a page of the crawl could get, never reused.
    this.#tmp = path.join(path.dirname(file), `.${path.basename(file).slice(0, 100)}.${randomBytes(6).toString('hex')}.part`);
    this.#fd = fs.openSync(this.#tmp, 'wx', 0o666);
  }

  write(part: Buffer): void {
    for (let off = 0; off < part.length; ) off += fs.writeSync(this.#fd, part, off, part.length - off);
  }

  /** The body is complete: the file appears under its final name. Returns that name. */
  commit(): string {
    this.#close();
    try {
      fs.renameSync(this.#tmp, this.file);
    } catch (err) {
      // Mirror layout: "/a/b" made a directory of "a" while "/a" was arriving: the page becomes a/index.html.
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') {
        try {
          fs.renameSync(this.#tmp, path.join(this.file, 'index.html'));
          return path.join(this.file, 'index.html');
        } catch {
          /* fall through: report the first error */
        }
      }
      this.#unlink();
      throw err;
    }
    return this.file;
  }

  /** Removes the partial file (idempotent). */
  discard(): void {
    this.#close();
    this.#unlink();
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    fs.closeSync(this.#fd);
  }

  #unlink(): void {
    try {
      fs.unlinkSync(this.#tmp);
    } catch {
      /* already gone */
    }
  }
}

export interface Store {
  readonly dir: string;
  /** A writer for the body of url; throws rather than write outside dir. */
  open(url: string, contentType?: string): FileWriter;
  /** Writes a whole body (through a temporary file) and returns the path. */
  save(url: string, body: Buffer, contentType?: string): string;
}

function saveWhole(store: Store, url: string, body: Buffer, contentType?: string): string {
  const w = store.open(url, contentType);
  try {
    w.write(body);
  } catch (err) {
    w.discard();
    throw err;
  }
  return w.commit();
}

export class PageStore implements Store {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Refuses (throws) anything that would land outside dir. */
  open(url: string, _contentType?: string): FileWriter {
    const file = path.join(this.dir, safeFileName(url));
    if (path.dirname(file) !== this.dir) throw new Error(`refusing to write outside ${this.dir}: ${file}`);
    return new FileWriter(file);
  }

  save(url: string, body: Buffer, contentType?: string): string {
    return saveWhole(this, url, body, contentType);
  }
}

const MAX_SEGMENT = 200;
const SUFFIXES: Record<string, string> = {
  'text/html': '.html',
  'application/xhtml+xml': '.xhtml',
  'text/css': '.css',
  'text/javascript': '.js',
  'application/javascript': '.js',
  'application/json': '.json',
  'text/plain': '.txt',
  'text/xml': '.xml',
  'application/xml': '.xml',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/svg+xml': '.svg',
  'image/webp': '.webp',
  'image/x-icon': '.ico',
  'image/vnd.microsoft.icon': '.ico',
  'application/pdf': '.pdf',
  'font/woff2': '.woff2',
  'font/woff': '.woff',
};

// One path segment as a file name: decoded, no separators, NUL or control characters, never "." or "..".
function cleanSegment(seg: string): string {
  let s = seg;
  try {
    s = decodeURIComponent(seg);
  } catch {
    /* invalid escapes: keep as is */
  }
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\x00-\x1f\x7f/\\:*?"<>|]/g, '_');
  if (s === '.' || s === '..' || s === '') s = s.replace(/\./g, '_') || '_';
  if (Buffer.byteLength(s) > MAX_SEGMENT) {
    const hash = createHash('sha256').update(seg).digest('hex').slice(0, 12);
    s = `${Buffer.from(s).subarray(0, MAX_SEGMENT - 13).toString('utf8').replace(/\ufffd$/, '')}_${hash}`;
  }
  return s;
}

/** The mirror path of url relative to the output directory (forward slashes). */
export function mirrorPath(url: string, contentType?: string): string {
  const u = new URL(url);
  const host = cleanSegment(u.port ? `${u.hostname}_${u.port}` : u.hostname);
  const segs = u.pathname.split('/').slice(1);
  let file = segs.pop() ?? '';
  const dirs = segs.map(cleanSegment);
  if (file === '') file = 'index.html';
  else file = cleanSegment(file);
  if (u.search) {
    // Query URLs: "name@query" plus a suffix from the Content-Type so the file opens as what it is.
    const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const suffix = SUFFIXES[mime] ?? '';
    file = cleanSegment(`${file}@${u.search.slice(1)}`);
    if (suffix && !file.endsWith(suffix)) file += suffix;
  }
  return [host, ...dirs, file].join('/');
}

export class MirrorStore implements Store {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  open(url: string, contentType?: string): FileWriter {
    let file = path.resolve(this.dir, mirrorPath(url, contentType));
    if (!file.startsWith(this.dir + path.sep)) throw new Error(`refusing to write outside ${this.dir}: ${file}`);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (isDir(file)) file = path.join(file, 'index.html'); // "/a" after "/a/b": the page becomes a/index.html
      return new FileWriter(file);
    } catch (err) {
      // A file where a directory must go ("/a" saved, now "/a/b"): keep the page, flat, aside.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTDIR' && code !== 'EEXIST' && code !== 'EISDIR') throw err;
      const aside = path.join(this.dir, '_conflicts');
      fs.mkdirSync(aside, { recursive: true });
      return new FileWriter(path.join(aside, safeFileName(url)));
    }
  }

  save(url: string, body: Buffer, contentType?: string): string {
    return saveWhole(this, url, body, contentType);
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
