// Auth configs through @composio/core, as the seed docs' TypeScript snippets use them:
// managed auth with scopes, custom OAuth2 apps, API-key configs, update, list, get,
// enable/disable, delete, and NotFoundError for unknown ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NotFoundError } from '@composio/client';
import { ComposioFailedToCreateConnectedAccountLink } from '@composio/core';

import { assertNoSdkWarnings, conformanceHooks, newComposio, rejectsWith } from './helpers.mjs';

conformanceHooks();

test('managed auth with scopes (hubspot): created, then read back with the scopes', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('hubspot', {
    type: 'use_composio_managed_auth',
    name: 'HubSpot',
    credentials: { scopes: 'sales-email-read,tickets' },
  });
  assert.match(authConfig.id, /^ac_[A-Za-z0-9_-]{12}$/);
  assert.equal(authConfig.authScheme, 'OAUTH2');
  assert.equal(authConfig.isComposioManaged, true);
  assert.equal(authConfig.toolkit, 'hubspot');

  const stored = await composio.authConfigs.get(authConfig.id);
  assert.equal(stored.name, 'HubSpot');
  assert.equal(stored.status, 'ENABLED');
  assert.equal(stored.isComposioManaged, true);
  assert.equal(stored.toolkit.slug, 'hubspot');
  assert.equal(stored.credentials.scopes, 'sales-email-read,tickets');
  assertNoSdkWarnings();
});

test('upper-case toolkit slugs (GITHUB, HUBSPOT) as in the docs', async () => {
  const composio = newComposio();
  const github = await composio.authConfigs.create('GITHUB', { name: 'GitHub', type: 'use_composio_managed_auth' });
  assert.equal(github.toolkit, 'github');
  assert.equal(github.isComposioManaged, true);
  const hubspot = await composio.authConfigs.create('HUBSPOT', {
    name: 'HubspotConfig', type: 'use_composio_managed_auth', credentials: { scopes: 'sales-email-read,tickets' },
  });
  assert.equal(hubspot.toolkit, 'hubspot');
  assert.equal((await composio.authConfigs.get(hubspot.id)).credentials.scopes, 'sales-email-read,tickets');
  assertNoSdkWarnings();
});

test('custom OAuth2 app (github) with scopes: client secret masked on read', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('github', {
    type: 'use_custom_auth',
    authScheme: 'OAUTH2',
    name: 'GitHub',
    credentials: { client_id: 'gh-client-id', client_secret: 'gh-client-secret', scopes: 'repo,read:org' },
  });
  assert.equal(authConfig.authScheme, 'OAUTH2');
  assert.equal(authConfig.isComposioManaged, false);
  assert.equal(authConfig.toolkit, 'github');

  const stored = await composio.authConfigs.get(authConfig.id);
  assert.equal(stored.name, 'GitHub');
  assert.equal(stored.credentials.client_id, 'gh-client-id');
  assert.equal(stored.credentials.client_secret, 'gh-c...');
  assert.equal(stored.credentials.scopes, 'repo,read:org');
  assertNoSdkWarnings();
});

test("custom OAuth2 app naming Composio's real redirect URI stays on this server", async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('NOTION', {
    name: 'Notion',
    type: 'use_custom_auth',
    credentials: {
      client_id: '1234567890',
      client_secret: '1234567890',
      oauth_redirect_uri: 'https://backend.composio.dev/api/v3/toolkits/auth/callback',
    },
    authScheme: 'OAUTH2',
  });
  assert.equal(authConfig.toolkit, 'notion');
  assert.equal(authConfig.isComposioManaged, false);
  const link = await composio.connectedAccounts.link('user_123', authConfig.id);
  assert.equal(new URL(link.redirectUrl).origin, new URL(process.env.COMPOSIO_BASE_URL).origin);
  assertNoSdkWarnings();
});

test('API-key configs (PERPLEXITYAI with no credentials, linear with a key)', async () => {
  const composio = newComposio();
  const perplexity = await composio.authConfigs.create('PERPLEXITYAI', {
    name: 'Perplexity AI', type: 'use_custom_auth', credentials: {}, authScheme: 'API_KEY',
  });
  assert.equal(perplexity.authScheme, 'API_KEY');
  assert.equal(perplexity.isComposioManaged, false);
  assert.equal(perplexity.toolkit, 'perplexityai');
  const linear = await composio.authConfigs.create('linear', {
    type: 'use_custom_auth', name: 'Linear API Key', authScheme: 'API_KEY', credentials: { api_key: 'lin_api_0123456789' },
  });
  assert.equal(linear.authScheme, 'API_KEY');
  assert.equal((await composio.authConfigs.get(linear.id)).name, 'Linear API Key');
  assertNoSdkWarnings();
});

test("update scopes: {type:'default', scopes} and {type:'custom', credentials}", async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('github', {
    type: 'use_custom_auth', authScheme: 'OAUTH2', name: 'GitHub',
    credentials: { client_id: 'cid', client_secret: 'csecret', scopes: 'repo' },
  });
  await composio.authConfigs.update(authConfig.id, { type: 'default', scopes: 'repo,read:org,read:user' });
  assert.equal((await composio.authConfigs.get(authConfig.id)).credentials.scopes, 'repo,read:org,read:user');

  await composio.authConfigs.update(authConfig.id, { type: 'custom', credentials: { scopes: 'read:user' } });
  const stored = await composio.authConfigs.get(authConfig.id);
  assert.equal(stored.credentials.scopes, 'read:user');
  assert.equal(stored.credentials.client_id, 'cid', 'a partial credentials update keeps the other fields');
  assertNoSdkWarnings();
});

test('list({toolkit}) returns only that toolkit, get() the one config', async () => {
  const composio = newComposio();
  const gmailA = await composio.authConfigs.create('gmail', {
    type: 'use_custom_auth', name: 'My Gmail OAuth App', authScheme: 'OAUTH2',
    credentials: { client_id: 'google-client', client_secret: 'google-secret' },
  });
  const gmailB = await composio.authConfigs.create('gmail', { type: 'use_composio_managed_auth' });
  await composio.authConfigs.create('slack', { type: 'use_composio_managed_auth' });

  const configs = await composio.authConfigs.list({ toolkit: 'gmail' });
  assert.deepEqual(configs.items.map((c) => c.id).sort(), [gmailA.id, gmailB.id].sort());
  assert.ok(configs.items.every((c) => c.toolkit.slug === 'gmail'));
  assert.equal(configs.totalPages, 1);

  const all = await composio.authConfigs.list();
  assert.equal(all.items.length, 3);

  const config = await composio.authConfigs.get(gmailA.id);
  assert.equal(config.id, gmailA.id);
  assert.equal(config.name, 'My Gmail OAuth App');
  assert.equal(config.authScheme, 'OAUTH2');
  assertNoSdkWarnings();
});

test('disable and enable flip the status; a disabled config refuses new links', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('gmail', { type: 'use_composio_managed_auth' });
  await composio.authConfigs.disable(authConfig.id);
  assert.equal((await composio.authConfigs.get(authConfig.id)).status, 'DISABLED');

  const err = await rejectsWith(() => composio.connectedAccounts.link('user_123', authConfig.id),
    ComposioFailedToCreateConnectedAccountLink);
  assert.equal(err.cause?.status, 400);
  assert.match(err.cause.message, new RegExp(`${authConfig.id}.*disabled`, 'i'));

  await composio.authConfigs.enable(authConfig.id);
  assert.equal((await composio.authConfigs.get(authConfig.id)).status, 'ENABLED');
  const link = await composio.connectedAccounts.link('user_123', authConfig.id);
  assert.equal(link.status, 'INITIATED');
  assertNoSdkWarnings();
});

test('delete, then get() is a NotFoundError with the error envelope', async () => {
  const composio = newComposio();
  const authConfig = await composio.authConfigs.create('github', { type: 'use_composio_managed_auth' });
  await composio.authConfigs.delete(authConfig.id);
  const err = await rejectsWith(() => composio.authConfigs.get(authConfig.id), NotFoundError);
  assert.equal(err.status, 404);
  assert.equal(err.error.error.status, 404);
  assert.equal(err.error.error.slug, 'Auth_Config_NotFound');
  assert.match(err.error.error.message, new RegExp(authConfig.id));
  assert.equal((await composio.authConfigs.list()).items.length, 0);
});

test('an unknown id is a NotFoundError, and another tenant cannot see this one\'s configs', async () => {
  const composio = newComposio();
  await rejectsWith(() => composio.authConfigs.get('ac_missing'), NotFoundError);
  const mine = await composio.authConfigs.create('github', { type: 'use_composio_managed_auth' });
  const other = newComposio();
  await rejectsWith(() => other.authConfigs.get(mine.id), NotFoundError);
  assert.equal((await other.authConfigs.list()).items.length, 0);
});
