// The published .d.ts must type-check at TypeScript's default target (ES5),
// where the `#private;` marker tsc writes for classes with #private members is
// an error (TS18028). It only makes those classes nominal, so it is removed.
import * as fs from 'node:fs';
import * as path from 'node:path';

const dist = path.resolve(process.argv[2] ?? 'dist');
let changed = 0;
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.d.ts')) {
      const text = fs.readFileSync(p, 'utf8');
      const out = text.replace(/^[ \t]*#private;\r?\n/gm, '');
      if (out !== text) {
        fs.writeFileSync(p, out);
        changed++;
      }
    }
  }
}
walk(dist);
if (process.env.IOMUX_VERBOSE) console.log(`strip-dts-private: ${changed} files`);
