#!/usr/bin/env node
// npm install of iomux: use the prebuild for this platform if it loads here;
// otherwise build from source with node-gyp when a compiler is there; otherwise
// fail with one message naming the platform and what to install (instead of a
// node-gyp stack trace from a missing compiler).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = __dirname;
const nodeGypBuild = require('node-gyp-build');
const platform = `${process.platform}-${process.arch}`;

function tryPrebuild() {
  let file;
  try {
    file = nodeGypBuild.resolve(root);
  } catch {
    return `no prebuilt binary for ${platform}`;
  }
  try {
    require(file);
    return null;
  } catch (err) {
    // A wrong libc, a too old glibc or Node: the binary is there but does not load.
    return `the prebuilt binary ${path.relative(root, file)} does not load here (${String(err.message).split('\n')[0]})`;
  }
}

function onPath(cmd) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';') : [''];
  return dirs.some((d) => exts.some((e) => fs.existsSync(path.join(d, cmd + e))));
}

// What node-gyp needs: a C++17 compiler, make (POSIX) and python3.
function missingTools() {
  if (process.platform === 'win32') return onPath('cl') || process.env.VCINSTALLDIR ? [] : ['Visual Studio C++ build tools'];
  const missing = [];
  const cxx = process.env.CXX ? [process.env.CXX.split(' ')[0]] : ['c++', 'g++', 'clang++'];
  if (!cxx.some(onPath)) missing.push('a C++17 compiler');
  if (!onPath('make')) missing.push('make');
  if (!['python3', 'python'].some(onPath) && !process.env.npm_config_python && !process.env.PYTHON) missing.push('python3');
  return missing;
}

function howToInstall() {
  switch (process.platform) {
    case 'linux': return fs.existsSync('/etc/alpine-release') ? 'Alpine: apk add build-base python3' : 'Debian, Ubuntu, Raspberry Pi OS: apt-get install g++ make python3; Fedora: dnf install gcc-c++ make python3';
    case 'darwin': return 'macOS: xcode-select --install';
    case 'win32': return 'Windows: Visual Studio Build Tools with "Desktop development with C++", and Python 3';
    default: return 'a C++17 compiler, make and python3 from your system\'s packages';
  }
}

const why = tryPrebuild();
if (why === null) process.exit(0);

const missing = missingTools();
if (missing.length > 0) {
  console.error(
    `iomux: ${why} (Node ${process.version}), and it cannot be built from source here: ` +
      `${missing.join(', ')} not found. Install them (${howToInstall()}), then run npm install again. ` +
      'Prebuilt binaries exist for linux-x64, linux-arm64, linux-arm (armv7) and win32-x64.',
  );
  process.exit(1);
}

console.error(`iomux: ${why}; building from source with node-gyp`);
// npm gives install scripts its own node-gyp; outside npm, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
  : spawnSync(process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status === null ? 1 : r.status);
