'use strict';
// Print "reset_code user_id" for every reset link in a Maildir's new/ folder
// whose recipient starts with PREFIX.
// node bench/codes.js DIR PREFIX > codes.txt
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(process.argv[2], 'new');
for (const name of fs.readdirSync(dir)) {
  const raw = fs.readFileSync(path.join(dir, name), 'latin1');
  const to = raw.match(/^To: (.*)$/m);
  if (!to || !to[1].startsWith(process.argv[3] || '')) continue;
  // Undo quoted-printable soft breaks and the encoded '='.
  const text = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = text.match(/reset_code=([A-Za-z0-9_-]{43})&user_id=([0-9a-f-]{36})/);
  if (m) process.stdout.write(`${m[1]} ${m[2]}\n`);
}
