// Shared helpers of the conformance suite: a fresh tenant per test, the SDK's warnings
// captured, the consent pages walked over HTTP like a browser, and the network-guard check.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, beforeEach } from 'node:test';

import { Composio, logger } from '@composio/core';
import { Parser } from 'htmlparser2';

const GUARD_KEY = Symbol.for('mockcomposio.netguard');

export const BASE_URL = process.env.COMPOSIO_BASE_URL;
if (!BASE_URL) {
  throw new Error('COMPOSIO_BASE_URL is not set: start `mockcomposio serve --port 0` and export ' +
    'the URL it prints (tests/test_typescript.py does this for you).');
}
if (!globalThis[GUARD_KEY]?.installed) {
  throw new Error('The network guard is not loaded: run the suite as ' +
    '`node --import ./guard.mjs --test test/*.test.mjs` (npm test does).');
}
if (process.env.TELEMETRY_DISABLED !== 'true') {
  // Telemetry is a process-wide singleton; the env switch is the belt to allowTracking's braces.
  throw new Error('Set TELEMETRY_DISABLED=true for the TS suite.');
}

const BASE_ORIGIN = new URL(BASE_URL).origin;

// The SDK logs "Transform validation failed" when a response does not match its zod models;
// a faithful server produces none, so every test asserts the captured list is empty.
export const sdkWarnings = [];
logger.configure({
  sink: {
    error: (msg) => sdkWarnings.push(`error: ${msg}`),
    warn: (msg) => sdkWarnings.push(`warn: ${msg}`),
    info: () => {},
    debug: () => {},
    log: () => {},
  },
});

// Any non-empty key is its own project on the fake; COMPOSIO_API_KEY only prefixes the fresh
// per-test keys, so runs sharing one server stay apart.
const KEY_PREFIX = process.env.COMPOSIO_API_KEY || 'ts';

/** A new Composio client on a new tenant: any fresh API key is its own empty project. */
export function newComposio(apiKey = `${KEY_PREFIX}-${randomUUID()}`) {
  return new Composio({ apiKey, baseURL: BASE_URL, allowTracking: false, disableVersionCheck: true });
}

// Notices the SDK logs by design, not about response shapes: the real API's Deprecation/Sunset
// headers on the legacy initiate endpoint (which the server sends too), and link's
// allowMultiple reminder when the user already has an ACTIVE account.
const EXPECTED_WARNINGS = [
  /`client\.connectedAccounts\.create` is deprecated/,
  /\[Warn:AllowMultiple\] Multiple connected accounts found/,
];

/**
 * Registers the per-file hooks: after each test, the SDK logged no warning (it warns when a
 * response does not match its zod models); after the file, no outbound attempt was recorded.
 */
export function conformanceHooks() {
  beforeEach(() => {
    sdkWarnings.length = 0;
  });
  afterEach(() => {
    assertNoSdkWarnings();
  });
  after(() => {
    assert.deepEqual(globalThis[GUARD_KEY].attempts.map((a) => `${a.kind} -> ${a.host}`), [],
      'the SDK tried to reach a non-loopback host');
  });
}

export function assertNoSdkWarnings() {
  const unexpected = sdkWarnings.filter((w) => !EXPECTED_WARNINGS.some((re) => re.test(w)));
  assert.deepEqual(unexpected, [], 'the SDK rejected a response shape');
}

/**
 * Records every request the SDK sends (and what it got back) until `stop()`: the client calls
 * `globalThis.fetch` at request time, so wrapping it here sees the SDK's real wire traffic.
 */
export function recordRequests() {
  const calls = [];
  const inner = globalThis.fetch;
  globalThis.fetch = async function recordingFetch(input, init) {
    // a copy, so the SDK's own request body stays unread
    const request = new Request(input instanceof Request ? input.clone() : input, init);
    const body = request.body === null ? null : await request.text();
    const response = await inner.call(this, input, init);
    const url = new URL(request.url);
    calls.push({
      method: request.method,
      path: url.pathname,
      search: url.search,
      requestHeaders: Object.fromEntries(request.headers),
      body,
      status: response.status,
      responseHeaders: Object.fromEntries(response.headers),
    });
    return response;
  };
  calls.stop = () => {
    globalThis.fetch = inner;
  };
  return calls;
}

/** Calls fn, asserts it rejects with an instance of cls, and returns the error. */
export async function rejectsWith(fn, cls) {
  let caught;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${cls.name}, but the call succeeded`);
  assert.ok(caught instanceof cls,
    `expected ${cls.name}, got ${caught?.constructor?.name}: ${caught?.message}`);
  return caught;
}

function parseForms(html) {
  const forms = [];
  const text = [];
  const parser = new Parser({
    onopentag(name, attrs) {
      if (name === 'form') {
        forms.push({ action: attrs.action || null, method: (attrs.method || 'get').toLowerCase(), inputs: [], buttons: [] });
      } else if (forms.length && name === 'input') {
        forms.at(-1).inputs.push(attrs);
      } else if (forms.length && name === 'button') {
        forms.at(-1).buttons.push(attrs);
      }
    },
    ontext(data) {
      text.push(data);
    },
  }, { decodeEntities: true });
  parser.write(html);
  parser.end();
  return { forms, text: text.join(' ').replace(/\s+/g, ' ').trim() };
}

/**
 * Walks a redirect_url as a browser would (README "consent page contract"): the Connect Link
 * page's continue button, then the provider's consent form with `decision`, following
 * redirects while they stay on the fake. Returns where the browser lands outside the fake
 * (the app's callback_url with status & connected_account_id), or the fake's last page.
 */
export async function completeConsent(redirectUrl, { decision = 'allow', scopes, fields } = {}) {
  let url = redirectUrl;
  let body;
  const visited = [];
  let requestedScopes = null; // the scope checkboxes the consent page offered
  for (let step = 0; step < 20; step++) {
    const target = new URL(url);
    if (target.origin !== BASE_ORIGIN) {
      return { finalUrl: url, leftFake: true, visited, requestedScopes, query: Object.fromEntries(target.searchParams) };
    }
    visited.push(url);
    const response = await fetch(url, body === undefined
      ? { redirect: 'manual' }
      : { method: 'POST', redirect: 'manual', body });
    body = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url).href;
      continue;
    }
    const { forms, text } = parseForms(await response.text());
    if (response.status >= 400 || forms.length === 0) {
      return { finalUrl: url, leftFake: false, status: response.status, visited, requestedScopes, pageText: text };
    }
    const form = forms[0];
    const submitted = new URLSearchParams();
    if (form.inputs.some((i) => i.name === 'pending')) { // the provider's consent page
      for (const i of form.inputs) {
        if (i.type === 'hidden' && i.name) submitted.append(i.name, i.value ?? '');
      }
      const requested = form.inputs.filter((i) => i.name === 'scope').map((i) => i.value ?? '');
      requestedScopes = requested;
      const granted = decision !== 'allow' ? [] : scopes ?? requested;
      for (const s of granted) submitted.append('scope', s);
      submitted.append('decision', decision);
    } else { // the Connect Link page: continue, or a credentials form
      for (const i of form.inputs) {
        if (i.name) submitted.append(i.name, fields?.[i.name] ?? i.value ?? '');
      }
      const button = form.buttons.find((b) => b.name);
      if (button) submitted.append(button.name, button.value ?? '');
    }
    url = new URL(form.action ?? url, url).href;
    body = submitted;
  }
  throw new Error(`consent flow did not finish in 20 steps: ${visited.join(' -> ')}`);
}
