// Loaded into Playwright's driver (NODE_OPTIONS=--require ...) when uept runs its scenarios in a browser of a
// Playwright browser server: the remote browser's requests to hosts of this machine come back through the
// connection (expose_network) and this process opens them. Browsers resolve every *.localhost name to loopback
// (RFC 6761, section 6.3), and the reference SSI's Entra imitation lives at login.microsoftonline.localhost;
// glibc does not resolve such names, so here they are resolved as a browser would. Nothing else changes.
'use strict';
const dns = require('dns');

function loopback(hostname, options) {
  // the loopback answer for a *.localhost name, or null for any other name
  const name = String(hostname || '').toLowerCase().replace(/\.$/, '');
  if (!name.endsWith('.localhost')) return null;
  const v6 = options.family === 6;
  return { address: v6 ? '::1' : '127.0.0.1', family: v6 ? 6 : 4 };
}

const original = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof options === 'number') options = { family: options };
  options = options || {};
  const found = loopback(hostname, options);
  if (!found) return original.call(this, hostname, options, callback);
  if (options.all) return process.nextTick(callback, null, [found]);
  return process.nextTick(callback, null, found.address, found.family);
};

const originalPromise = dns.promises.lookup;  // the same object as require('dns/promises')
dns.promises.lookup = function lookup(hostname, options) {
  const opts = typeof options === 'number' ? { family: options } : (options || {});
  const found = loopback(hostname, opts);
  if (!found) return originalPromise.call(this, hostname, options);
  return Promise.resolve(opts.all ? [found] : found);
};
