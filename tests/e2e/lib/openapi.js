'use strict';
// Checks real responses against resetd's OpenAPI documents (docs/openapi/),
// so the documents cannot drift from the code. The harness records every
// response a test file gets through fetch (its request helper, and the SDKs
// that use fetch) and rawRequest, and checks them all when the file ends.
//
// A response is checked when its path and method are an operation of the
// document of the listener that answered it (the admin listener: admin.json;
// the public one: each dialect's). Its status must be documented there, or
// be one the HTTP layer answers on any path before a face sees the request
// (404, 405, 413, 414, 431, 503 in the HTTP layer's own shape, documented as
// components.responses.HttpLayer); a JSON body must match the status's
// schema, validated by Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1).

const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;

const DIR = path.join(__dirname, '..', '..', '..', 'docs', 'openapi');
const PUBLIC = ['xsolla', 'workos', 'cognito', 'velocity'];
const HTTP_LAYER = new Set([404, 405, 413, 414, 431, 503]);

let loaded = null;

function load() {
  if (loaded) return loaded;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  const docs = {};
  for (const name of [...PUBLIC, 'admin']) {
    const doc = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
    ajv.addSchema({ ...doc, $id: `resetd:${name}` });
    const ops = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const method of ['get', 'post', 'put', 'patch', 'delete', 'options']) {
        if (item[method]) ops.push({ template, method, re, op: item[method] });
      }
    }
    docs[name] = { doc, ops };
  }
  loaded = { ajv, docs };
  return loaded;
}

const pointer = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

// The problems of one recorded response r ({listener, method, url, status,
// contentType, text}); [] when it is fine or no document covers it.
function check(r) {
  const { ajv, docs } = load();
  const u = new URL(r.url);
  const method = r.method.toLowerCase();
  const names = r.listener === 'admin' ? ['admin'] : PUBLIC;
  for (const name of names) {
    const hit = docs[name].ops.find((o) => o.method === method && o.re.test(u.pathname));
    if (!hit) continue;
    const where = `${name}.json ${r.method} ${hit.template} ${r.status}`;
    const responses = hit.op.responses || {};
    let json;
    try {
      json = r.text === '' ? undefined : JSON.parse(r.text);
    } catch {
      json = undefined;
    }
    const documented = responses[String(r.status)];
    if (!documented) {
      const layer = HTTP_LAYER.has(r.status) && json && json.error && typeof json.error.code === 'string' && typeof json.error.description === 'string';
      return layer ? [] : [`${where}: status not documented (${r.url})`];
    }
    const resp = documented.$ref ? docs[name].doc.components.responses[documented.$ref.split('/').pop()] : documented;
    if (!resp.content) return r.text === '' ? [] : [`${where}: documented without a body, got ${r.text.slice(0, 200)}`];
    const types = Object.keys(resp.content);
    const type = (r.contentType || '').split(';')[0].trim();
    if (!types.includes(type)) return [`${where}: Content-Type ${type}, documented ${types.join(', ')}`];
    if (!/json/.test(type)) return [];
    if (json === undefined) return [`${where}: the body is not JSON`];
    const ref = `resetd:${name}#/${pointer('paths', hit.template, method, 'responses', String(r.status), 'content', type, 'schema')}`;
    const validate = ajv.getSchema(ref);
    if (!validate) return [`${where}: no schema at ${ref}`];
    if (validate(json)) return [];
    return [`${where}: ${ajv.errorsText(validate.errors)}; body ${r.text.slice(0, 300)}`];
  }
  return [];
}

module.exports = { check, load, PUBLIC };
