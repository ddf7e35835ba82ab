'use strict';
// Loads the official Xsolla Login JS SDK (@xsolla/login-sdk) the way a browser
// would, so the tests drive resetd with the vendor's own client code.
//
// The SDK is browser-only: `require('@xsolla/login-sdk')` in plain Node dies on
// `navigator is not defined`, and its bundled axios 0.18 only has the XHR
// adapter. So each call of makeXsollaApi() builds a fresh jsdom window whose
// URL is the page origin, evaluates the SDK's browser bundle (dist/sdk.js)
// inside that window, and constructs `window.XsollaLogin.Api`.
//
// One window per Api instance, on purpose: the SDK keeps a module-level,
// mutable `defaultConfig` that every Api instance merges into, so two Apis in
// one module instance would share their config. A window each keeps them apart.
//
// jsdom's XHR enforces CORS for cross-origin requests, which is what we want:
// the page origin (e.g. http://localhost:3999) differs from the daemon's
// (http://127.0.0.1:PORT), so the daemon must answer with CORS headers for the
// origins the project allows, exactly as for a real browser. (jsdom preflights
// only when a non-simple header name is present, e.g. X-REQUEST-ID on /login;
// a real browser preflights every one of these JSON POSTs.)

const fs = require('node:fs');
const path = require('node:path');
const { JSDOM, VirtualConsole } = require('jsdom');

const SDK_BUNDLE = path.join(path.dirname(require.resolve('@xsolla/login-sdk/package.json')), 'dist', 'sdk.js');

let bundleSource = null;
function sdkSource() {
  if (bundleSource === null) bundleSource = fs.readFileSync(SDK_BUNDLE, 'utf8');
  return bundleSource;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isLoopbackUrl(u) {
  let parsed;
  try {
    parsed = new URL(u);
  } catch {
    return false;
  }
  return LOOPBACK_HOSTS.has(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
}

// makeXsollaApi({projectId, apiUrl, pageOrigin, ...config})
//   projectId   the resetd project id (UUID)
//   apiUrl      base URL incl. the /api prefix, e.g. http://127.0.0.1:PORT/api
//   pageOrigin  origin of the simulated web page, e.g. http://localhost:3999;
//               the project must list it with --allowed-origin
//   ...config   any other Api config (callbackUrl, fullLocale, payload,
//               with_logout, emailTemplate, clientId, ...)
// Returns {api, APIError, window, console: [captured page console lines], close()}.
// Call close() when done (it closes the jsdom window and its timers).
function makeXsollaApi(options) {
  const { projectId, apiUrl, pageOrigin = 'http://localhost:3999', ...config } = options || {};
  if (!projectId) throw new Error('makeXsollaApi: projectId is required');
  if (!apiUrl) throw new Error('makeXsollaApi: apiUrl is required (the SDK default is the real Xsolla API)');
  // Never let the SDK talk to anything but this machine.
  if (!isLoopbackUrl(apiUrl)) throw new Error(`makeXsollaApi: apiUrl must be a loopback URL, got ${apiUrl}`);

  const consoleLines = [];
  const virtualConsole = new VirtualConsole();
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    virtualConsole.on(level, (...args) => consoleLines.push(`${level}: ${args.map(String).join(' ')}`));
  }
  virtualConsole.on('jsdomError', (err) => consoleLines.push(`jsdomError: ${err && err.message}`));

  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
    url: new URL('/reset.html', pageOrigin).href, // the page is never fetched; this only sets the origin
    runScripts: 'outside-only', // lets us window.eval() the bundle; page HTML has no scripts
    pretendToBeVisual: false,
    virtualConsole,
    // resources: left at the default, so jsdom loads no subresources at all.
  });
  const { window } = dom;

  // Belt and braces: refuse any XHR that is not to a loopback address.
  const realOpen = window.XMLHttpRequest.prototype.open;
  window.XMLHttpRequest.prototype.open = function guardedOpen(method, url, ...rest) {
    const absolute = new window.URL(String(url), window.location.href).href;
    if (!isLoopbackUrl(absolute)) throw new Error(`xsolla-sdk harness: blocked non-loopback request to ${absolute}`);
    return realOpen.call(this, method, url, ...rest);
  };

  window.eval(sdkSource());
  const XsollaLogin = window.XsollaLogin;
  if (!XsollaLogin || typeof XsollaLogin.Api !== 'function') {
    window.close();
    throw new Error('xsolla-sdk harness: dist/sdk.js did not define window.XsollaLogin.Api');
  }

  const api = new XsollaLogin.Api({ projectId, apiUrl, ...config });
  return {
    api,
    APIError: XsollaLogin.APIError,
    window,
    console: consoleLines,
    close() {
      window.close();
    },
  };
}

module.exports = { makeXsollaApi, isLoopbackUrl, SDK_BUNDLE };
