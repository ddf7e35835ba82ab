'use strict';
// The documentation keeps up with the binary: every configuration key in
// config.c's table, which `resetd --help` lists, is explained in the sample
// config and in resetd.conf(5); the keys a reload applies are the ones
// resetd.conf(5) says; every command is in resetd(8); the man pages are
// clean under `mandoc -T lint`; and the sample config is one that
// check-config accepts.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./lib/harness');

const root = path.join(__dirname, '..', '..');
const SAMPLE = path.join(root, 'etc/resetd.conf.sample');
const MAN = ['man/resetd.8', 'man/resetd.conf.5'].map((p) => path.join(root, p));

// The keys of config.c's table, read from the source: a row opens with
// `{ "name", S(field)` or `{ "name", I(field)`.
function tableKeys() {
  const src = fs.readFileSync(path.join(root, 'src/config.c'), 'utf8');
  return [...src.matchAll(/^\t\{ "([a-z0-9_]+)", [SI]\(/gm)].map((m) => m[1]);
}

function helpText() {
  return execFileSync(h.binPath(), ['--help'], { encoding: 'utf8' });
}

test('every config key and command is documented', () => {
  h.assertBinary();
  const help = helpText();
  const keys = [...help.matchAll(/^ {2}([a-z0-9_]+) +RESETD_[A-Z0-9_]+ /gm)].map((m) => m[1]);
  const commands = [...help.matchAll(/^ {2}resetd ([a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(keys.length >= 15, `expected the key table in --help, got ${keys.length} keys`);
  assert.ok(commands.includes('serve') && commands.includes('project'), 'expected commands in --help');
  // --help walks the same table the parser does.
  assert.deepEqual([...keys].sort(), [...tableKeys()].sort(), '--help and config.c disagree on the keys');

  const sample = fs.readFileSync(SAMPLE, 'utf8');
  const man5 = fs.readFileSync(path.join(root, 'man/resetd.conf.5'), 'utf8');
  const man8 = fs.readFileSync(path.join(root, 'man/resetd.8'), 'utf8');
  for (const k of keys) {
    assert.match(sample, new RegExp(`^#?${k} =`, 'm'), `etc/resetd.conf.sample does not set ${k}`);
    assert.match(man5, new RegExp(`Ic ${k}\\b`), `man/resetd.conf.5 does not describe ${k}`);
  }
  for (const c of new Set(commands)) {
    assert.match(man8, new RegExp(`Cm ${c}\\b`), `man/resetd.8 does not describe ${c}`);
  }
});

test('the sample config explains every key it sets, and check-config accepts it', () => {
  h.assertBinary();
  const lines = fs.readFileSync(SAMPLE, 'utf8').split('\n');
  const keyLine = /^#?([a-z0-9_]+) =/;
  const known = new Set(tableKeys());
  for (let i = 0; i < lines.length; i++) {
    const m = keyLine.exec(lines[i]);
    if (!m) continue;
    assert.ok(known.has(m[1]), `etc/resetd.conf.sample line ${i + 1}: ${m[1]} is no key of config.c`);
    // Above a key, past the other keys of its group, is a comment that
    // explains it: "# words", not a blank line or the top of the file.
    let j = i - 1;
    while (j >= 0 && keyLine.test(lines[j])) j--;
    assert.ok(j >= 0 && /^#[ \t]*\S/.test(lines[j]), `etc/resetd.conf.sample line ${i + 1}: ${m[1]} has no comment above it`);
  }

  // As shipped, the sample is a working configuration. It names relative
  // paths (./var/...), so check it from an empty folder.
  const dir = h.makeTempDir();
  const env = { PATH: process.env.PATH };
  const r = spawnSync(h.binPath(), ['--config', SAMPLE, 'check-config'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /configuration OK/);
});

// The keys config.c lets a reload apply (reload_keys), read from the source.
function reloadKeys() {
  const src = fs.readFileSync(path.join(root, 'src/config.c'), 'utf8');
  const m = /static const char \*const reload_keys\[\] = \{([\s\S]*?)\n\};/.exec(src);
  assert.ok(m, 'no reload_keys table in src/config.c');
  return [...m[1].replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/"([a-z0-9_]+)"/g)].map((x) => x[1]);
}

test('resetd.conf(5) lists exactly the keys a reload applies', () => {
  const keys = reloadKeys();
  const known = new Set(tableKeys());
  assert.ok(keys.length >= 10, `reload_keys has ${keys.length} keys`);
  for (const k of keys) assert.ok(known.has(k), `reload_keys names ${k}, which config.c's table has not`);
  const man5 = fs.readFileSync(path.join(root, 'man/resetd.conf.5'), 'utf8');
  const section = /^\.Sh RELOADING\n([\s\S]*?)^\.Sh /m.exec(man5);
  assert.ok(section, 'resetd.conf(5) has no RELOADING section');
  const named = [...section[1].matchAll(/Ic ([a-z0-9_]+\*?)/g)].map((x) => x[1]);
  const covers = (n, k) => (n.endsWith('*') ? k.startsWith(n.slice(0, -1)) : n === k);
  for (const k of keys) assert.ok(named.some((n) => covers(n, k)), `RELOADING does not name ${k}`);
  for (const n of named) {
    const hit = [...known].filter((k) => covers(n, k));
    assert.ok(hit.length > 0, `RELOADING names ${n}, no key`);
    for (const k of hit) assert.ok(keys.includes(k), `RELOADING names ${k}, which a reload does not apply`);
  }
});

test('the man pages are clean under mandoc -T lint', () => {
  const r = spawnSync('mandoc', ['-T', 'lint', ...MAN], { encoding: 'utf8' });
  assert.ok(!r.error, 'mandoc is not installed: scripts/deps.sh test installs it');
  // The two pages refer to each other; until they are installed mandoc
  // cannot find them, and says so at the STYLE level. Nothing else may be
  // reported, at any level.
  const messages = r.stderr
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => !/STYLE: referenced manual not found: Xr resetd(\.conf)? [58]( \(\d+ times\))?$/.test(l));
  assert.deepEqual(messages, []);
  // mandoc exits 0 with no messages, or 1 for STYLE ones alone.
  assert.ok(r.status === 0 || r.status === 1, `mandoc exited ${r.status}`);

  // Each page renders to text that names its subject.
  for (const m of MAN) {
    const text = execFileSync('mandoc', ['-T', 'ascii', m], { encoding: 'utf8' });
    assert.match(text, /resetd/);
  }
});
