// Links out of a page, found with htmlparser2's tokenizer (never regular
// expressions), resolved as a browser would (the first <base href>, the page's
// encoding for queries: charset.ts) and normalised so the same page is
// recognised whatever way a link spells it. Page requisites (images, scripts,
// stylesheets, media, CSS url()s) are marked as assets.
import { Parser } from 'htmlparser2';
import { resolveHref } from './charset';
import { cssUrls } from './css';

// Attributes that lead to another page.
const PAGE_ATTRS: Record<string, readonly string[]> = {
  a: ['href'],
  area: ['href'],
  iframe: ['src'],
  frame: ['src'],
};

// Attributes that name something the page needs to be shown.
const ASSET_ATTRS: Record<string, readonly string[]> = {
  img: ['src'],
  script: ['src'],
  source: ['src'],
  embed: ['src'],
  audio: ['src'],
  video: ['src', 'poster'],
  track: ['src'],
  object: ['data'],
  input: ['src'],
  body: ['background'],
};

// <link rel=...> values that are requisites; other rels (next, alternate, canonical...) are pages.
const ASSET_RELS = new Set(['stylesheet', 'icon', 'shortcut', 'apple-touch-icon', 'preload', 'modulepreload', 'prefetch', 'manifest', 'mask-icon']);

export interface FoundLink {
  /** Absolute, normalised. */
  url: string;
  asset: boolean;
}

/** The URL without its fragment, in WHATWG canonical form (lower-case host, no default port, dot segments resolved). */
export function normalizeUrl(u: URL): string {
  // String work, not URL setters: this runs for every link of every page.
  let h = u.href;
  const hash = h.indexOf('#');
  if (hash >= 0) h = h.slice(0, hash);
  // "/a?" and "/a" are one page: drop an empty query marker (and only an empty one).
  if (u.search === '' && h.endsWith('?')) h = h.slice(0, -1);
  return h;
}

// srcset (HTML's "parse a srcset attribute"): a URL runs to whitespace, trailing commas end it;
// its descriptors run to the next comma outside parentheses.
function srcsetUrls(v: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    while (i < v.length && /[\s,]/.test(v[i])) i++;
    let j = i;
    while (j < v.length && !/\s/.test(v[j])) j++;
    let url = v.slice(i, j);
    const endsCandidate = url.endsWith(',');
    url = url.replace(/,+$/, '');
    if (url) out.push(url);
    i = j;
    if (endsCandidate) continue;
    let depth = 0;
    while (i < v.length && !(v[i] === ',' && depth === 0)) {
      if (v[i] === '(') depth++;
      else if (v[i] === ')') depth = Math.max(0, depth - 1);
      i++;
    }
  }
  return out;
}

// <meta http-equiv=refresh content="5; url=/next">
function refreshUrl(content: string): string | undefined {
  const m = /^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.+?)\1\s*$/i.exec(content);
  return m && /[;,]|url/i.test(content) ? m[2] : undefined;
}

/** Every link of an HTML page, with whether it is a requisite, in document order, without duplicates. */
export function extractPageLinks(html: string, pageUrl: URL, encoding = 'utf-8'): FoundLink[] {
  let base: URL | undefined;
  const raw: Array<[string, boolean]> = [];
  const push = (v: string | undefined, asset: boolean) => {
    if (v !== undefined && v.trim() !== '') raw.push([v.trim(), asset]);
  };
  let inStyle = false;
  let styleText = '';
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (attribs.style) for (const u of cssUrls(attribs.style)) push(u, true);
        if (name === 'base') {
          // The first <base> with an href sets the base for every link of the page, before it or after (HTML spec).
          if (base === undefined && attribs.href !== undefined) {
            try {
              base = new URL(attribs.href, pageUrl);
            } catch {
              /* an unusable base is ignored, as browsers do */
            }
          }
          return;
        }
        if (name === 'style') {
          inStyle = true;
          styleText = '';
          return;
        }
        if (name === 'link') {
          const rels = (attribs.rel ?? '').toLowerCase().split(/\s+/);
          push(attribs.href, rels.some((r) => ASSET_RELS.has(r)));
          return;
        }
        if (name === 'meta') {
          if (attribs['http-equiv']?.toLowerCase() === 'refresh' && attribs.content) push(refreshUrl(attribs.content), false);
          return;
        }
        const pages = PAGE_ATTRS[name];
        if (pages) for (const a of pages) push(attribs[a], false);
        const assets = ASSET_ATTRS[name];
        if (assets) for (const a of assets) push(attribs[a], true);
        if ((name === 'img' || name === 'source') && attribs.srcset) for (const u of srcsetUrls(attribs.srcset)) push(u, true);
      },
      ontext(text) {
        if (inStyle) styleText += text;
      },
      onclosetag(name) {
        if (name === 'style' && inStyle) {
          inStyle = false;
          for (const u of cssUrls(styleText)) push(u, true);
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return resolveAll(raw, base ?? pageUrl, encoding);
}

/** The url()/@import targets of a stylesheet, resolved against it (all assets). */
export function extractCssLinks(css: string, cssUrl: URL, encoding = 'utf-8'): FoundLink[] {
  return resolveAll(
    cssUrls(css).map((u) => [u, true]),
    cssUrl,
    encoding,
  );
}

function resolveAll(raw: Array<[string, boolean]>, base: URL, encoding: string): FoundLink[] {
  const seen = new Map<string, FoundLink>();
  for (const [r, asset] of raw) {
    let u: URL;
    try {
      u = resolveHref(r, base, encoding);
    } catch {
      continue; // not a URL at all
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') continue; // mailto:, javascript:, data: ...
    const n = normalizeUrl(u);
    const had = seen.get(n);
    if (!had) seen.set(n, { url: n, asset });
    else if (!asset) had.asset = false; // linked as a page somewhere: crawl it as one
  }
  return [...seen.values()];
}

/** The absolute URLs only (see extractPageLinks). */
export function extractLinks(html: string, pageUrl: URL, encoding = 'utf-8'): string[] {
  return extractPageLinks(html, pageUrl, encoding).map((l) => l.url);
}
