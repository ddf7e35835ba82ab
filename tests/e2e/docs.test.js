'use strict';
// The documentation keeps up with the binary: every configuration key that
// `resetd --help` lists is explained in the sample config and the man page,
// and every command is in resetd(8).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

const root = path.join(__dirname, '..', '..');

test('every config key and command is documented', () => {
  h.assertBinary();
  const help = execFileSync(h.binPath(), ['--help'], { encoding: 'utf8' });
  const keys = [...help.matchAll(/^ {2}([a-z0-9_]+) +RESETD_[A-Z0-9_]+ /gm)].map((m) => m[1]);
  const commands = [...help.matchAll(/^ {2}resetd ([a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(keys.length >= 15, `expected the key table in --help, got ${keys.length} keys`);
  assert.ok(commands.includes('serve') && commands.includes('project'), 'expected commands in --help');

  const sample = fs.readFileSync(path.join(root, 'etc/resetd.conf.sample'), 'utf8');
  const man5 = fs.readFileSync(path.join(root, 'man/resetd.conf.5'), 'utf8');
  const man8 = fs.readFileSync(path.join(root, 'man/resetd.8'), 'utf8');
  for (const k of keys) {
    assert.match(sample, new RegExp(`^#?${k} =`, 'm'), `etc/resetd.conf.sample does not set ${k}`);
    assert.match(man5, new RegExp(`Ic ${k}\\b`), `man/resetd.conf.5 does not describe ${k}`);
  }
  for (const c of new Set(commands)) {
    if (c === 'help' || c === 'version') continue;
    assert.match(man8, new RegExp(`Cm ${c}\\b`), `man/resetd.8 does not describe ${c}`);
  }
});
