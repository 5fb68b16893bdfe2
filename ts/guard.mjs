// Network guard, preloaded with `node --import ./guard.mjs`: every DNS lookup, TCP/TLS
// connection and fetch to a host that is not loopback is refused (it throws) and recorded.
// The SDK swallows some failures (telemetry, version check), so refusing is not enough: the
// record is what the suite asserts on (test/helpers.mjs `assertNoOutboundAttempts`), and at
// exit any recorded attempt is printed and fails the process.
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

const STATE_KEY = Symbol.for('mockcomposio.netguard');

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // node defaults to localhost
  let h = String(host).toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) h = h.slice('::ffff:'.length);
  return net.isIPv4(h) && h.split('.')[0] === '127';
}

function hostOfUrl(input) {
  const raw = input instanceof Request ? input.url : String(input instanceof URL ? input.href : input);
  try {
    return new URL(raw).hostname;
  } catch {
    return raw; // not a URL: fetch itself will refuse it; record it as given
  }
}

class OutboundConnectionError extends Error {
  constructor(kind, host) {
    super(`mockcomposio network guard: refused ${kind} to non-loopback host ${JSON.stringify(host)}. ` +
      'The suite must stay offline: pass allowTracking:false and disableVersionCheck:true to ' +
      'new Composio(), set TELEMETRY_DISABLED=true, and point baseURL at the local server.');
    this.name = 'OutboundConnectionError';
    this.code = 'ENETGUARD';
  }
}

function install() {
  const state = { attempts: [], installed: true };
  globalThis[STATE_KEY] = state;

  const check = (kind, host) => {
    if (isLoopback(host)) return;
    state.attempts.push({ kind, host: String(host), stack: new Error().stack });
    throw new OutboundConnectionError(kind, host);
  };

  // DNS: every resolver entry point, callback and promise style.
  const origLookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname, ...rest) {
    check('dns.lookup', hostname);
    return origLookup.call(this, hostname, ...rest);
  };
  const origPromiseLookup = dns.promises.lookup;
  dns.promises.lookup = function guardedPromiseLookup(hostname, ...rest) {
    check('dns.promises.lookup', hostname);
    return origPromiseLookup.call(this, hostname, ...rest);
  };
  for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny']) {
    const orig = dns[name];
    dns[name] = function guardedResolve(hostname, ...rest) {
      check(`dns.${name}`, hostname);
      return orig.call(this, hostname, ...rest);
    };
  }

  // TCP: net.connect, http agents and undici (global fetch) all end in Socket#connect.
  const origSocketConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    let opts = args[0];
    if (Array.isArray(opts)) opts = opts[0]; // node's internal normalized [options, cb] form
    if (opts !== null && typeof opts === 'object') {
      if (!opts.path) check('net.Socket.connect', opts.host); // node treats a truthy path as IPC
    } else if (typeof opts === 'number' || (typeof opts === 'string' && /^\d+$/.test(opts))) {
      check('net.Socket.connect', typeof args[1] === 'string' ? args[1] : undefined);
    } // else: a unix socket path, local by definition
    return origSocketConnect.apply(this, args);
  };
  for (const [mod, name] of [[net, 'connect'], [net, 'createConnection'], [tls, 'connect']]) {
    const orig = mod[name];
    mod[name] = function guardedModuleConnect(...args) {
      const opts = args[0];
      if (opts !== null && typeof opts === 'object') {
        if (!opts.path) check(`${mod === tls ? 'tls' : 'net'}.${name}`, opts.host ?? opts.servername);
      } else if (typeof opts === 'number' || (typeof opts === 'string' && /^\d+$/.test(opts))) {
        check(`${mod === tls ? 'tls' : 'net'}.${name}`, typeof args[1] === 'string' ? args[1] : undefined);
      }
      return orig.apply(this, args);
    };
  }
  const origAgentConnection = http.Agent.prototype.createConnection;
  http.Agent.prototype.createConnection = function guardedAgentConnection(options, ...rest) {
    check('http.Agent', options?.host ?? options?.hostname);
    return origAgentConnection.call(this, options, ...rest);
  };

  // fetch: refused before undici starts, so the error names the URL's host.
  const origFetch = globalThis.fetch;
  if (typeof origFetch === 'function') {
    globalThis.fetch = function guardedFetch(input, init) {
      try {
        check('fetch', hostOfUrl(input));
      } catch (err) {
        return Promise.reject(err);
      }
      return origFetch.call(this, input, init);
    };
  }

  process.on('exit', () => {
    if (state.attempts.length === 0) return;
    const lines = state.attempts.map((a) => `  ${a.kind} -> ${a.host}`).join('\n');
    process.stderr.write(`mockcomposio network guard: ${state.attempts.length} outbound ` +
      `attempt(s) refused:\n${lines}\n`);
    if (process.env.MOCKCOMPOSIO_NETGUARD_LOG) {
      fs.appendFileSync(process.env.MOCKCOMPOSIO_NETGUARD_LOG,
        state.attempts.map((a) => JSON.stringify({ kind: a.kind, host: a.host, pid: process.pid }) + '\n').join(''));
    }
    process.exitCode = 1;
  });
  return state;
}

if (!globalThis[STATE_KEY]) install();

export const guard = globalThis[STATE_KEY];
export { isLoopback };
