'use strict';
// `make install` puts the binary, both man pages, the sample config and the
// systemd unit where PREFIX and DESTDIR say, never overwrites an operator's
// configuration, and writes a unit that systemd-analyze accepts as it is,
// with the hardening it promises.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./lib/harness');

function make(args) {
  const r = spawnSync('make', ['--no-print-directory', '-s', ...args], { cwd: h.REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `make ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

function systemdAnalyze(args, env = {}) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.ok(!r.error, 'systemd-analyze is not installed (the systemd package)');
  return r;
}

// The unit's [Service] settings, as name -> list of values.
function serviceSettings(text) {
  const out = new Map();
  let section = '';
  for (const line of text.split('\n')) {
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1];
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m && section === 'Service') out.set(m[1], [...(out.get(m[1]) || []), m[2]]);
  }
  return out;
}

const FILES = [
  ['sbin/resetd', 0o755],
  ['share/man/man8/resetd.8', 0o644],
  ['share/man/man5/resetd.conf.5', 0o644],
  ['share/doc/resetd/resetd.conf.sample', 0o644],
  ['etc/resetd/resetd.conf', 0o644],
  ['lib/systemd/system/resetd.service', 0o644],
];

test('make install DESTDIR=... installs every file for PREFIX, and uninstall removes them', () => {
  const dest = h.makeTempDir('resetd-install-');
  make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr/local']);
  const root = path.join(dest, 'usr/local');
  for (const [f, mode] of FILES) {
    const st = fs.statSync(path.join(root, f));
    assert.ok(st.isFile(), f);
    assert.equal(st.mode & 0o777, mode, `${f} mode ${(st.mode & 0o777).toString(8)}`);
  }
  // The installed binary is the one built, and runs.
  const v = execFileSync(path.join(root, 'sbin/resetd'), ['--version'], { encoding: 'utf8' });
  assert.match(v, /^resetd \d+\.\d+\.\d+\n/);
  assert.equal(
    fs.readFileSync(path.join(root, 'share/doc/resetd/resetd.conf.sample'), 'utf8'),
    fs.readFileSync(path.join(h.REPO_ROOT, 'etc/resetd.conf.sample'), 'utf8')
  );
  // The unit names the final paths, not the staging folder.
  const unit = fs.readFileSync(path.join(root, 'lib/systemd/system/resetd.service'), 'utf8');
  assert.ok(!unit.includes(dest), 'the unit names the DESTDIR');
  assert.doesNotMatch(unit, /@[A-Z]+@/, 'a placeholder is left in the unit');
  assert.deepEqual(serviceSettings(unit).get('ExecStart'), ['/usr/local/sbin/resetd --config /usr/local/etc/resetd/resetd.conf serve']);

  // A second install keeps the operator's configuration.
  fs.writeFileSync(path.join(root, 'etc/resetd/resetd.conf'), 'listen = 127.0.0.1:9999\n');
  make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr/local']);
  assert.equal(fs.readFileSync(path.join(root, 'etc/resetd/resetd.conf'), 'utf8'), 'listen = 127.0.0.1:9999\n');

  // PREFIX=/usr puts the configuration in /etc.
  make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr']);
  assert.ok(fs.statSync(path.join(dest, 'etc/resetd/resetd.conf')).isFile());
  assert.ok(fs.statSync(path.join(dest, 'usr/sbin/resetd')).isFile());
  assert.match(fs.readFileSync(path.join(dest, 'usr/lib/systemd/system/resetd.service'), 'utf8'), /^ExecStart=\/usr\/sbin\/resetd --config \/etc\/resetd\/resetd.conf serve$/m);

  make(['uninstall', `DESTDIR=${dest}`, 'PREFIX=/usr/local']);
  for (const [f] of FILES) {
    if (f === 'etc/resetd/resetd.conf') continue;
    assert.ok(!fs.existsSync(path.join(root, f)), `${f} is left after uninstall`);
  }
  assert.ok(fs.existsSync(path.join(root, 'etc/resetd/resetd.conf')), 'uninstall removed the configuration');
});

test('the installed unit passes systemd-analyze verify, hardened as promised', () => {
  // Installed for real under a PREFIX (no DESTDIR), so that the paths the
  // unit names exist and verify can check them, man pages included.
  const prefix = h.makeTempDir('resetd-prefix-');
  make(['install', `PREFIX=${prefix}`]);
  const file = path.join(prefix, 'lib/systemd/system/resetd.service');
  const env = { MANPATH: path.join(prefix, 'share/man') };
  const r = systemdAnalyze(['verify', file], env);
  // verify exits 0 over unknown keys and bad values, and says so on stderr.
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'systemd-analyze verify complained');

  const s = serviceSettings(fs.readFileSync(file, 'utf8'));
  const want = {
    Type: 'notify',
    DynamicUser: 'yes',
    StateDirectory: 'resetd',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    PrivateTmp: 'yes',
    ProtectHome: 'yes',
    RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
    MemoryDenyWriteExecute: 'yes',
    ExecReload: '/bin/kill -HUP $MAINPID',
  };
  for (const [k, v] of Object.entries(want)) assert.deepEqual(s.get(k), [v], k);
  assert.ok(s.get('SystemCallFilter').includes('@system-service'), 'SystemCallFilter=@system-service');
  assert.ok(s.has('WatchdogSec'), 'WatchdogSec');

  // The exposure score docs/operations.md records; a change that weakens
  // the unit shows here.
  const sec = systemdAnalyze(['security', '--offline=true', file], env);
  const m = /Overall exposure level for resetd\.service: (\d+\.\d+)/.exec(sec.stdout);
  assert.ok(m, sec.stdout + sec.stderr);
  assert.ok(Number(m[1]) <= 1.5, `exposure ${m[1]}, more than the 1.5 allowed`);
});
