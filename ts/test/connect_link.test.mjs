// Connected accounts: connectedAccounts.link -> the user completes consent (over HTTP, like a
// browser) -> waitForConnection, plus the error classes for a duplicate link, a denied
// consent, unknown ids and the retired managed-OAuth initiate.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NotFoundError } from '@composio/client';
import {
  ComposioConnectedAccountNotFoundError,
  ComposioFailedToCreateConnectedAccountLink,
  ComposioLegacyConnectedAccountsEndpointRetiredError,
  ComposioMultipleConnectedAccountsError,
  ConnectionRequestFailedError,
} from '@composio/core';

import {
  BASE_URL, assertNoSdkWarnings, completeConsent, conformanceHooks, newComposio, rejectsWith,
} from './helpers.mjs';

conformanceHooks();

const CALLBACK = 'https://myapp.example/auth/callback';

async function githubApp(composio, scopes = 'repo,read:org') {
  return composio.authConfigs.create('github', {
    type: 'use_custom_auth', authScheme: 'OAUTH2', name: 'GitHub',
    credentials: { client_id: 'gh-client', client_secret: 'gh-secret', scopes },
  });
}

test('link -> consent -> waitForConnection gives an ACTIVE account', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id, { callbackUrl: CALLBACK });
  assert.match(connectionRequest.id, /^ca_/);
  assert.equal(connectionRequest.status, 'INITIATED');
  assert.match(connectionRequest.redirectUrl, new RegExp(`^${BASE_URL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/link/lk_`));

  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.equal(browser.leftFake, true);
  assert.equal(browser.finalUrl.split('?')[0], CALLBACK);
  assert.equal(browser.query.status, 'success');
  assert.equal(browser.query.connected_account_id, connectionRequest.id);
  assert.deepEqual(browser.requestedScopes, ['repo', 'read:org'], "the consent page asks for the auth config's scopes");

  const account = await connectionRequest.waitForConnection(5000);
  assert.equal(account.id, connectionRequest.id);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.toolkit.slug, 'github');
  assert.equal(account.authConfig.id, authConfig.id);
  assert.equal(account.isDisabled, false);

  const fetched = await composio.connectedAccounts.get(account.id);
  assert.equal(fetched.status, 'ACTIVE');
  const listed = await composio.connectedAccounts.list({ userIds: ['user_123'] });
  assert.deepEqual(listed.items.map((a) => a.id), [account.id]);
  assertNoSdkWarnings();
});

test('waitForConnection keeps polling while the user is still on the consent page', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id, { callbackUrl: CALLBACK });
  const waiting = connectionRequest.waitForConnection(15_000); // polls INITIATED, once a second
  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.equal(browser.query.status, 'success');
  const account = await waiting;
  assert.equal(account.id, connectionRequest.id);
  assert.equal(account.status, 'ACTIVE');
});

test('managed auth with custom scopes: the user is asked for exactly those scopes', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('hubspot', {
    type: 'use_composio_managed_auth', name: 'HubSpot', credentials: { scopes: 'sales-email-read,tickets' },
  });
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id, { callbackUrl: CALLBACK });
  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.deepEqual(browser.requestedScopes, ['sales-email-read', 'tickets']);
  assert.equal((await connectionRequest.waitForConnection(5000)).status, 'ACTIVE');
});

test('updated scopes apply to new connections', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio, 'repo');
  await composio.authConfigs.update(authConfig.id, { type: 'default', scopes: 'repo,read:org,read:user' });
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id);
  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.deepEqual(browser.requestedScopes, ['repo', 'read:org', 'read:user']);
});

test('a second link for a user with an ACTIVE account is a ComposioMultipleConnectedAccountsError', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const first = await composio.connectedAccounts.link('user_123', authConfig.id);
  await completeConsent(first.redirectUrl);
  await first.waitForConnection(5000);

  const err = await rejectsWith(() => composio.connectedAccounts.link('user_123', authConfig.id),
    ComposioMultipleConnectedAccountsError);
  assert.equal(err.code, 'TS-SDK::MULTIPLE_CONNECTED_ACCOUNTS');

  // allowMultiple skips the check: a second account for the same user.
  const second = await composio.connectedAccounts.link('user_123', authConfig.id, { allowMultiple: true });
  assert.notEqual(second.id, first.id);
  await completeConsent(second.redirectUrl);
  assert.equal((await second.waitForConnection(5000)).status, 'ACTIVE');
  const accounts = await composio.connectedAccounts.list({ userIds: ['user_123'], statuses: ['ACTIVE'] });
  assert.equal(accounts.items.length, 2);
  // Another user is not blocked by user_123's account.
  assert.equal((await composio.connectedAccounts.link('user_456', authConfig.id)).status, 'INITIATED');
});

test('a denied consent makes waitForConnection throw ConnectionRequestFailedError', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id, { callbackUrl: CALLBACK });
  const browser = await completeConsent(connectionRequest.redirectUrl, { decision: 'deny' });
  assert.equal(browser.query.status, 'failed');
  const err = await rejectsWith(() => connectionRequest.waitForConnection(5000), ConnectionRequestFailedError);
  assert.equal(err.code, 'TS-SDK::CONNECTION_REQUEST_FAILED');
  assert.match(err.message, /FAILED/);
  assert.equal((await composio.connectedAccounts.get(connectionRequest.id)).status, 'FAILED');
});

test('link to an unknown auth config is a ComposioFailedToCreateConnectedAccountLink (404 cause)', async () => {
  const composio = newComposio();
  const err = await rejectsWith(() => composio.connectedAccounts.link('user_123', 'ac_missing'),
    ComposioFailedToCreateConnectedAccountLink);
  assert.ok(err.cause instanceof NotFoundError, String(err.cause));
});

test('unknown connected accounts: NotFoundError on get, ComposioConnectedAccountNotFoundError on wait', async () => {
  const composio = newComposio();
  await rejectsWith(() => composio.connectedAccounts.get('ca_missing'), NotFoundError);
  await rejectsWith(() => composio.connectedAccounts.waitForConnection('ca_missing', 1000),
    ComposioConnectedAccountNotFoundError);
});

test('delete, then the account is gone', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id);
  await completeConsent(connectionRequest.redirectUrl);
  await connectionRequest.waitForConnection(5000);
  await composio.connectedAccounts.delete(connectionRequest.id);
  await rejectsWith(() => composio.connectedAccounts.get(connectionRequest.id), NotFoundError);
  assert.equal((await composio.connectedAccounts.list({ userIds: ['user_123'] })).items.length, 0);
});

test('revoke: an ACTIVE account is revoked at the provider', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.link('user_123', authConfig.id);
  await completeConsent(connectionRequest.redirectUrl);
  await connectionRequest.waitForConnection(5000);
  await composio.connectedAccounts.revoke(connectionRequest.id);
  assert.equal((await composio.connectedAccounts.get(connectionRequest.id)).status, 'REVOKED');
  assertNoSdkWarnings();
});

test('initiate with a custom OAuth app goes straight to the provider', async () => {
  const composio = newComposio();
  const authConfig = await githubApp(composio);
  const connectionRequest = await composio.connectedAccounts.initiate('user_456', authConfig.id, { callbackUrl: CALLBACK });
  assert.equal(connectionRequest.status, 'INITIATED');
  assert.match(connectionRequest.redirectUrl, /\/api\/v3\/s\/lk_/);
  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.equal(browser.query.status, 'success');
  assert.equal(browser.query.connectedAccountId, connectionRequest.id, 'initiate flows use the legacy camelCase key');
  const account = await composio.connectedAccounts.waitForConnection(connectionRequest.id, 5000);
  assert.equal(account.status, 'ACTIVE');
});

test('initiate with managed OAuth is the retired-endpoint error', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('hubspot', { type: 'use_composio_managed_auth' });
  await rejectsWith(() => composio.connectedAccounts.initiate('user_123', authConfig.id),
    ComposioLegacyConnectedAccountsEndpointRetiredError);
});

test('an API-key connection is ACTIVE at once', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('perplexityai', {
    type: 'use_custom_auth', authScheme: 'API_KEY', credentials: {},
  });
  const connectionRequest = await composio.connectedAccounts.initiate('user_123', authConfig.id, {
    config: { authScheme: 'API_KEY', val: { generic_api_key: 'pplx-0123456789' } },
  });
  assert.equal(connectionRequest.status, 'ACTIVE');
  const account = await composio.connectedAccounts.waitForConnection(connectionRequest.id, 1000);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.toolkit.slug, 'perplexityai');
});
