'use strict';
// A NOTIFY_SOCKET for the daemon under test: the AF_UNIX datagram socket a
// service manager listens on for sd_notify messages ("READY=1", ...).
// Node.js has no AF_UNIX datagram sockets, so a python3 child holds it and
// writes each datagram it receives as one JSON string per line.

const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("(bound)"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode("utf-8", "replace")), flush=True)
`;

// Binds DIR/notify and resolves with {path, messages, waitFor, close}.
//   messages      every datagram received so far, as text
//   waitFor(pred) resolves with the first message at or after index `from`
//                 that satisfies pred, or rejects after timeoutMs
async function notifySocket(dir, { timeoutMs = 10000 } = {}) {
  const sock = path.join(dir, 'notify');
  const proc = spawn('python3', ['-c', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages = [];
  let bound = false;
  readline.createInterface({ input: proc.stdout }).on('line', (l) => {
    const m = JSON.parse(l);
    if (m === '(bound)') bound = true;
    else messages.push(m);
  });
  const deadline = Date.now() + timeoutMs;
  while (!bound) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('cannot bind a NOTIFY_SOCKET with python3');
    await sleep(20);
  }
  return {
    path: sock,
    messages,
    async waitFor(pred, { from = 0, timeoutMs: t = timeoutMs } = {}) {
      const end = Date.now() + t;
      for (;;) {
        const i = messages.findIndex((m, j) => j >= from && pred(m));
        if (i !== -1) return { message: messages[i], index: i };
        if (Date.now() > end) throw new Error(`no such sd_notify message within ${t} ms; got ${JSON.stringify(messages)}`);
        await sleep(20);
      }
    },
    close() {
      proc.kill('SIGKILL');
    },
  };
}

module.exports = { notifySocket };
