// URLs in CSS (a <style> element, a style="" attribute, a fetched .css file):
// url(...) tokens and @import "..." strings. A small scanner that knows about
// comments, strings and escapes, so "url(" inside a comment or a string is not
// taken for a link.

function isWs(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
}

// CSS escapes: "\" + up to 6 hex digits (+ one optional space), or "\" + any other char.
function unescape(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\([^\n\r\f0-9a-fA-F])|\\(\r\n|[\n\r\f])/g, (_m, hex: string | undefined, ch: string | undefined) => {
    if (hex) {
      const cp = parseInt(hex, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
    }
    return ch ?? ''; // an escaped newline inside a string is a line continuation
  });
}

// Reads a quoted string starting at s[i] (the quote); returns [value, index after it].
function readString(s: string, i: number): [string, number] {
  const q = s[i];
  let j = i + 1;
  while (j < s.length && s[j] !== q && s[j] !== '\n') j += s[j] === '\\' ? 2 : 1;
  return [unescape(s.slice(i + 1, Math.min(j, s.length))), j + 1];
}

/** Every url(...) and @import target in the CSS text, in order (raw, unresolved). */
export function cssUrls(css: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = css.length;
  while (i < n) {
    const c = css[i];
    if (c === '/' && css[i + 1] === '*') {
      const end = css.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      i = readString(css, i)[1];
    } else if (c === '\\') {
      i += 2;
    } else if ((c === 'u' || c === 'U') && css.slice(i, i + 4).toLowerCase() === 'url(' && !/[\w-]/.test(css[i - 1] ?? '')) {
      let j = i + 4;
      while (j < n && isWs(css[j])) j++;
      if (css[j] === '"' || css[j] === "'") {
        const [v, k] = readString(css, j);
        out.push(v);
        i = k;
      } else {
        let k = j;
        while (k < n && css[k] !== ')') k += css[k] === '\\' ? 2 : 1;
        out.push(unescape(css.slice(j, k).trim()));
        i = k + 1;
      }
    } else if (c === '@' && css.slice(i, i + 7).toLowerCase() === '@import') {
      let j = i + 7;
      while (j < n && isWs(css[j])) j++;
      if (css[j] === '"' || css[j] === "'") {
        const [v, k] = readString(css, j);
        out.push(v);
        i = k;
      } else i = j; // @import url(...): the url( branch takes it
    } else i++;
  }
  return out.filter((u) => u.trim() !== '');
}
