'use strict';
// The daemon speaks the service manager's readiness protocol (sd_notify) on
// the datagram socket NOTIFY_SOCKET names, as systemd's Type=notify expects:
// READY=1 once it serves, WATCHDOG=1 while it lives when WATCHDOG_USEC asks
// for it, STOPPING=1 when a stop begins.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./lib/harness');
const { notifySocket } = require('./lib/notify');

const parse = (m) => Object.fromEntries(m.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

test('READY=1 when serving, WATCHDOG=1 while alive, STOPPING=1 on SIGTERM', async () => {
  const ns = await notifySocket(h.makeTempDir());
  try {
    // 400 ms: the daemon pings every 200 ms.
    const d = await h.startDaemon({ env: { NOTIFY_SOCKET: ns.path, WATCHDOG_USEC: '400000' } });
    const ready = await ns.waitFor((m) => parse(m).READY === '1');
    assert.equal(parse(ready.message).STATUS, `serving on 127.0.0.1:${d.port}`);
    // Nothing says ready before serving, or stopping before the stop.
    assert.ok(!ns.messages.slice(0, ready.index).some((m) => /READY|STOPPING/.test(m)), JSON.stringify(ns.messages));
    // The listener is up by then: /readyz answered before startDaemon returned.
    assert.equal((await h.request(`${d.url}/healthz`)).status, 200);

    // Pings keep coming while it serves.
    let at = ready.index;
    for (let i = 0; i < 3; i++) at = (await ns.waitFor((m) => m === 'WATCHDOG=1', { from: at + 1 })).index;

    const code = await d.stop();
    assert.equal(code, 0);
    const stopping = await ns.waitFor((m) => parse(m).STOPPING === '1');
    assert.equal(parse(stopping.message).STATUS, 'finishing requests in flight');
  } finally {
    ns.close();
  }
});

test('without NOTIFY_SOCKET the daemon serves as before', async () => {
  const d = await h.startDaemon({ env: { NOTIFY_SOCKET: null, WATCHDOG_USEC: '400000' } });
  assert.equal((await h.request(`${d.url}/healthz`)).status, 200);
  assert.equal(await d.stop(), 0);
});
