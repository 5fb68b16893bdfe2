// What the TS SDK needs on the wire that the Python SDK does not (sdk-typescript-wire-contract):
// JSON content-type on every response (else the SDK gets a string), body-less PATCH for
// enable/disable, x-should-retry:false on 409/5xx (else every error costs ~1.3 s of retries),
// comma-joined query arrays and path slugs in any case. Checked on the SDK's recorded traffic.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConflictError } from '@composio/client';
import { ComposioFailedToCreateConnectedAccountLink } from '@composio/core';

import {
  BASE_URL, completeConsent, conformanceHooks, newComposio, recordRequests, rejectsWith,
} from './helpers.mjs';

conformanceHooks();

test('every API response, success or error, is application/json', async () => {
  const composio = newComposio();
  const calls = recordRequests();
  try {
    const authConfig = await composio.authConfigs.create('github', { type: 'use_composio_managed_auth' });
    await composio.authConfigs.list({ toolkit: 'github' });
    await composio.authConfigs.update(authConfig.id, { type: 'default', scopes: 'repo' });
    await composio.authConfigs.disable(authConfig.id);
    await composio.authConfigs.enable(authConfig.id);
    await composio.toolkits.get('github');
    const request = await composio.connectedAccounts.link('user_1', authConfig.id);
    await completeConsent(request.redirectUrl);
    await request.waitForConnection(5000);
    const session = await composio.create('user_1');
    await session.toolkits();
    await composio.connectedAccounts.delete(request.id);
    await composio.authConfigs.delete(authConfig.id);
    await composio.authConfigs.get(authConfig.id).catch(() => {});
    await composio.toolkits.get('nope').catch(() => {});
  } finally {
    calls.stop();
  }
  const api = calls.filter((c) => c.requestHeaders['x-api-key']); // the SDK's, not the browser's
  assert.ok(api.length >= 15, `recorded ${api.length} API calls`);
  assert.ok(api.some((c) => c.status === 404), 'the errors were recorded too');
  for (const call of api) {
    assert.match(call.responseHeaders['content-type'] ?? '', /^application\/json/, `${call.method} ${call.path} -> ${call.status}`);
  }
});

test('enable/disable are PATCH .../ENABLED|DISABLED with no body and no content-type', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('gmail', { type: 'use_composio_managed_auth' });
  const calls = recordRequests();
  try {
    await composio.authConfigs.disable(authConfig.id);
    await composio.authConfigs.enable(authConfig.id);
  } finally {
    calls.stop();
  }
  assert.deepEqual(calls.map((c) => [c.method, c.path, c.status]), [
    ['PATCH', `/api/v3.1/auth_configs/${authConfig.id}/DISABLED`, 200],
    ['PATCH', `/api/v3.1/auth_configs/${authConfig.id}/ENABLED`, 200],
  ]);
  for (const call of calls) {
    assert.ok(!call.body, 'no body');
    assert.equal(call.requestHeaders['content-type'], undefined);
  }
});

test('a 409 carries x-should-retry:false, so the SDK sends the request once', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('github', { type: 'use_composio_managed_auth' });
  await composio.connectedAccounts.link('user_1', authConfig.id, { alias: 'work' });
  const calls = recordRequests();
  let err;
  try {
    err = await rejectsWith(() => composio.connectedAccounts.link('user_1', authConfig.id, { alias: 'work', allowMultiple: true }),
      ComposioFailedToCreateConnectedAccountLink);
  } finally {
    calls.stop();
  }
  assert.ok(err.cause instanceof ConflictError, String(err.cause));
  const posts = calls.filter((c) => c.method === 'POST' && c.path.endsWith('/connected_accounts/link'));
  assert.equal(posts.length, 1, 'the SDK retries a 409 unless told not to');
  assert.equal(posts[0].status, 409);
  assert.equal(posts[0].responseHeaders['x-should-retry'], 'false');
});

test('query arrays arrive comma-joined and path slugs in upper case', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('perplexityai', { type: 'use_custom_auth', authScheme: 'API_KEY', credentials: {} });
  const ids = [];
  for (const user of ['user_a', 'user_b', 'user_c']) {
    const request = await composio.connectedAccounts.initiate(user, authConfig.id, {
      config: { authScheme: 'API_KEY', val: { generic_api_key: `pplx-${user}` } },
    });
    ids.push(request.id);
  }
  const calls = recordRequests();
  let listed;
  try {
    listed = await composio.connectedAccounts.list({ userIds: ['user_a', 'user_c'], statuses: ['ACTIVE', 'INITIATED'] });
    await composio.toolkits.get('PERPLEXITYAI');
  } finally {
    calls.stop();
  }
  assert.match(calls[0].search, /user_ids=user_a%2Cuser_c/);
  assert.deepEqual(listed.items.map((a) => a.id).sort(), [ids[0], ids[2]].sort());
  assert.deepEqual([calls[1].path, calls[1].status], ['/api/v3.1/toolkits/PERPLEXITYAI', 200]);
});

test('the SDK authenticates with x-api-key; a request without one is a 401 envelope', async () => {
  const composio = newComposio('ts-wire-key');
  const calls = recordRequests();
  try {
    await composio.authConfigs.list();
  } finally {
    calls.stop();
  }
  assert.equal(calls[0].requestHeaders['x-api-key'], 'ts-wire-key');
  assert.equal(calls[0].requestHeaders['x-source'], 'TYPESCRIPT_SDK');

  const response = await fetch(new URL('/api/v3.1/auth_configs', BASE_URL));
  assert.equal(response.status, 401);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const body = await response.json();
  assert.equal(body.error.status, 401);
  assert.equal(typeof body.error.message, 'string');
});
