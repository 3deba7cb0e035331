// robots.txt as RFC 9309 reads it: groups by user-agent, Allow/Disallow with
// the longest match winning (Allow on a tie), `*` and `$` in patterns, and
// the non-standard Crawl-delay of the chosen group.

const MAX_BYTES = 500 * 1024; // RFC 9309 2.5: parse at least 500 KiB, may ignore the rest

interface Rule {
  allow: boolean;
  /** Normalised pattern (see normalizePath). */
  pattern: string;
  matcher: (path: string) => boolean;
}

interface Group {
  agents: string[];
  rules: Rule[];
  crawlDelay?: number;
}

export class RobotsRules {
  constructor(
    readonly rules: readonly Rule[],
    /** Seconds, when the matched group has one. */
    readonly crawlDelay: number | undefined,
  ) {}

  static allowAll(): RobotsRules {
    return new RobotsRules([], undefined);
  }

  static disallowAll(): RobotsRules {
    return new RobotsRules([makeRule(false, '/')], undefined);
  }

  /** Whether path (with its query, as in the request line) may be fetched. */
  allowed(pathAndQuery: string): boolean {
    if (pathAndQuery === '/robots.txt') return true; // RFC 9309 2.2.2: implicitly allowed
    const path = normalizePath(pathAndQuery);
    let best: Rule | undefined;
    for (const r of this.rules) {
      if (!r.matcher(path)) continue;
      if (!best || r.pattern.length > best.pattern.length || (r.pattern.length === best.pattern.length && r.allow && !best.allow)) best = r;
    }
    return best ? best.allow : true;
  }
}

/** The product token RFC 9309 matches: the user agent up to its first "/" or space. */
export function productToken(userAgent: string): string {
  const m = /^[A-Za-z_-]+/.exec(userAgent.trim());
  return (m ? m[0] : userAgent).toLowerCase();
}

/** Parses robots.txt text and picks the rules for userAgent. */
export function parseRobots(text: string, userAgent: string): RobotsRules {
  const token = productToken(userAgent);
  const groups: Group[] = [];
  let cur: Group | undefined;
  let lastWasAgent = false;
  for (const raw of text.slice(0, MAX_BYTES).split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      if (!cur || !lastWasAgent) groups.push((cur = { agents: [], rules: [] }));
      cur.agents.push(value.toLowerCase());
      lastWasAgent = true;
      continue;
    }
    if (key === 'allow' || key === 'disallow') {
      lastWasAgent = false;
      if (!cur) continue; // rules before any user-agent line belong to no group
      // An empty Disallow disallows nothing; an empty Allow allows nothing new.
      if (value === '') continue;
      cur.rules.push(makeRule(key === 'allow', value));
    } else if (key === 'crawl-delay') {
      lastWasAgent = false;
      const n = Number(value);
      if (cur && Number.isFinite(n) && n >= 0) cur.crawlDelay = n;
    }
    // Sitemap and unknown keys are not group members (RFC 9309 2.2.4) and do not end a group.
  }
  // All groups naming our token are merged (RFC 9309 2.2.1); else the "*" groups; else no rules.
  let chosen = groups.filter((g) => g.agents.includes(token));
  if (chosen.length === 0) chosen = groups.filter((g) => g.agents.includes('*'));
  const rules = chosen.flatMap((g) => g.rules);
  const delays = chosen.map((g) => g.crawlDelay).filter((d): d is number => d !== undefined);
  return new RobotsRules(rules, delays.length ? Math.max(...delays) : undefined);
}

function makeRule(allow: boolean, value: string): Rule {
  const pattern = normalizePath(value);
  return { allow, pattern, matcher: compile(pattern) };
}

// `*` is any run of characters, a final `$` anchors the end; everything else is literal.
function compile(pattern: string): (path: string) => boolean {
  const anchored = pattern.endsWith('$');
  const body = anchored ? pattern.slice(0, -1) : pattern;
  if (!body.includes('*')) return anchored ? (p) => p === body : (p) => p.startsWith(body);
  const src = body
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${src}${anchored ? '$' : ''}`, 's');
  return (p) => re.test(p);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * One spelling for comparison (RFC 9309 2.2.2): non-ASCII as UTF-8 %XX, %XX of
 * unreserved characters decoded, other %XX upper-cased.
 */
export function normalizePath(s: string): string {
  let out = '';
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length + 0 && /^[0-9A-Fa-f]{2}$/.test(bytes.toString('latin1', i + 1, i + 3))) {
      const v = parseInt(bytes.toString('latin1', i + 1, i + 3), 16);
      const c = String.fromCharCode(v);
      out += v < 0x80 && UNRESERVED.test(c) ? c : `%${bytes.toString('latin1', i + 1, i + 3).toUpperCase()}`;
      i += 2;
    } else if (b >= 0x80 || b < 0x21) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}
