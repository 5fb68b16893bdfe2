// Tool-router sessions: composio.create(user, {authConfigs}) -> session.authorize ->
// consent -> waitForConnection, and session.toolkits() reflecting the connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BadRequestError, NotFoundError } from '@composio/client';

import {
  BASE_URL, assertNoSdkWarnings, completeConsent, conformanceHooks, newComposio, rejectsWith,
} from './helpers.mjs';

conformanceHooks();

const CALLBACK = 'https://myapp.com/auth/callback';

test('session with an auth config: authorize -> consent -> ACTIVE with that config and its scopes', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('github', {
    type: 'use_custom_auth', authScheme: 'OAUTH2', name: 'GitHub',
    credentials: { client_id: 'gh-client', client_secret: 'gh-secret', scopes: 'repo,read:org' },
  });
  const session = await composio.create('user_123', { authConfigs: { github: authConfig.id } });
  assert.match(session.sessionId, /^trs_/);
  assert.equal(new URL(session.mcp.url).origin, new URL(BASE_URL).origin, 'mcp.url is on the server\'s own origin');

  const connectionRequest = await session.authorize('github', { callbackUrl: CALLBACK });
  assert.equal(connectionRequest.status, 'INITIATED');
  const browser = await completeConsent(connectionRequest.redirectUrl);
  assert.deepEqual(browser.requestedScopes, ['repo', 'read:org']);
  assert.equal(browser.query.status, 'success');
  assert.equal(browser.query.connected_account_id, connectionRequest.id);

  const account = await connectionRequest.waitForConnection(5000);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.authConfig.id, authConfig.id);
  assert.equal(account.toolkit.slug, 'github');
  assertNoSdkWarnings();
});

test('session.toolkits() shows the connection once it is ACTIVE, and not after delete', async () => {
  const composio = newComposio();
  const session = await composio.create('user_123', { toolkits: ['github', 'gmail'] });
  const before = await session.toolkits();
  const github = () => before.items.find((t) => t.slug === 'github');
  assert.ok(github(), JSON.stringify(before.items.map((t) => t.slug)));
  assert.equal(github().connection.isActive, false);

  const connectionRequest = await session.authorize('github', { callbackUrl: CALLBACK });
  await completeConsent(connectionRequest.redirectUrl);
  const account = await connectionRequest.waitForConnection(5000);

  const after = await session.toolkits();
  const connected = after.items.find((t) => t.slug === 'github');
  assert.equal(connected.connection.isActive, true);
  assert.equal(connected.connection.connectedAccount.id, account.id);
  assert.equal(connected.connection.connectedAccount.status, 'ACTIVE');
  assert.equal(connected.connection.authConfig.id, account.authConfig.id);
  assert.equal(after.items.find((t) => t.slug === 'gmail').connection.isActive, false);

  const onlyGithub = await session.toolkits({ toolkits: ['github'] });
  assert.deepEqual(onlyGithub.items.map((t) => t.slug), ['github']);

  await composio.connectedAccounts.delete(account.id);
  const gone = await session.toolkits({ toolkits: ['github'] });
  assert.equal(gone.items[0].connection.isActive, false);
  assertNoSdkWarnings();
});

test('composio.create(user) with no config: authorize auto-creates a managed auth config', async () => {
  const composio = newComposio();
  const session = await composio.create('user_123');
  const connectionRequest = await session.authorize('github');
  await completeConsent(connectionRequest.redirectUrl);
  const account = await connectionRequest.waitForConnection(5000);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.authConfig.isComposioManaged, true);
  const configs = await composio.authConfigs.list({ toolkit: 'github' });
  assert.deepEqual(configs.items.map((c) => c.id), [account.authConfig.id]);

  // A second session of the same project reuses that config.
  const again = await (await composio.create('user_456')).authorize('github');
  await completeConsent(again.redirectUrl);
  assert.equal((await again.waitForConnection(5000)).authConfig.id, account.authConfig.id);
});

test('authorize for a toolkit without managed auth is a BadRequestError', async () => {
  const composio = newComposio();
  const session = await composio.create('user_123');
  const err = await rejectsWith(() => session.authorize('twitter'), BadRequestError);
  assert.equal(err.error.error.slug, 'ToolRouterV2_NoManagedAuth');
});

test('composio.use(id) reopens a session; after delete it is a NotFoundError', async () => {
  const composio = newComposio();
  const session = await composio.create('user_123', { manageConnections: false });
  const reopened = await composio.use(session.sessionId);
  assert.equal(reopened.sessionId, session.sessionId);
  assert.equal(reopened.mcp.url, session.mcp.url);
  await session.delete();
  await rejectsWith(() => composio.use(session.sessionId), NotFoundError);
  await rejectsWith(() => newComposio().use(reopened.sessionId), NotFoundError);
});
