import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../../platform/config';
import { postWebhook } from '../delivery-worker';
import { assertExternalWebhookUrl, nonPublicReason, parseAllowList, WebhookUrlRefused } from '../url-guard';

/**
 * The webhook URL guard on its own: which addresses count as not external, the WEBHOOK_ALLOWED_HOSTS setting,
 * and the delivery socket's own DNS lookup — a host NAME resolving to loopback when the hub connects (DNS
 * rebinding) is refused before any byte is sent, against a real HTTP server.
 */
describe('which addresses are external', () => {
  test.each([
    ['127.0.0.1', 'a loopback address'], ['127.255.0.9', 'a loopback address'], ['::1', 'a loopback address'],
    ['10.0.0.1', 'a private address'], ['172.16.5.4', 'a private address'], ['172.31.255.255', 'a private address'], ['192.168.0.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'], ['fe80::1', 'a link-local address'], ['fd00::5', 'a unique-local (private) address'],
    ['100.64.0.1', 'a carrier-grade NAT address'], ['0.0.0.0', 'a "this network" address'], ['::', 'the unspecified address'],
    ['224.0.0.1', 'a multicast address'], ['::ffff:10.1.1.1', 'a private address'], ['::ffff:7f00:1', 'a loopback address'],
  ])('%s is %s', (address, reason) => {
    expect(nonPublicReason(address)).toBe(reason);
  });

  test.each(['8.8.8.8', '114.114.114.114', '172.32.0.1', '2400:3200::1', '::ffff:8.8.8.8'])('%s is external', (address) => {
    expect(nonPublicReason(address)).toBeNull();
  });
});

describe('WEBHOOK_ALLOWED_HOSTS', () => {
  test('names, addresses and CIDR ranges from the configuration; a bad entry is named', async () => {
    const config = loadConfig({ NODE_ENV: 'test', WEBHOOK_ALLOWED_HOSTS: 'hooks.gov.internal, 10.20.0.0/16 ,127.0.0.1,[fd00::7]' });
    const allow = parseAllowList(config.WEBHOOK_ALLOWED_HOSTS);
    await expect(assertExternalWebhookUrl(new URL('http://10.20.3.4/in'), allow)).resolves.toBeUndefined();
    await expect(assertExternalWebhookUrl(new URL('http://127.0.0.1:9/in'), allow)).resolves.toBeUndefined();
    await expect(assertExternalWebhookUrl(new URL('http://[fd00::7]/in'), allow)).resolves.toBeUndefined();
    await expect(assertExternalWebhookUrl(new URL('https://HOOKS.gov.internal/in'), allow)).resolves.toBeUndefined();
    await expect(assertExternalWebhookUrl(new URL('http://10.21.0.1/in'), allow)).rejects.toThrow(/input\.url: 10\.21\.0\.1, a private address/);
    await expect(assertExternalWebhookUrl(new URL('http://127.0.0.2/in'), allow)).rejects.toThrow(/a loopback address/);
    expect(loadConfig({ NODE_ENV: 'test' }).WEBHOOK_ALLOWED_HOSTS).toBe('');
    expect(parseAllowList('').empty).toBe(true);
    expect(() => parseAllowList('10.0.0.0/40')).toThrow(/WEBHOOK_ALLOWED_HOSTS: "10\.0\.0\.0\/40" is not a CIDR range/);
    expect(() => parseAllowList('http://x/')).toThrow(/WEBHOOK_ALLOWED_HOSTS: "http:\/\/x\/" is not a host name/);
  });
});

describe('the delivery socket resolves and checks in one step (DNS rebinding)', () => {
  let server: http.Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => { hits.push(req.url ?? ''); res.writeHead(204).end(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a name resolving to loopback at delivery is refused before connecting; admitted by name, it is delivered', async () => {
    const body = JSON.stringify({ type: 'gov.tonglan.place.created', data: { address: '锦江区督院街道1号' } });
    const headers = { 'content-type': 'application/json' };
    await expect(postWebhook(`http://localhost:${port}/rebound`, headers, body, { timeoutMs: 2000, allowList: parseAllowList('') }))
      .rejects.toThrow(WebhookUrlRefused);
    await expect(postWebhook(`http://localhost:${port}/rebound`, headers, body, { timeoutMs: 2000, allowList: parseAllowList('') }))
      .rejects.toThrow(/^localhost resolves to 127\.0\.0\.1, a loopback address/);
    await expect(postWebhook(`http://127.0.0.1:${port}/literal`, headers, body, { timeoutMs: 2000, allowList: parseAllowList('8.8.8.8') }))
      .rejects.toThrow(/^127\.0\.0\.1, a loopback address/);
    expect(hits).toEqual([]);

    const ok = await postWebhook(`http://localhost:${port}/admitted`, headers, body, { timeoutMs: 2000, allowList: parseAllowList('localhost') });
    expect(ok.status).toBe(204);
    expect(hits).toEqual(['/admitted']);
  });
});
