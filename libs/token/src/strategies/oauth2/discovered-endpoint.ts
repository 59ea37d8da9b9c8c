import { BlockList, isIP } from 'node:net';
import { isLoopbackHostname } from '../../core/token-endpoint-url.js';

/**
 * Where a token endpoint named by an issuer's metadata may be. The metadata is data from the
 * network, and the client's credentials follow it: a document that names a link-local address
 * (cloud metadata services live at 169.254.169.254 and fe80::/10) or, from an issuer that is not on
 * this machine, a loopback one, would make the library send them to a place the configuration
 * never named. Only literal addresses are judged: a DNS name is not resolved here.
 */

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

// What `isLoopbackHostname` leaves out: IPv4-mapped 127/8 and "this host" (0.0.0.0, ::), which
// connect to the machine itself.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addSubnet('0.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addAddress('::', 'ipv6');

type AddressScope = 'loopback' | 'link-local' | 'other';

/** The scope of a URL's host as the WHATWG parser gives it (`[fe80::1]`, `169.254.169.254`). */
export function addressScope(hostname: string): AddressScope {
  if (isLoopbackHostname(hostname)) return 'loopback';
  const address = hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  if (family === 0) return 'other';
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (LINK_LOCAL.check(address, type)) return 'link-local';
  if (LOOPBACK.check(address, type)) return 'loopback';
  return 'other';
}

export interface DiscoveredEndpointRules {
  /** The configured issuer; a loopback endpoint is accepted only from a loopback issuer. */
  readonly issuer: string;
  /** `discovery.allowLocalEndpoints`: accept link-local and loopback endpoints whatever the issuer. */
  readonly allowLocalEndpoints: boolean;
}

/**
 * Why an endpoint from the metadata is refused (beyond the `tokenUrl` rules it also passes), or
 * `undefined`. The reason never repeats the URL.
 */
export function discoveredEndpointProblem(
  endpoint: string,
  rules: DiscoveredEndpointRules,
  /** The provider presents its client certificate (RFC 8705) there, which only https can carry. */
  carriesCertificate: boolean,
): string | undefined {
  const url = new URL(endpoint);
  if (carriesCertificate && url.protocol !== 'https:') {
    return 'must use https: the provider authenticates there with its client certificate ("mtls")';
  }
  if (rules.allowLocalEndpoints) return undefined;
  const scope = addressScope(url.hostname);
  if (scope === 'link-local') {
    return 'is a link-local address, where the client credentials must never go (set "discovery.allowLocalEndpoints: true" if it is meant)';
  }
  if (scope === 'loopback' && addressScope(new URL(rules.issuer).hostname) !== 'loopback') {
    return 'is a loopback address named by an issuer that is not on this machine (set "discovery.allowLocalEndpoints: true" if it is meant)';
  }
  return undefined;
}
