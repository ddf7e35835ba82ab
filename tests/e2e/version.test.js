'use strict';
// `resetd --version` names resetd's version and the version of every library
// it is linked with, as that library reports it at run time. On the machine
// that built it, those are the versions pkg-config knows for the installed
// development packages.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

// The name --version prints, and the pkg-config package it comes from.
// Debian's libutf8proc.pc says 2.6.0 for the 2.8.0 library, so utf8proc is
// checked for its shape alone.
const LIBRARIES = [
  ['libmicrohttpd', 'libmicrohttpd'],
  ['jansson', 'jansson'],
  ['libsodium', 'libsodium'],
  ['sqlite', 'sqlite3'],
  ['libpq', 'libpq'],
  ['libcurl', 'libcurl'],
  ['openssl', 'libcrypto'],
  ['utf8proc', null],
];

function pkgVersion(pkg) {
  try {
    return execFileSync('pkg-config', ['--modversion', pkg], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

test('--version prints resetd and each library with its run-time version', () => {
  h.assertBinary();
  const out = execFileSync(h.binPath(), ['--version'], { encoding: 'utf8' });
  const lines = out.trimEnd().split('\n');
  const source = fs.readFileSync(path.join(h.REPO_ROOT, 'src/version.h'), 'utf8');
  const want = /#define RESETD_VERSION "([^"]+)"/.exec(source)[1];
  assert.equal(lines[0], `resetd ${want}`);

  const seen = new Map();
  for (const l of lines.slice(1)) {
    const m = /^([a-z0-9]+) (\d+(?:\.\d+)+)(?: \(built with (\d+(?:\.\d+)+)\))?$/.exec(l);
    assert.ok(m, `not "NAME VERSION [(built with VERSION)]": ${JSON.stringify(l)}`);
    seen.set(m[1], m[2]);
  }
  for (const [name, pkg] of LIBRARIES) {
    assert.ok(seen.has(name), `--version does not name ${name}:\n${out}`);
    const installed = pkg && pkgVersion(pkg);
    if (installed) assert.equal(seen.get(name), installed, `${name} as pkg-config has it`);
  }
  assert.equal(seen.size, LIBRARIES.length, `unexpected lines:\n${out}`);

  // The command says the same.
  assert.equal(execFileSync(h.binPath(), ['version'], { encoding: 'utf8' }), out);
});
