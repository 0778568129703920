/**
 * DNS rebinding protection (docs/threat-model.md "The query server"): a
 * page on a name its author controls can point that name at 127.0.0.1 and
 * then talk to a server on loopback as its own origin, so CORS and the
 * same-origin policy no longer keep it out — only the `Host` header still
 * names the attacker's host. A request that arrives on a loopback address
 * must therefore name a loopback host (`localhost`, `127.x.x.x`, `[::1]`,
 * any port) or one listed in `allowedHosts` (a proxy's or a tunnel's name);
 * with `allowedHosts` given, so must every request, wherever it arrives.
 * Requests that arrive on another address with no list given are let
 * through as they always were. A request without `Host` (HTTP/1.0) names
 * no other host and passes.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from '../errors.js';

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Whether `address` (an IP address, or a host name) is loopback. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return LOOPBACK_V4.test(v4) && isIP(v4) === 4;
}

/** The host name of a `Host` header without its port, lowercased, brackets of an IPv6 address removed; undefined when it is no host[:port]. */
export function hostOf(header: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{0,5})?$/.exec(header.trim());
  if (m === null) return undefined;
  return m[1]!.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Validate `allowedHosts` (host names or IP addresses, no port) into the
 * set {@link assertHost} checks against.
 */
export function allowedHostSet(hosts: unknown): ReadonlySet<string> | undefined {
  if (hosts === undefined) return undefined;
  if (!Array.isArray(hosts)) throw new TypeError('options.allowedHosts must be an array of host names, e.g. [\'audit.example.com\']');
  const out = new Set<string>();
  for (const h of hosts as unknown[]) {
    // A port is refused rather than ignored: the name is what is checked, on every port.
    const host = typeof h === 'string' && !/:\d*$/.test(h.replace(/^\[.*\]$/, '')) ? hostOf(h) : undefined;
    if (host === undefined || host.length === 0) {
      throw new RangeError(`options.allowedHosts holds ${JSON.stringify(h)}; give a host name or IP address without a port, e.g. 'audit.example.com' or '[fd00::1]'`);
    }
    out.add(host);
  }
  return out;
}

/** Throws `AUDIT_HTTP_MISDIRECTED` (421) when `req`'s Host is not one this server answers to (see file comment). */
export function assertHost(req: IncomingMessage, allowed: ReadonlySet<string> | undefined): void {
  const header = req.headers.host;
  if (header === undefined) return;
  const local = req.socket.localAddress;
  if (allowed === undefined && (local === undefined || !isLoopback(local))) return;
  const host = hostOf(header);
  if (host !== undefined && (isLoopback(host) || allowed?.has(host) === true)) return;
  const shown = JSON.stringify(header.length > 100 ? `${header.slice(0, 100)}…` : header);
  throw new HttpError('AUDIT_HTTP_MISDIRECTED', allowed === undefined
    ? `the Host header ${shown} names no loopback host, and this server answers on loopback only to localhost, 127.0.0.1 or [::1] (a foreign name there is how DNS rebinding reaches it); `
      + 'open it as http://127.0.0.1:PORT, or, behind a proxy or under another name, list that name in the server\'s allowedHosts (otel-audit serve --allowed-host NAME)'
    : `the Host header ${shown} is not among the server's allowed hosts (${[...allowed].join(', ')}) nor a loopback host; add it to allowedHosts (otel-audit serve --allowed-host NAME)`);
}
