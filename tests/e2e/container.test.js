'use strict';
// The Dockerfile: two stages from Debian slim, the image running as a user of
// its own with the SQLite database on a volume, every library the binary
// links installed in the image, every file the build copies in the build
// context. Where a container builder works (docker with a daemon, podman or
// buildah) the image is built and run; where none does, that part is skipped
// and says so.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./lib/harness');

const DOCKERFILE = path.join(h.REPO_ROOT, 'Dockerfile');

// Dockerfile instructions, continuation lines joined, comments dropped:
// [{op, args, stage}] with stage the index of the FROM above.
function instructions() {
  const text = fs.readFileSync(DOCKERFILE, 'utf8').replace(/\\\n/g, ' ');
  const out = [];
  let stage = -1;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(t);
    assert.ok(m, `not an instruction: ${t}`);
    if (m[1] === 'FROM') stage++;
    out.push({ op: m[1], args: m[2].replace(/\s+/g, ' '), stage });
  }
  return out;
}

// The Debian packages that hold the shared libraries bin names as NEEDED.
function neededPackages(bin) {
  const dyn = execFileSync('readelf', ['-d', bin], { encoding: 'utf8' });
  const sonames = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  assert.ok(sonames.length > 3, `readelf found ${sonames.length} libraries`);
  return sonames.map((so) => {
    const owners = execFileSync('dpkg', ['-S', `*/${so}`], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^[a-z0-9.+-]+:amd64: /.test(l) || /^[a-z0-9.+-]+: \/(usr\/)?lib\/x86_64/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    assert.ok(owners.length > 0, `no package holds ${so}`);
    return { so, pkg: owners[0] };
  });
}

test('the Dockerfile: two Debian slim stages, a non-root user, SQLite on a volume', () => {
  const ins = instructions();
  const from = ins.filter((i) => i.op === 'FROM');
  assert.equal(from.length, 2, 'two stages');
  for (const f of from) assert.match(f.args, /^debian:[a-z]+-slim( AS [a-z]+)?$/, f.args);
  assert.equal(from[0].args.split(' ')[0], from[1].args.split(' ')[0], 'both stages on one Debian release');
  const last = ins.filter((i) => i.stage === 1);

  // The build stage installs what scripts/deps.sh says, like a workstation.
  assert.ok(ins.some((i) => i.stage === 0 && i.op === 'RUN' && /scripts\/deps\.sh build/.test(i.args)), 'the build stage runs scripts/deps.sh build');

  // A numeric user that is not root, so the runtime needs no passwd lookup.
  const users = last.filter((i) => i.op === 'USER');
  assert.equal(users.length, 1);
  const uid = Number(users[0].args.split(':')[0]);
  assert.ok(Number.isInteger(uid) && uid > 0, `USER ${users[0].args}`);
  assert.ok(last.some((i) => i.op === 'RUN' && new RegExp(`useradd .*--uid ${uid}\\b`).test(i.args)), 'the user is made in the image');

  // The SQLite database, and so its key file, are on the volume.
  const env = last.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
  const db = /RESETD_DATABASE=sqlite:(\S+)/.exec(env);
  assert.ok(db, `no SQLite RESETD_DATABASE in ${env}`);
  const volumes = last.filter((i) => i.op === 'VOLUME').flatMap((i) => JSON.parse(i.args));
  assert.ok(volumes.some((v) => db[1].startsWith(`${v}/`)), `${db[1]} is on no volume (${volumes})`);
  assert.match(env, /RESETD_LISTEN=0\.0\.0\.0:(\d+)/);
  const port = /RESETD_LISTEN=0\.0\.0\.0:(\d+)/.exec(env)[1];
  assert.ok(last.some((i) => i.op === 'EXPOSE' && i.args === port), `EXPOSE ${port}`);
  assert.ok(last.some((i) => i.op === 'ENTRYPOINT' && i.args === '["/usr/sbin/resetd"]'));
  assert.ok(last.some((i) => i.op === 'CMD' && i.args === '["serve"]'));
});

test('the image installs every library the binary links, and the context holds what the build copies', () => {
  const bin = path.join(h.REPO_ROOT, 'build', 'resetd');
  assert.ok(fs.existsSync(bin), 'build/resetd is missing: make build/resetd');
  const ins = instructions();
  const installs = ins
    .filter((i) => i.stage === 1 && i.op === 'RUN')
    .flatMap((i) => [...i.args.matchAll(/apt-get install (?:-\S+ )*((?:[a-z0-9.+-]+ ?)+)/g)].flatMap((m) => m[1].trim().split(' ')));
  for (const { so, pkg } of neededPackages(bin)) {
    if (pkg === 'libc6') continue; // in every Debian image
    assert.ok(installs.includes(pkg), `the image does not install ${pkg}, which holds ${so}`);
  }

  // Every COPY from the context passes .dockerignore ("*" then "!path").
  const allowed = fs
    .readFileSync(path.join(h.REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1));
  for (const c of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
    const src = c.args.split(' ')[0].replace(/\/$/, '');
    assert.ok(allowed.some((a) => src === a || src.startsWith(`${a}/`)), `COPY ${src}: left out by .dockerignore`);
    assert.ok(fs.existsSync(path.join(h.REPO_ROOT, src)), `COPY ${src}: no such file`);
  }
});

// The first builder that works: docker with a daemon, podman, or buildah.
function builder() {
  for (const [cmd, probe] of [['docker', ['info']], ['podman', ['info']], ['buildah', ['info']]]) {
    const r = spawnSync(cmd, probe, { stdio: 'ignore', timeout: 20000 });
    if (!r.error && r.status === 0) return cmd;
  }
  return null;
}

test('the image builds and runs as its own user, where a container builder works', (t) => {
  const b = builder();
  if (b === null) {
    t.skip('no container builder works here (docker without a daemon, no podman, no buildah)');
    return;
  }
  const tag = `resetd-test:${process.pid}`;
  const build = b === 'buildah' ? ['bud', '-t', tag, '.'] : ['build', '-t', tag, '.'];
  execFileSync(b, build, { cwd: h.REPO_ROOT, stdio: 'inherit', timeout: 30 * 60 * 1000 });
  const run = b === 'buildah' ? 'podman' : b;
  try {
    const v = execFileSync(run, ['run', '--rm', tag, '--version'], { encoding: 'utf8' });
    assert.match(v, /^resetd \d+\.\d+\.\d+\n/);
    const id = execFileSync(run, ['run', '--rm', '--entrypoint', 'id', tag, '-u'], { encoding: 'utf8' });
    assert.notEqual(id.trim(), '0');
    const cfg = execFileSync(run, ['run', '--rm', tag, 'check-config'], { encoding: 'utf8' });
    assert.match(cfg, /"database": "sqlite:\/var\/lib\/resetd\/resetd.db"/);
  } finally {
    spawnSync(run, ['rmi', '-f', tag], { stdio: 'ignore' });
  }
});
