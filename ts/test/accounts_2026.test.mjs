// Connected accounts as Composio serves them in late 2026, through @composio/core: importing a
// bearer token and patching it (the changelog's own snippet goes through the client's patch,
// since connectedAccounts.update only toggles `enabled` in 0.21), aliases, Zendesk's subdomain
// on the Connect Link, callback identity verification with completeAuth, and redaction.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { AuthScheme } from '@composio/core';

import { BASE_URL, assertNoSdkWarnings, completeConsent, conformanceHooks, newComposio } from './helpers.mjs';

conformanceHooks();

const VERIFIER = 'https://myapp.example/verify';

// @composio/core 0.21.0's connectedAccounts.completeAuth() calls
// client.connectedAccounts.completeAuth, which the pinned @composio/client 2.0.0-rc.6 does not
// have yet; until the lockfile moves, send the same request through the client's own post().
async function completeAuth(composio, { userId, sessionUri }) {
  if (typeof composio.client.connectedAccounts.completeAuth === 'function') {
    return composio.connectedAccounts.completeAuth({ userId, sessionUri });
  }
  const raw = await composio.client.post('/api/v3.1/connected_accounts/complete_auth', {
    body: { user_id: userId, session_uri: sessionUri },
  });
  return { connectedAccountId: raw.connected_account_id, toolkitSlug: raw.toolkit_slug };
}

async function setVerifier(apiKey, url) {
  const response = await fetch(`${BASE_URL}/api/v3.1/org/project/config`, {
    method: 'PATCH',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ oauth_callback_verifier_url: url }),
  });
  assert.equal(response.status, 200);
}

async function importedBearer(composio, token = 'imported-access-token') {
  const authConfig = await composio.authConfigs.create('hubspot', {
    type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {},
  });
  const request = await composio.connectedAccounts.initiate('user_123', authConfig.id, {
    config: AuthScheme.BearerToken({ token }),
  });
  assert.equal(request.status, 'ACTIVE');
  return request.id;
}

test('credential patching: omitted fields kept, the new token stored and masked', async () => {
  const composio = newComposio();
  const id = await importedBearer(composio);
  const result = await composio.client.connectedAccounts.patch(id, {
    connection: {
      state: {
        authScheme: 'BEARER_TOKEN',
        val: { token: 'rotated-access-token' },
      },
    },
  });
  assert.equal(result.success, true);
  assert.equal(result.status, 'ACTIVE');
  const account = await composio.connectedAccounts.get(id);
  assert.equal(account.state.val.token, 'rota...');
  assertNoSdkWarnings();
});

test('a patch with the wrong scheme is refused and changes nothing', async () => {
  const composio = newComposio();
  const id = await importedBearer(composio, 'keep-this-token');
  await assert.rejects(
    composio.client.connectedAccounts.patch(id, {
      connection: { state: { authScheme: 'API_KEY', val: { generic_api_key: 'x' } } },
    }),
    (err) => err.status === 400 && /this connection uses BEARER_TOKEN/.test(err.message));
  assert.equal((await composio.connectedAccounts.get(id)).state.val.token, 'keep...');
});

test('alias: set on initiate, cleared with an empty string', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('hubspot', {
    type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {},
  });
  const request = await composio.connectedAccounts.initiate('user_123', authConfig.id, {
    config: AuthScheme.BearerToken({ token: 't-1' }), alias: 'work-hubspot',
  });
  assert.equal((await composio.connectedAccounts.get(request.id)).alias, 'work-hubspot');
  await composio.client.connectedAccounts.patch(request.id, { alias: '' });
  assert.equal((await composio.connectedAccounts.get(request.id)).alias ?? null, null);
});

test('Zendesk: the Connect Link asks for the subdomain; the provider is on it', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('zendesk', { type: 'use_composio_managed_auth' });
  const fetched = await composio.authConfigs.get(authConfig.id);
  assert.deepEqual(fetched.expectedInputFields.map((f) => f.name), ['subdomain']);
  const request = await composio.connectedAccounts.link('user_123', authConfig.id);
  const stuck = await completeConsent(request.redirectUrl);
  assert.equal(stuck.leftFake, false);
  assert.match(stuck.pageText, /Sub Domain/);
  await completeConsent(request.redirectUrl, { fields: { subdomain: 'acme' } });
  const account = await request.waitForConnection(5000);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.state.val.subdomain, 'acme');
  assertNoSdkWarnings();
});

// A fresh tenant with the callback verifier set and a custom GitHub OAuth2 auth config.
async function verifiedGithubConfig() {
  const apiKey = `ts-verify-${randomUUID()}`;
  const composio = newComposio(apiKey);
  await setVerifier(apiKey, VERIFIER);
  const authConfig = await composio.authConfigs.create('github', {
    type: 'use_custom_auth', authScheme: 'OAUTH2',
    credentials: { client_id: 'gh-client', client_secret: 'gh-secret' },
  });
  return { composio, authConfig };
}

test('callback identity verification: the verifier gets a session URI, completeAuth finishes', async () => {
  const { composio, authConfig } = await verifiedGithubConfig();
  const request = await composio.connectedAccounts.link('user_123', authConfig.id, {
    callbackUrl: 'https://myapp.example/cb',
  });
  const browser = await completeConsent(request.redirectUrl);
  assert.equal(browser.finalUrl.split('?')[0], VERIFIER);
  const sessionUri = browser.query.session_uri;
  assert.match(sessionUri, /^session_/);
  assert.equal((await composio.connectedAccounts.get(request.id)).status, 'INITIATED');

  const { connectedAccountId, toolkitSlug } = await completeAuth(composio, {
    userId: 'user_123',
    sessionUri, // the session URI from the verifier redirect
  });
  assert.equal(connectedAccountId, request.id);
  assert.equal(toolkitSlug, 'github');
  assert.equal((await request.waitForConnection(5000)).status, 'ACTIVE');
  await assert.rejects(completeAuth(composio, { userId: 'user_123', sessionUri }),
    (err) => err.status === 404);
  assertNoSdkWarnings();
});

test('completeAuth with another user fails the connection', async () => {
  const { composio, authConfig } = await verifiedGithubConfig();
  const request = await composio.connectedAccounts.link('alice', authConfig.id);
  const browser = await completeConsent(request.redirectUrl);
  await assert.rejects(
    completeAuth(composio, { userId: 'mallory', sessionUri: browser.query.session_uri }),
    (err) => err.status === 400 && /Identity mismatch/.test(err.message));
  assert.equal((await composio.connectedAccounts.get(request.id)).status, 'FAILED');
});

test('managed connections show their tokens REDACTED', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('gmail', { type: 'use_composio_managed_auth' });
  const request = await composio.connectedAccounts.link('user_123', authConfig.id);
  await completeConsent(request.redirectUrl);
  const account = await request.waitForConnection(5000);
  assert.equal(account.state.val.access_token, 'REDACTED');
  assertNoSdkWarnings();
});
