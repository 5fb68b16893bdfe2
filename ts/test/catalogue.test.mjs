// The full catalogue through @composio/core: a toolkit known only from Composio's listing,
// categories, getMany (POST /toolkits/multi), and Gmail's custom BEARER_TOKEN alternative.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuthScheme, ComposioToolkitNotFoundError } from '@composio/core';

import { assertNoSdkWarnings, conformanceHooks, newComposio, rejectsWith } from './helpers.mjs';

conformanceHooks();

test("toolkits.get('exa'): a listing-only toolkit with the standard API-key field", async () => {
  const composio = newComposio();
  const exa = await composio.toolkits.get('exa');
  assert.equal(exa.slug, 'exa');
  assert.deepEqual(exa.authConfigDetails.map((d) => d.mode), ['API_KEY']);
  const fields = await composio.toolkits.getConnectedAccountInitiationFields('exa', 'API_KEY', { requiredOnly: true });
  assert.deepEqual(fields.map((f) => f.name), ['generic_api_key']);
  await rejectsWith(() => composio.toolkits.get('tavilly'), ComposioToolkitNotFoundError);
  assertNoSdkWarnings();
});

test('listCategories and getMany', async () => {
  const composio = newComposio();
  const categories = await composio.toolkits.listCategories();
  const ids = categories.items.map((c) => c.id);
  assert.ok(ids.includes('crm') && ids.length > 100);
  const many = await composio.toolkits.getMany(['github', 'tavily']);
  const items = Array.isArray(many) ? many : many.items;
  assert.deepEqual(items.map((t) => t.slug).sort(), ['github', 'tavily']);
  assertNoSdkWarnings();
});

test('Gmail takes a custom BEARER_TOKEN auth config; the connection is ACTIVE at once', async () => {
  const composio = newComposio();
  const gmail = await composio.toolkits.get('gmail');
  assert.deepEqual(gmail.authConfigDetails.map((d) => d.mode), ['OAUTH2', 'BEARER_TOKEN']);
  const authConfig = await composio.authConfigs.create('gmail', {
    type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {},
  });
  const request = await composio.connectedAccounts.initiate('user_1', authConfig.id, {
    config: AuthScheme.BearerToken({ token: 'ya29.existing-token' }),
  });
  assert.equal(request.status, 'ACTIVE');
  const account = await composio.connectedAccounts.get(request.id);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.toolkit.slug, 'gmail');
  assertNoSdkWarnings();
});
