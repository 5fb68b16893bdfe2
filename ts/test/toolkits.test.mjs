// Toolkits: get() by slug (any case), the auth-config creation fields the docs use to build a
// custom config, connected-account initiation fields, and the not-found error classes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NotFoundError } from '@composio/client';
import { ComposioAuthConfigNotFoundError, ComposioToolkitNotFoundError } from '@composio/core';

import { assertNoSdkWarnings, conformanceHooks, newComposio, rejectsWith } from './helpers.mjs';

conformanceHooks();

test("toolkits.get('NOTION') returns the toolkit with its OAUTH2 auth details", async () => {
  const composio = newComposio();
  const toolkit = await composio.toolkits.get('NOTION');
  assert.equal(toolkit.slug, 'notion');
  assert.equal(toolkit.name, 'Notion');
  assert.equal(toolkit.isLocalToolkit, false);
  assert.ok(toolkit.authConfigDetails.some((d) => d.mode === 'OAUTH2'));
  assert.deepEqual(toolkit.composioManagedAuthSchemes, ['OAUTH2']);
  assertNoSdkWarnings();
});

test("getAuthConfigCreationFields('NOTION','OAUTH2',{requiredOnly:true}) lists client id and secret", async () => {
  const composio = newComposio();
  const fields = await composio.toolkits.getAuthConfigCreationFields('NOTION', 'OAUTH2', { requiredOnly: true });
  assert.deepEqual(fields.map((f) => f.name).sort(), ['client_id', 'client_secret']);
  for (const field of fields) {
    assert.equal(field.required, true);
    assert.equal(typeof field.displayName, 'string');
    assert.equal(field.type, 'string');
  }
  assert.equal(fields.find((f) => f.name === 'client_secret').isSecret, true);

  // Without requiredOnly the optional fields follow, marked required:false.
  const all = await composio.toolkits.getAuthConfigCreationFields('NOTION', 'OAUTH2');
  assert.deepEqual(all.slice(0, fields.length).map((f) => f.name), fields.map((f) => f.name));
  assert.ok(all.slice(fields.length).every((f) => f.required === false));
  assertNoSdkWarnings();
});

test('the creation fields are exactly what a custom config needs', async () => {
  const composio = newComposio();
  const fields = await composio.toolkits.getAuthConfigCreationFields('github', 'OAUTH2', { requiredOnly: true });
  const credentials = Object.fromEntries(fields.map((f) => [f.name, `value-of-${f.name}`]));
  const authConfig = await composio.authConfigs.create('github', {
    type: 'use_custom_auth', authScheme: 'OAUTH2', credentials,
  });
  assert.equal((await composio.authConfigs.get(authConfig.id)).credentials.client_id, 'value-of-client_id');
  assertNoSdkWarnings();
});

test('getConnectedAccountInitiationFields for an API-key toolkit', async () => {
  const composio = newComposio();
  const fields = await composio.toolkits.getConnectedAccountInitiationFields('perplexityai', 'API_KEY', { requiredOnly: true });
  assert.deepEqual(fields.map((f) => f.name), ['generic_api_key']);
  assert.equal(fields[0].required, true);
  assertNoSdkWarnings();
});

test('an unknown toolkit is a ComposioToolkitNotFoundError wrapping the 404', async () => {
  const composio = newComposio();
  const err = await rejectsWith(() => composio.toolkits.get('nope'), ComposioToolkitNotFoundError);
  assert.equal(err.code, 'TS-SDK::TOOLKIT_NOT_FOUND');
  assert.ok(err.cause instanceof NotFoundError);
  assert.equal(err.cause.error.error.slug, 'Toolkit_NotFound');
});

test('a scheme the toolkit does not have is a ComposioAuthConfigNotFoundError', async () => {
  const composio = newComposio();
  await rejectsWith(() => composio.toolkits.getAuthConfigCreationFields('NOTION', 'BASIC'),
    ComposioAuthConfigNotFoundError);
});

test('toolkits.get() without a slug lists the catalogue', async () => {
  const composio = newComposio();
  const toolkits = await composio.toolkits.get({});
  const slugs = toolkits.map((t) => t.slug);
  for (const slug of ['github', 'gmail', 'notion', 'hubspot', 'perplexityai']) assert.ok(slugs.includes(slug), slug);
  assertNoSdkWarnings();
});
