'use strict';
// The command line checks every command's arguments against the options
// that command takes, before it opens anything. This walks every command
// that `resetd --help` lists (the help is printed from the command table,
// so this is the table) and checks that the synopsis is true: every option
// a command's synopsis names is taken, and options it does not name (one
// per command, each option somewhere, and one no command takes) are
// refused with an error naming them.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./lib/harness');

const UNKNOWN = '--no-such-option';

// The commands of --help: [{ words: ['project', 'create'], options: [...], positional: bool }].
function commands(help) {
  const entries = [];
  for (const line of help.split('\n')) {
    const m = line.match(/^ {2}resetd (.*)$/);
    if (m) entries.push(m[1]);
    else if (entries.length && /^ {8}\S/.test(line) && !/^ {2}[a-z0-9_]+ +RESETD_/.test(line)) entries[entries.length - 1] += ` ${line.trim()}`;
    else if (line.trim() === '' && entries.length) break;
  }
  return entries.map((text) => {
    const tokens = text.replace(/[[\]]|\.\.\./g, '').split(/\s+/).filter(Boolean);
    const words = [tokens.shift()];
    if (tokens.length && /^[a-z][a-z-]*$/.test(tokens[0])) words.push(tokens.shift());
    const options = [];
    let positional = false;
    let prev = null;
    // A word that is not an option names a positional argument unless it
    // follows an option (its value); "ID|--key-stdin" is one or the other.
    for (const t of tokens) {
      if (t === '<') break;
      const parts = t.split('|');
      for (const p of parts) if (p.startsWith('--')) options.push(p);
      if (!parts[0].startsWith('--') && (prev === null || !prev.startsWith('--'))) positional = true;
      prev = parts[parts.length - 1];
    }
    return { text, words, options, positional };
  });
}

test('every command takes the options its synopsis names and refuses every other', () => {
  h.assertBinary();
  const bin = h.binPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resetd-cli-'));
  // Nothing here may open a database; if it did, it would open this one.
  const env = { ...process.env, RESETD_DATABASE: `sqlite:${path.join(dir, 'untouched.db')}`, RESETD_SERVER_SECRET_FILE: path.join(dir, 'key') };
  const run = (args) => spawnSync(bin, args, { env, encoding: 'utf8', input: '', timeout: 30000 });

  const help = run(['--help']).stdout;
  const cmds = commands(help);
  assert.ok(cmds.length >= 20, `expected the command table in --help, got ${cmds.length} commands`);
  const every = new Set(cmds.flatMap((c) => c.options));
  assert.ok(every.size >= 25, `expected the options in --help, got ${[...every].join(' ')}`);
  let checked = 0;

  const all = [...every];
  const refusedSomewhere = new Set();
  let turn = 0;
  const refused = (c, args, what, re) => {
    const name = c.words.join(' ');
    const r = run([...c.words, ...args]);
    assert.equal(r.status, 2, `resetd ${name} ${args.join(' ')}: exit ${r.status}, ${what}\n${r.stderr}`);
    assert.match(r.stderr, re, `resetd ${name} ${args.join(' ')}: ${what}`);
    assert.equal(r.stdout, '', `resetd ${name} ${args.join(' ')} printed something`);
    checked++;
  };
  const notTaken = (c, o) => refused(c, [o, 'x'], `${o} is not in its synopsis`, new RegExp(`${c.words.join(' ')} does not take '${o}'`));

  for (const c of cmds) {
    // Taken: the parser gets past it to the unknown option after it (a
    // value option takes the first as its value).
    for (const o of c.options) refused(c, [o, UNKNOWN, UNKNOWN], `${o} is in its synopsis`, new RegExp(`unknown option '${UNKNOWN}'`));
    // Refused, by name: an option the command does not take, a different
    // one for each command in turn. (tests/unit/test_cli.c tries every
    // option on every command, on the parser itself; a run of the binary
    // per pair would take minutes under the sanitizers.)
    const others = all.filter((o) => !c.options.includes(o));
    const o = others[turn++ % others.length];
    notTaken(c, o);
    refusedSomewhere.add(o);
    refused(c, [UNKNOWN], 'an option no command takes', new RegExp(`unknown option '${UNKNOWN}'`));
    // A positional argument where none is taken, or one too many.
    const extra = c.positional ? ['first', 'second'] : ['first'];
    refused(c, extra, 'a positional argument too many', new RegExp(`unexpected argument '${extra[extra.length - 1]}'`));
  }
  // And every option is refused by some command that does not take it.
  for (const o of all) {
    if (refusedSomewhere.has(o)) continue;
    const c = cmds.find((x) => !x.options.includes(o));
    if (c) notTaken(c, o);
  }
  assert.equal(fs.existsSync(path.join(dir, 'untouched.db')), false, 'a refused command opened the database');
  process.stderr.write(`cli: ${cmds.length} commands, ${every.size} options, ${checked} refusals checked\n`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a command with verbs names them when the verb is missing or unknown', () => {
  h.assertBinary();
  const run = (args) => spawnSync(h.binPath(), args, { encoding: 'utf8', timeout: 30000 });
  const none = run(['project']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /project: expected create, list, show/);
  const bad = run(['outbox', 'frob']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /outbox: unknown verb 'frob' \(expected list, retry\)/);
  const cmd = run(['frob']);
  assert.equal(cmd.status, 2);
  assert.match(cmd.stderr, /unknown command 'frob'/);
  const missing = run(['user', 'create', '--email', 'a@example.com']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /user create: --project is required/);
  const value = run(['project', 'create', '--name']);
  assert.equal(value.status, 2);
  assert.match(value.stderr, /--name needs a value/);
});

test('user list pages with --limit and --after through every user once; user delete removes one, and a second delete fails', () => {
  h.assertBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resetd-cli-'));
  const env = { ...process.env, RESETD_DATABASE: `sqlite:${path.join(dir, 'resetd.db')}`, RESETD_SERVER_SECRET_FILE: path.join(dir, 'key') };
  const run = (args) => spawnSync(h.binPath(), args, { env, encoding: 'utf8', input: '', timeout: 30000 });
  const json = (args) => {
    const r = run(args);
    assert.equal(r.status, 0, `resetd ${args.join(' ')}: ${r.stderr}`);
    return { out: JSON.parse(r.stdout), stderr: r.stderr };
  };
  assert.equal(run(['migrate']).status, 0);
  const project = json(['project', 'create', '--name', 'paging']).out.id;
  const made = [];
  for (let i = 0; i < 5; i++) made.push(json(['user', 'create', '--project', project, '--email', `page${i}@example.com`]).out.id);

  // Pages of two: every user once, and a cursor exactly while more follow.
  const seen = [];
  let after = null;
  for (let page = 0; page < 5; page++) {
    const { out, stderr } = json(['user', 'list', '--project', project, '--limit', '2', ...(after ? ['--after', after] : [])]);
    assert.ok(out.length <= 2, `page ${page}: ${out.length} users`);
    seen.push(...out.map((u) => u.id));
    const more = stderr.match(/more follow: --after (\S+)/);
    after = more ? more[1] : null;
    if (!after) break;
  }
  assert.equal(after, null, 'five users fit in three pages of two');
  assert.deepEqual([...seen].sort(), [...made].sort());
  // Without --limit, one answer holds them all.
  assert.equal(json(['user', 'list', '--project', project]).out.length, 5);
  // A cursor that was not made by resetd is refused, not read.
  const forged = run(['user', 'list', '--project', project, '--limit', '2', '--after', 'not-a-cursor']);
  assert.equal(forged.status, 1, forged.stderr);
  assert.match(forged.stderr, /user list: /);

  assert.equal(run(['user', 'delete', '--project', project, made[0]]).status, 0);
  const left = json(['user', 'list', '--project', project]).out.map((u) => u.id);
  assert.deepEqual([...left].sort(), made.slice(1).sort());
  const again = run(['user', 'delete', '--project', project, made[0]]);
  assert.equal(again.status, 1, 'deleting a deleted user fails');
  assert.match(again.stderr, /user delete: /);
  fs.rmSync(dir, { recursive: true, force: true });
});
