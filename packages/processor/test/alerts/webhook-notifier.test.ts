import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertConfigError, AlertNotifyError } from '../../src/alerts/errors.js';
import { parseRetryAfter, signWebhookBody, verifyWebhookSignature, WebhookNotifier } from '../../src/alerts/webhook-notifier.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';

const SECRET = 'a-webhook-secret-of-32-bytes-ok!';

const alert: AlertEvent = {
  id: '019b8b7d-5348-7359-9f7f-71c5c8b60bf2', rule: 'failed_logins', severity: 'warning', description: 'd', condition: 'count >= 5',
  group: { 'actor.id': 'alice' }, count: 5, window: '5m', window_ms: 300_000, first_time: '1', last_time: '2', record_ids: ['x'], omitted_record_ids: 0, stream: 's',
};

interface Received {
  body: string;
  signature: string | undefined;
  alertId: string | undefined;
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

/** A receiver on 127.0.0.1:0 that answers with the given statuses in turn (last one repeats), or hangs when 0. */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString(), signature: req.headers['x-audit-signature'] as string | undefined, alertId: req.headers['x-audit-alert-id'] as string | undefined });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      if (status === 0) return; // hang
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/audit`, received };
}

const fast = { initialBackoffMillis: 10, maxBackoffMillis: 40 };

describe('WebhookNotifier', () => {
  it('signs the JSON body; retried after two 500s and delivered on the third attempt', async () => {
    const { url, received } = await receiver([500, 500, 200]);
    const webhook = new WebhookNotifier({ url, allowedUrls: [url.replace('/hooks/audit', '/hooks')], secret: SECRET, ...fast });
    await webhook.notify(alert);
    expect(received).toHaveLength(3);
    for (const r of received) {
      expect(JSON.parse(r.body)).toEqual(alert);
      expect(r.signature).toBe(signWebhookBody(r.body, SECRET));
      expect(verifyWebhookSignature(r.body, r.signature, SECRET)).toBe(true);
      expect(verifyWebhookSignature(r.body, r.signature, 'another-secret-of-enough-length')).toBe(false);
      expect(r.alertId).toBe(alert.id);
    }
  });

  it('gives up after maxAttempts with the attempts and no URL path or secret in the message', async () => {
    const { url, received } = await receiver([503]);
    const webhook = new WebhookNotifier({ url: `${url}?token=s3cr3t`, allowedUrls: [url], secret: SECRET, maxAttempts: 3, ...fast });
    const error = await webhook.notify(alert).then(() => undefined, (e: unknown) => e as AlertNotifyError);
    expect(error).toBeInstanceOf(AlertNotifyError);
    expect(error).toMatchObject({ code: 'AUDIT_ALERT_NOTIFY_FAILED', notifier: 'webhook', rule: 'failed_logins', alertId: alert.id, attempts: 3 });
    expect(error!.message).toMatch(/HTTP 503/);
    expect(error!.message).not.toMatch(/s3cr3t|hooks|a-webhook-secret/);
    expect(received).toHaveLength(3);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const { url, received } = await receiver([400]);
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, ...fast });
    await expect(webhook.notify(alert)).rejects.toMatchObject({ attempts: 1 });
    expect(received).toHaveLength(1);
  });

  it('times out a receiver that does not answer, and retries', async () => {
    const { url, received } = await receiver([0, 200]);
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, timeoutMillis: 100, ...fast });
    const started = Date.now();
    await webhook.notify(alert);
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const hanging = await receiver([0]);
    const once = new WebhookNotifier({ url: hanging.url, allowedUrls: [hanging.url], secret: SECRET, timeoutMillis: 50, maxAttempts: 1 });
    await expect(once.notify(alert)).rejects.toThrow(/timed out after 50 ms/);
  });

  it('fails a delivery waiting for a retry at shutdown', async () => {
    const { url } = await receiver([500]);
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, initialBackoffMillis: 60_000, maxBackoffMillis: 60_000 });
    const pending = webhook.notify(alert);
    await new Promise((r) => setTimeout(r, 50));
    await webhook.shutdown();
    await expect(pending).rejects.toThrow(/shut down before delivery \(HTTP 500\)/);
  });

  it('refuses a URL that is not on the allow-list, without echoing its path', () => {
    const make = (url: string, allowedUrls: string[]) => () => new WebhookNotifier({ url, allowedUrls, secret: SECRET });
    const refused = (fn: () => unknown): AlertConfigError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(AlertConfigError);
        return e as AlertConfigError;
      }
      throw new Error('expected a refusal');
    };
    const e = refused(make('https://evil.example/T000/B000/XXXX', ['https://hooks.example.com/']));
    expect(e.path).toBe('url');
    expect(e.message).toMatch(/url: not on the allow-list \(got "https:\/\/evil\.example\/…"\); add its prefix to allowedUrls/);
    expect(e.message).not.toMatch(/XXXX/);
    // Path prefixes stop at a segment boundary; scheme and port must match.
    expect(refused(make('https://hooks.example.com/auditor', ['https://hooks.example.com/audit'])).path).toBe('url');
    expect(refused(make('http://hooks.example.com/audit', ['https://hooks.example.com/audit'])).path).toBe('url');
    expect(refused(make('https://hooks.example.com:8443/audit', ['https://hooks.example.com/audit'])).path).toBe('url');
    expect(() => make('https://hooks.example.com/audit/x', ['https://hooks.example.com/audit'])()).not.toThrow();
    expect(refused(make('https://user:pw@hooks.example.com/audit', ['https://hooks.example.com/'])).message).toMatch(/credentials/);
    expect(refused(make('ftp://hooks.example.com/', ['https://hooks.example.com/'])).path).toBe('url');
    expect(refused(make('https://hooks.example.com/', [])).path).toBe('allowedUrls');
    // An allow-list given as one string, or entries that are not strings, are refused without quoting them either.
    const notList = refused(make('https://hooks.example.com/', 'https://user:Zq8pw@hooks.example.com/T000/Zq8token' as unknown as string[]));
    expect(notList.path).toBe('allowedUrls');
    expect(notList.message).toContain('(not shown)');
    const notText = refused(make('https://hooks.example.com/', [{ href: 'https://user:Zq8pw@hooks.example.com/T000/Zq8token' }] as unknown as string[]));
    expect(notText.path).toBe('allowedUrls[0]');
    expect(`${notList.message}${notText.message}${JSON.stringify([notList.value, notText.value])}`).not.toMatch(/Zq8/);
    const short = refused(() => new WebhookNotifier({ url: 'https://h.example/', allowedUrls: ['https://h.example/'], secret: 'short' }));
    expect(short.path).toBe('secret');
    expect(short.message).not.toMatch(/short"/);
  });

  it('does not follow redirects', async () => {
    const { url, received } = await receiver([302]);
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, ...fast });
    await expect(webhook.notify(alert)).rejects.toThrow(/HTTP 302/);
    expect(received).toHaveLength(1);
  });

  /** A loopback receiver that records when each request ended and answers through `answer(n)` (n = 1, 2, ...). */
  async function timedReceiver(answer: (n: number, res: http.ServerResponse) => void): Promise<{ url: string; times: number[] }> {
    const times: number[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(times.push(performance.now()), res));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, times };
  }

  it('honours Retry-After on a 429 (seconds or HTTP date) instead of its own short backoff', async () => {
    const { url, times } = await timedReceiver((n, res) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end()));
    await new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, initialBackoffMillis: 10, maxBackoffMillis: 20 }).notify(alert);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('backs off with jitter: each wait lies in [d/2, d] and the waits differ', async () => {
    const { url, times } = await timedReceiver((_n, res) => res.writeHead(503).end());
    const webhook = new WebhookNotifier({ url, allowedUrls: [url], secret: SECRET, maxAttempts: 5, initialBackoffMillis: 200, maxBackoffMillis: 200 });
    await expect(webhook.notify(alert)).rejects.toBeInstanceOf(AlertNotifyError);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toHaveLength(4);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(95);
      expect(g).toBeLessThan(400);
    }
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(2);
  });
});
