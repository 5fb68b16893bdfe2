// Webhook subscriptions through @composio/core (composio.webhooks.subscriptions.*) and the
// signed composio.connected_account.expired delivery, verified with composio.triggers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { BadRequestError, ConflictError, NotFoundError } from '@composio/client';

import { BASE_URL, completeConsent, conformanceHooks, newComposio, rejectsWith } from './helpers.mjs';

conformanceHooks();

const EXPIRED = 'composio.connected_account.expired';

/** The app's webhook endpoint: a loopback HTTP server that records raw deliveries. */
async function receiver(answer = () => 200) {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer(got.length));
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/webhooks/composio`;
  return { got, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function control(apiKey, method, path, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} ${path}: ${await res.clone().text()}`);
  return res.json();
}

async function until(predicate, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An ACTIVE gmail account whose next token refresh the provider refuses, then the clock
 * passes the access token's expiry: Composio marks it EXPIRED and emits the event. */
async function expireAConnection(composio, apiKey) {
  const authConfig = await composio.authConfigs.create('gmail', { type: 'use_composio_managed_auth' });
  const request = await composio.connectedAccounts.link('user_42', authConfig.id, {
    callbackUrl: 'https://myapp.example/cb',
  });
  await completeConsent(request.redirectUrl);
  await request.waitForConnection(5000);
  await control(apiKey, 'POST', '/_mock/faults', { preset: 'token_refresh_failure' });
  await control(apiKey, 'POST', '/_mock/clock', { advance: 3601 });
  assert.equal((await composio.connectedAccounts.get(request.id)).status, 'EXPIRED');
  return request.id;
}

test('subscription calls: set, get, list, update, listEventTypes, rotateSecret, delete', async () => {
  const composio = newComposio();
  const subs = composio.webhooks.subscriptions;
  const created = await subs.set({ webhookUrl: 'http://127.0.0.1:8080/hooks', enabledEvents: [EXPIRED] });
  assert.match(created.id, /^whs_[A-Za-z0-9_-]{12}$/);
  assert.match(created.secret, /^whsec_/);
  assert.equal(created.version, 'V3');
  assert.deepEqual(created.enabledEvents, [EXPIRED]);
  const again = await subs.set({ webhookUrl: 'http://localhost:9090/hooks' }); // updates the one
  assert.equal(again.id, created.id);
  assert.equal(again.webhookUrl, 'http://localhost:9090/hooks');
  assert.equal((await subs.get(created.id)).secret, created.secret);
  const { items } = await subs.list();
  assert.deepEqual(items.map((s) => s.id), [created.id]);
  const updated = await subs.update(created.id, { enabledEvents: ['composio.trigger.message', EXPIRED] });
  assert.deepEqual(updated.enabledEvents, ['composio.trigger.message', EXPIRED]);
  const types = await subs.listEventTypes();
  const expired = types.items.find((t) => t.eventType === EXPIRED);
  assert.deepEqual(expired.supportedVersions, ['V3']);
  const rotated = await subs.rotateSecret(created.id);
  assert.equal(rotated.id, created.id);
  assert.notEqual(rotated.secret, created.secret);
  assert.deepEqual(await subs.delete(created.id), { success: true });
  await rejectsWith(() => subs.get(created.id), NotFoundError);
});

test('bad input is a 4xx: a second create, a non-loopback URL, an unknown event type', async () => {
  const composio = newComposio();
  const subs = composio.webhooks.subscriptions;
  const created = await subs.set({ webhookUrl: 'http://127.0.0.1:8080/hooks', enabledEvents: [EXPIRED] });
  await rejectsWith(() => composio.client.webhookSubscriptions.create({
    webhook_url: 'http://127.0.0.1:8080/other', enabled_events: [EXPIRED],
  }), ConflictError);
  const hostile = await rejectsWith(
    () => subs.update(created.id, { webhookUrl: 'https://attacker.example/steal' }), BadRequestError);
  assert.match(hostile.message, /loopback/);
  await rejectsWith(() => subs.update(created.id, { webhookUrl: 'file:///etc/passwd' }), BadRequestError);
  const unknown = await rejectsWith(
    () => subs.update(created.id, { enabledEvents: ['composio.account.deleted'] }), BadRequestError);
  assert.match(unknown.message, /Unknown event type/);
  assert.equal((await subs.get(created.id)).webhookUrl, 'http://127.0.0.1:8080/hooks');
});

test('an expired connection is delivered signed; verifyWebhook and parse accept it', async () => {
  const apiKey = `ts-${randomUUID()}`;
  const composio = newComposio(apiKey);
  const app = await receiver();
  try {
    const sub = await composio.webhooks.subscriptions.set({ webhookUrl: app.url, enabledEvents: [EXPIRED] });
    const accountId = await expireAConnection(composio, apiKey);
    await until(() => app.got.length === 1, 'the delivery');
    const [delivery] = app.got;
    assert.equal(delivery.headers['x-composio-webhook-version'], 'V3');
    assert.equal(delivery.headers['x-composio-delivery-attempt'], '1');
    const params = {
      payload: delivery.body,
      signature: delivery.headers['webhook-signature'],
      id: delivery.headers['webhook-id'],
      timestamp: delivery.headers['webhook-timestamp'],
    };
    const verified = await composio.triggers.verifyWebhook({ ...params, secret: sub.secret });
    assert.equal(verified.version, 'V3');
    assert.equal(verified.rawPayload.type, EXPIRED);
    assert.equal(verified.rawPayload.id, params.id);
    assert.equal(verified.rawPayload.data.id, accountId);
    assert.equal(verified.rawPayload.data.status, 'EXPIRED');
    const parsed = await composio.triggers.parse(
      { body: delivery.body, headers: delivery.headers }, { verifySecret: sub.secret });
    assert.equal(parsed.rawPayload.id, params.id);

    // after a rotation the old secret no longer verifies this delivery's signature
    const { secret } = await composio.webhooks.subscriptions.rotateSecret(sub.id);
    await assert.rejects(() => composio.triggers.verifyWebhook({ ...params, secret: `${secret}x` }));
    await assert.rejects(() => composio.triggers.verifyWebhook({ ...params, secret: 'whsec_wrong' }));
  } finally {
    await app.close();
  }
});

test('a receiver answering 500 twice gets the same webhook-id on the third attempt', async () => {
  const apiKey = `ts-${randomUUID()}`;
  const composio = newComposio(apiKey);
  const app = await receiver((n) => (n <= 2 ? 500 : 200));
  try {
    await control(apiKey, 'POST', '/_mock/clock', { freeze: true });
    const sub = await composio.webhooks.subscriptions.set({ webhookUrl: app.url, enabledEvents: [EXPIRED] });
    await expireAConnection(composio, apiKey);
    await until(() => app.got.length === 1, 'attempt 1');
    // retries fall due on the tenant's virtual clock: 5 s, then 5 min
    for (const [n, seconds] of [[2, 5], [3, 300]]) {
      await until(async () => {  // the failed attempt is recorded and its retry scheduled
        const { deliveries: [d] } = await control(apiKey, 'GET', '/_mock/webhooks?body=false');
        return d.attempts.length === n - 1 && d.next_attempt_at !== null;
      }, `attempt ${n - 1} to settle`);
      await control(apiKey, 'POST', '/_mock/clock', { advance: seconds });
      await until(() => app.got.length === n, `attempt ${n}`);
    }
    assert.deepEqual(app.got.map((g) => g.headers['x-composio-delivery-attempt']), ['1', '2', '3']);
    assert.equal(new Set(app.got.map((g) => g.headers['webhook-id'])).size, 1);
    const last = app.got[2];
    const verified = await composio.triggers.verifyWebhook({
      payload: last.body, signature: last.headers['webhook-signature'],
      id: last.headers['webhook-id'], timestamp: last.headers['webhook-timestamp'],
      secret: sub.secret,
    });
    assert.equal(verified.rawPayload.type, EXPIRED);
    await until(async () => (await control(apiKey, 'GET', '/_mock/webhooks?body=false'))
      .deliveries[0].state === 'delivered', 'the delivery to settle');
    const log = await control(apiKey, 'GET', '/_mock/webhooks?body=false');
    assert.deepEqual(log.deliveries[0].attempts.map((a) => a.status), [500, 500, 200]);
    assert.equal(log.deliveries[0].state, 'delivered');
  } finally {
    await app.close();
  }
});
