import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { config } from '../../platform/config';
import { HubError } from '../../platform/errors';

/**
 * Webhooks go to external hosts only: a URL whose host is, or resolves to, a loopback, private, link-local,
 * unique-local, carrier-grade NAT, multicast, documentation or otherwise reserved address is refused — so an
 * integrator cannot make the hub POST into its own network (SSRF: the database, Redis, the subgraphs, a cloud
 * metadata service at 169.254.169.254).
 *
 * Checked twice: when the endpoint is registered (a clear TL_ERR_BAD_USER_INPUT), and at every delivery, on the
 * very addresses the connection then uses (`guardedLookup` is the socket's own DNS lookup), so a name that
 * resolved to a public address at registration and to 127.0.0.1 later (DNS rebinding) is refused too.
 *
 * WEBHOOK_ALLOWED_HOSTS (comma-separated) lets chosen receivers through anyway — on-premise systems on the
 * government network, or a test receiver on 127.0.0.1: a host name (exactly the URL's host, any address it
 * resolves to), an IP address, or a CIDR range (`10.20.0.0/16`, `fd00::/8`).
 */
const RANGES: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a reserved address'],
  ['192.0.2.0', 24, 'ipv4', 'a documentation address'],
  ['192.88.99.0', 24, 'ipv4', 'a reserved address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['198.51.100.0', 24, 'ipv4', 'a documentation address'],
  ['203.0.113.0', 24, 'ipv4', 'a documentation address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['100::', 64, 'ipv6', 'a discard address'],
  ['2001:db8::', 32, 'ipv6', 'a documentation address'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const BLOCKS = RANGES.map(([net, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, label };
});

/** Why an address is not external (IPv4-mapped IPv6 addresses count as their IPv4 address), or null. */
export function nonPublicReason(address: string): string | null {
  const family = isIP(address);
  if (!family) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const b of BLOCKS) if (b.list.check(address, type)) return b.label;
  return null;
}

/** The parsed WEBHOOK_ALLOWED_HOSTS. */
export interface AllowList {
  hosts: Set<string>;
  addresses: BlockList;
  empty: boolean;
}

/** Parse `WEBHOOK_ALLOWED_HOSTS`: names, IP addresses and CIDR ranges, comma- or space-separated. */
export function parseAllowList(value: string | readonly string[] | undefined): AllowList {
  const entries = (Array.isArray(value) ? value : String(value ?? '').split(/[,\s]+/)).map((e) => e.trim().toLowerCase()).filter(Boolean);
  const hosts = new Set<string>();
  const addresses = new BlockList();
  for (const entry of entries) {
    const bare = entry.replace(/^\[|\]$/g, '');
    const cidr = /^(.+)\/(\d{1,3})$/.exec(bare);
    if (cidr && isIP(cidr[1]!)) {
      const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
      const prefix = Number(cidr[2]);
      if (prefix > (family === 'ipv4' ? 32 : 128)) throw new HubError('TL_ERR_CONFIG_INVALID', `WEBHOOK_ALLOWED_HOSTS: "${entry}" is not a CIDR range`);
      addresses.addSubnet(cidr[1]!, prefix, family);
    } else if (isIP(bare)) {
      addresses.addAddress(bare, isIP(bare) === 4 ? 'ipv4' : 'ipv6');
      hosts.add(bare);
    } else if (/^[a-z0-9.-]+$/.test(bare)) {
      hosts.add(bare.replace(/\.$/, ''));
    } else {
      throw new HubError('TL_ERR_CONFIG_INVALID', `WEBHOOK_ALLOWED_HOSTS: "${entry}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return { hosts, addresses, empty: entries.length === 0 };
}

/** The allow-list of the process's configuration (WEBHOOK_ALLOWED_HOSTS). */
export function configuredAllowList(): AllowList {
  return parseAllowList(config().WEBHOOK_ALLOWED_HOSTS);
}

function allowedAddress(allow: AllowList, address: string): boolean {
  return allow.addresses.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a URL as the socket sees it (IPv6 without brackets, no trailing dot, lower case). */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/** Refusal of `address` (that `host` resolved to) for delivery, or null when it may be contacted. */
export function refusal(host: string, address: string, allow: AllowList): string | null {
  if (allow.hosts.has(host) || allowedAddress(allow, address)) return null;
  const reason = nonPublicReason(address);
  if (!reason) return null;
  return `${host === address ? host : `${host} resolves to ${address}`}, ${reason}; webhooks go to external hosts only (WEBHOOK_ALLOWED_HOSTS admits on-premise receivers)`;
}

export class WebhookUrlRefused extends Error {
  readonly code = 'TL_ERR_WEBHOOK_URL_REFUSED';
}

/**
 * At registration: refuse a URL whose host is, or now resolves to, a non-external address. A name that does
 * not resolve (yet) is accepted; every delivery checks again.
 */
export async function assertExternalWebhookUrl(url: URL, allow: AllowList, field = 'input.url'): Promise<void> {
  const host = urlHost(url);
  if (allow.hosts.has(host)) return;
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return;
    }
  }
  for (const address of addresses) {
    const why = refusal(host, address, allow);
    if (why) throw new HubError('TL_ERR_BAD_USER_INPUT', `${field}: ${why}`, { field });
  }
}

/**
 * A `lookup` for http(s).request: resolves the host and refuses (WebhookUrlRefused) when any address it resolves
 * to is not external — the connection then uses exactly the addresses checked, so DNS cannot change between the
 * check and the connect.
 */
export function guardedLookup(allow: AllowList): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const host = hostname.replace(/\.$/, '').toLowerCase();
      for (const a of list) {
        const why = refusal(host, a.address, allow);
        if (why) return callback(new WebhookUrlRefused(why), '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
