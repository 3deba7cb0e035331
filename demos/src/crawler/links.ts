// Links out of a page, found with htmlparser2's tokenizer (never regular
// expressions), resolved against the page (or its <base href>) and normalised
// so the same page is recognised whatever way a link spells it.
import { Parser } from 'htmlparser2';

// Attributes that point at something a crawler can fetch.
const LINK_ATTRS: Record<string, readonly string[]> = {
  a: ['href'],
  area: ['href'],
  link: ['href'],
  iframe: ['src'],
  frame: ['src'],
  img: ['src'],
  script: ['src'],
  source: ['src'],
  embed: ['src'],
  audio: ['src'],
  video: ['src'],
  track: ['src'],
};

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

/** Every href/src of the page as an absolute, normalised http(s) URL, in document order, without duplicates. */
export function extractLinks(html: string, pageUrl: URL): string[] {
  let base = pageUrl;
  const raw: string[] = [];
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === 'base' && attribs.href !== undefined && raw.length === 0) {
          // Only a <base> before the first link changes how links resolve (HTML's rule is "first base element").
          try {
            base = new URL(attribs.href, pageUrl);
          } catch {
            /* an unusable base is ignored, as browsers do */
          }
          return;
        }
        const attrs = LINK_ATTRS[name];
        if (!attrs) return;
        for (const a of attrs) {
          const v = attribs[a];
          if (v !== undefined && v.trim() !== '') raw.push(v.trim());
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of raw) {
    let u: URL;
    try {
      u = new URL(r, base);
    } catch {
      continue; // not a URL at all
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') continue; // mailto:, javascript:, data: ...
    const n = normalizeUrl(u);
    if (!seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  }
  return out;
}
