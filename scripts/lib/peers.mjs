// Peer packages that benchmarks compare against (npm `epoll`, `socketwatcher`):
// installed on demand into a cache directory under ~/.cache, never into the
// project, so they are not dependencies of iomux. Their native parts are built
// here with node-gyp (npm 11 leaves install scripts of unlisted packages unrun).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

export function peerCacheDir(name) {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'iomux-bench', name);
}

// { pkg: 'version' } -> { pkg: { version, require() } | { error } }
export function ensurePeers(cacheName, wanted, { log = (m) => process.stderr.write(m + '\n') } = {}) {
  const dir = peerCacheDir(cacheName);
  fs.mkdirSync(dir, { recursive: true });
  const pj = path.join(dir, 'package.json');
  if (!fs.existsSync(pj)) fs.writeFileSync(pj, JSON.stringify({ name: `iomux-bench-${cacheName}`, private: true }, null, 2) + '\n');
  const req = createRequire(pj);
  const installed = (pkg) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
    } catch {
      return undefined;
    }
  };
  const missing = Object.entries(wanted).filter(([pkg, v]) => installed(pkg) !== v);
  if (missing.length) {
    log(`installing ${missing.map(([p, v]) => `${p}@${v}`).join(' ')} into ${dir}`);
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', ...missing.map(([p, v]) => `${p}@${v}`)], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) log(`npm install in ${dir} failed (status ${r.status})`);
  }
  // npm's own nodedir setting (headers without a download), as npm would pass it to node-gyp.
  const nodedir = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
  const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  const out = {};
  for (const pkg of Object.keys(wanted)) {
    const pdir = path.join(dir, 'node_modules', pkg);
    const version = installed(pkg);
    if (!version) {
      out[pkg] = { error: 'not installed' };
      continue;
    }
    if (fs.existsSync(path.join(pdir, 'binding.gyp')) && !fs.existsSync(path.join(pdir, 'build', 'Release'))) {
      log(`building ${pkg}@${version} with node-gyp`);
      const args = [gyp, 'rebuild'];
      if (nodedir && nodedir !== 'undefined' && nodedir !== 'null') args.push(`--nodedir=${nodedir}`);
      const env = { ...process.env, PATH: `${path.join(dir, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
      const b = spawnSync(process.execPath, args, { cwd: pdir, env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (b.status !== 0) {
        out[pkg] = { version, error: 'node-gyp rebuild failed' };
        continue;
      }
    }
    out[pkg] = { version, dir: pdir, require: () => req(pkg) };
  }
  return out;
}
