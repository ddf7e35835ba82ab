'use strict';
// N requests of one scenario, one after another on one kept-alive
// connection; prints the statuses answered to stderr (see bench/instructions).
// node bench/instructions-client.js URL SCENARIO PROJECT N   (CODES=file for confirm)
const http = require('node:http');
const fs = require('node:fs');

const [url, scenario, project, count] = process.argv.slice(2);
const n = Number(count);
const codes = process.env.CODES ? fs.readFileSync(process.env.CODES, 'utf8').trim().split('\n') : [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(path, body) {
  return new Promise((resolve, reject) => {
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    const r = http.request(url + path, { method: body ? 'POST' : 'GET', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    r.on('error', reject);
    r.end(body ? JSON.stringify(body) : undefined);
  });
}

function request(i) {
  const reset = `/password/reset/request?projectId=${project}`;
  const k = ((i - 1) % 20) + 1;
  switch (scenario) {
    case 'existing':
      return send(reset, { username: `user${((i - 1) % 1000) + 1}@bench.example` });
    case 'unknown':
      return send(reset, { username: `nobody${i}@bench.example` });
    case 'login':
      return send(`/login?projectId=${project}`, { username: `login${k}@bench.example`, password: `bench-password-${k}` });
    case 'confirm': {
      const [code, user] = codes[i - 1].split(' ');
      return send(`/password/reset/confirm?projectId=${project}`, { reset_code: code, user_id: user, new_password: `bench passphrase ${i}` });
    }
    case 'healthz':
      return send('/healthz');
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

(async () => {
  const statuses = {};
  for (let i = 1; i <= n; i++) {
    const s = await request(i);
    statuses[s] = (statuses[s] || 0) + 1;
  }
  agent.destroy();
  process.stderr.write(`${JSON.stringify(statuses)}\n`);
})();
