// The network guard itself: every outbound path is refused and recorded, loopback passes, and
// the SDK's own defaults (telemetry, npm version check) are caught. Runs in a child process
// whose real network entry points are stubbed (fixtures/tripwire.mjs), so nothing leaves the
// machine even if the guard were broken.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { guard, isLoopback } from '../guard.mjs';
import { conformanceHooks } from './helpers.mjs';

conformanceHooks();

const root = fileURLToPath(new URL('..', import.meta.url));

test('the guard is preloaded in this process', () => {
  assert.equal(guard.installed, true);
  assert.equal(globalThis[Symbol.for('mockcomposio.netguard')], guard);
});

test('loopback hosts are told apart from everything else', () => {
  for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST.', 'mock.localhost', '::1', '[::1]', '::ffff:127.0.0.1', undefined]) {
    assert.equal(isLoopback(host), true, String(host));
  }
  for (const host of ['0.0.0.0', '10.0.0.1', '192.168.1.1', 'backend.composio.dev', 'localhost.example.com', '128.0.0.1', '::', 'telemetry.composio.dev']) {
    assert.equal(isLoopback(host), false, String(host));
  }
});

test('every outbound call is refused and recorded; loopback calls go through', () => {
  const env = { ...process.env };
  delete env.MOCKCOMPOSIO_NETGUARD_LOG; // these attempts are deliberate: keep them off the suite's log
  delete env.TELEMETRY_DISABLED; // let the SDK try its defaults, so the guard has to catch them
  delete env.NODE_OPTIONS;
  const child = spawnSync(process.execPath, [
    '--import', './test/fixtures/tripwire.mjs', '--import', './guard.mjs', 'test/fixtures/outbound.mjs',
  ], { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 1, `the guard must fail the process at exit; stderr:\n${child.stderr}`);
  assert.match(child.stderr, /mockcomposio network guard: \d+ outbound attempt\(s\) refused/);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1));
  const { outcome, reached } = report;
  for (const label of ['fetch telemetry', 'fetch URL object', 'net.connect', 'net.createConnection opts',
    'socket.connect', 'tls.connect', 'http.get', 'https.get', 'dns.lookup', 'dns.promises.lookup']) {
    assert.equal(outcome[label], 'refused', label);
  }
  for (const label of ['fetch loopback', 'fetch localhost', 'net.connect loopback', 'net.connect ::1']) {
    assert.match(outcome[label], /\+reached$/, `${label} should pass the guard: ${outcome[label]}`);
  }
  assert.deepEqual(reached.filter((r) => !/ (127\.0\.0\.1|localhost|::1)$/.test(r)), [],
    'only loopback calls may get past the guard');
  const sdkHosts = outcome['sdk defaults'];
  assert.ok(sdkHosts.includes('telemetry.composio.dev'), `telemetry: ${JSON.stringify(sdkHosts)}`);
  assert.ok(sdkHosts.some((h) => !h.endsWith('.composio.dev')), `npm version check: ${JSON.stringify(sdkHosts)}`);
});
