import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { requestReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, DEFAULT_REDACTION_PATTERNS, InMemoryAuditSink, REDACTION_MASK, type RedactionOptions } from '../src/index.js';
import { Redactor } from '../src/internal/redactor.js';
import { KEYS, verifySink } from './helpers.js';

const SECRET = 'S3cr3t-Hunter2-Value';
const HMAC_KEY = 'k'.repeat(32);
const hmac = (v: string) => `hmac-sha256:${createHmac('sha256', HMAC_KEY).update(v).digest('hex')}`;

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

async function run(redaction: RedactionOptions) {
  const sink = new InMemoryAuditSink();
  const exporter = new InMemoryLogRecordExporter();
  const processor = new AuditLogRecordProcessor({ stream: 'r/1', sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, redaction });
  const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
  providers.push(provider);
  await processor.ready();
  const body = {
    type: 'crud',
    action: 'update',
    actor: { id: 'alice', ip: '203.0.113.9' },
    details: { user: { name: 'bob', Password: SECRET, nested: [{ apiToken: SECRET }] }, note: 'ok', cardNumber: SECRET },
    old: { credentials: { client_secret: SECRET } },
    new: { authorization: `Bearer ${SECRET}`, plan: 'pro' },
  };
  const receipt = requestReceipt(body);
  provider.getLogger('otel-audit').emit({ body, attributes: { 'http.request.header.authorization': SECRET, 'client.address': '203.0.113.9', session_cookie: SECRET } });
  await receipt;
  await processor.forceFlush();
  const out = exporter.getFinishedLogRecords().at(-1)!;
  const stored = sink.records.at(-1)!;
  return { sink, out, stored, everything: JSON.stringify({ records: sink.records, body: out.body, attributes: out.attributes }) };
}

describe('redaction (DESIGN §4.5)', () => {
  it('mask: nested secrets in details/old/new, configured patterns and pointers are replaced and listed; the secret reaches no sink, body or attribute', async () => {
    const { sink, out, stored, everything } = await run({ patterns: [/card/i], pointers: ['/actor/ip'] });
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('203.0.113.9');
    expect(stored.record.details).toEqual({ cardNumber: REDACTION_MASK, note: 'ok', user: { Password: REDACTION_MASK, name: 'bob', nested: [{ apiToken: REDACTION_MASK }] } });
    // `credential` is a default name: the whole member is replaced.
    expect(stored.record.old).toEqual({ credentials: REDACTION_MASK });
    expect(stored.record.new).toEqual({ authorization: REDACTION_MASK, plan: 'pro' });
    expect(stored.record.actor).toEqual({ id: 'alice', ip: REDACTION_MASK });
    expect(stored.record.redacted).toEqual([
      '/actor/ip', '/details/cardNumber', '/details/user/Password', '/details/user/nested/0/apiToken', '/new/authorization', '/old/credentials',
    ]);
    expect(out.body).toBe(stored.canonical);
    expect(out.attributes['client.address']).toBe(REDACTION_MASK);
    expect(out.attributes['http.request.header.authorization']).toBe(REDACTION_MASK);
    expect(out.attributes['session_cookie']).toBe(REDACTION_MASK);
    expect(verifySink(sink).ok).toBe(true);
  });

  it('hmac: values become hmac-sha256:<hex> keyed by the configured key, so an investigator holding a value can check it', async () => {
    const { stored, everything } = await run({ mode: 'hmac', hmacKey: HMAC_KEY, patterns: [/card/i], pointers: ['/actor/ip'] });
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(HMAC_KEY);
    const d = stored.record.details as { user: { Password: string } };
    expect(d.user.Password).toBe(hmac(SECRET));
    expect((stored.record.new as { authorization: string }).authorization).toBe(hmac(`Bearer ${SECRET}`));
    expect(stored.record.actor!.ip).toBe(hmac('203.0.113.9'));
    // a non-string value is keyed over its canonical JSON
    const r = new Redactor({ mode: 'hmac', hmacKey: HMAC_KEY });
    expect(r.hook.replace({ b: 1, a: [2] })).toBe(hmac('{"a":[2],"b":1}'));
  });

  it('the usual spellings of the default names (X-Api-Key, privateKey, creditCard) are redacted, and a credential written inside any string (URL userinfo, api_key=, Bearer) is masked, in both modes', async () => {
    for (const mode of ['mask', 'hmac'] as const) {
      const sink = new InMemoryAuditSink();
      const processor = new AuditLogRecordProcessor({ stream: `r/${mode}`, sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, redaction: mode === 'hmac' ? { mode, hmacKey: HMAC_KEY } : { mode } });
      const provider = new LoggerProvider({ processors: [processor] });
      providers.push(provider);
      await processor.ready();
      const body = {
        type: 'api', action: 'call', error: 'connect failed: postgres://admin:sup3rpw@db/x',
        details: { headers: { 'X-Api-Key': 'xak-1' }, privateKey: 'pk-1', creditCard: 'cc-4111-x', url: 'https://bob:hunter2pw@db.example/x?api_key=QQQ9&page=2', note: 'retried with Bearer abc.def9', plain: 'a=b is fine' },
      };
      const receipt = requestReceipt(body);
      provider.getLogger('otel-audit').emit({ body });
      await receipt;
      const r = sink.records.at(-1)!;
      // Secrets that cannot occur by chance in the record's time, id or hashes (a bare '4111' once did).
      for (const secret of ['xak-1', 'pk-1', 'cc-4111-x', 'hunter2pw', 'QQQ9', 'abc.def9', 'sup3rpw']) expect(r.canonical, `${mode}: ${secret}`).not.toContain(secret);
      const named = mode === 'mask' ? () => REDACTION_MASK : hmac;
      expect(r.record.details).toEqual({
        headers: { 'X-Api-Key': named('xak-1') }, privateKey: named('pk-1'), creditCard: named('cc-4111-x'),
        url: 'https://***@db.example/x?api_key=***&page=2', note: 'retried with Bearer ***', plain: 'a=b is fine',
      });
      expect(r.record.error).toBe('connect failed: postgres://***@db/x');
      expect(r.record.redacted).toEqual(['/details/creditCard', '/details/headers/X-Api-Key', '/details/note', '/details/privateKey', '/details/url', '/error']);
      expect(verifySink(sink).ok).toBe(true);
    }
  });

  it('compiles the default patterns: case-insensitive substrings; disabled on request', () => {
    const r = new Redactor(undefined);
    for (const p of DEFAULT_REDACTION_PATTERNS) expect(r.matchName(`x_${p.toUpperCase()}_y`)).toBe(true);
    expect(r.matchName('username')).toBe(false);
    const none = new Redactor({ defaultPatterns: false, patterns: ['iban'] });
    expect(none.matchName('password')).toBe(false);
    expect(none.matchName('IBAN_number')).toBe(true);
    const g = new Redactor({ defaultPatterns: false, patterns: [/^k/g] });
    expect([g.matchName('key'), g.matchName('key'), g.matchName('key')]).toEqual([true, true, true]); // no lastIndex state
  });

  it('the added default names (pwd, passphrase, credential(s), privKey, card numbers) are redacted; author, authority, signature and session names are not', () => {
    const r = new Redactor(undefined);
    for (const name of ['pwd', 'db_pwd', 'Passphrase', 'ssh_passphrase', 'credentials', 'awsCredential', 'privKey', 'priv_key', 'private-key', 'card_number', 'cardNumber', 'card-num', 'payment_card_number']) expect(r.matchName(name), name).toBe(true);
    for (const name of ['card_type', 'card_holder', 'cardLast4']) expect(r.matchName(name), name).toBe(false);
    for (const name of ['author', 'authority', 'signature', 'session', 'session_id', 'sessionId', 'username', 'keyboard']) expect(r.matchName(name), name).toBe(false);
  });

  it('matches the default words as names read, and keeps each answer while names come and go from its cache', () => {
    const r = new Redactor(undefined);
    for (const name of ['\uff50\uff49\uff4e', 'p\u00adin', 'mfa\u200b_code']) expect(r.matchName(name), name).toBe(true);
    for (let i = 0; i < 3000; i++) {
      expect(r.matchName(`pin_${i}`)).toBe(true);
      expect(r.matchName(`spinner_${i}`)).toBe(false);
    }
    expect([r.matchName('pin'), r.matchName('pin'), r.matchName('topic'), r.matchName('topic')]).toEqual([true, true, false, false]);
  });

  it('short secret names (pass, pw, pin, otp, cvv, mfa_code) are redacted as whole words in the record and in attributes; passport, compass, spinner, topic are not; defaultPatterns: false keeps them', async () => {
    const emit = async (redaction: RedactionOptions | undefined, stream: string) => {
      const sink = new InMemoryAuditSink();
      const exporter = new InMemoryLogRecordExporter();
      const processor = new AuditLogRecordProcessor({ stream, sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, ...(redaction ? { redaction } : {}) });
      const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
      providers.push(provider);
      await processor.ready();
      const body = {
        type: 'auth', action: 'login',
        details: {
          body: { user: 'bob', pass: 'Zq8-pass', pw: 'Zq8-pw', pin: '4821', otp: '918273', mfa_code: '554433', cvv: '123', '2FACode': '771', newPin2: '0000', backup_codes: ['Zq8-a', 'Zq8-b'] },
          passport: 'X1', compass: 'N', shipping: 'fast', spinner: true, topic: 'billing', status_code: 401,
        },
      };
      const receipt = requestReceipt(body);
      provider.getLogger('otel-audit').emit({ body, attributes: { 'user.pin': 'Zq8-attr', 'app.topic': 'billing' } });
      await receipt;
      await processor.forceFlush();
      return { sink, stored: sink.records.at(-1)!, attributes: exporter.getFinishedLogRecords().at(-1)!.attributes };
    };
    const { sink, stored, attributes } = await emit(undefined, 'r/words');
    expect(stored.record.details).toEqual({
      body: {
        user: 'bob', pass: REDACTION_MASK, pw: REDACTION_MASK, pin: REDACTION_MASK, otp: REDACTION_MASK, mfa_code: REDACTION_MASK, cvv: REDACTION_MASK,
        '2FACode': REDACTION_MASK, newPin2: REDACTION_MASK, backup_codes: REDACTION_MASK,
      },
      passport: 'X1', compass: 'N', shipping: 'fast', spinner: true, topic: 'billing', status_code: 401,
    });
    expect(stored.record.redacted).toEqual([
      '/details/body/2FACode', '/details/body/backup_codes', '/details/body/cvv', '/details/body/mfa_code', '/details/body/newPin2',
      '/details/body/otp', '/details/body/pass', '/details/body/pin', '/details/body/pw',
    ]);
    // Digits as JSON strings: bare, they can occur by chance in the record's time, id or hashes.
    for (const secret of ['Zq8', '"4821"', '"918273"', '"554433"', '"123"', '"771"', '"0000"']) expect(stored.canonical, secret).not.toContain(secret);
    expect(attributes['user.pin']).toBe(REDACTION_MASK);
    expect(attributes['app.topic']).toBe('billing');
    expect(verifySink(sink).ok).toBe(true);
    // The switch that turns the default patterns off turns the words off too.
    const off = await emit({ defaultPatterns: false }, 'r/words-off');
    expect((off.stored.record.details as { body: Record<string, unknown> }).body).toMatchObject({ pass: 'Zq8-pass', pin: '4821', mfa_code: '554433' });
    expect(off.stored.record.redacted).toBeUndefined();
    expect(off.attributes['user.pin']).toBe('Zq8-attr');
  });

  it('masks credentials written in member names and in actor/target/request text, never matches those members by name, and the record verifies', async () => {
    const sink = new InMemoryAuditSink();
    // Patterns that would match the record's own members if they applied to them.
    const processor = new AuditLogRecordProcessor({ stream: 'r/names', sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, redaction: { patterns: ['session', 'agent', 'endpoint'] } });
    const provider = new LoggerProvider({ processors: [processor] });
    providers.push(provider);
    await processor.ready();
    const body = {
      type: 'api', action: 'call',
      actor: { id: 'deploy-bot', user_agent: 'deploy-bot https://ci:Zq8ua@git.example.com' },
      target: { type: 'url', name: 'https://u:Zq8tn@h/x' },
      request: { endpoint: '/api/m;access_token=Zq8ep', session_id: 'sess-42', method: 'GET' },
      details: { sessions: { sess_Zq8a1b2c3d4: { user: 'alice' } }, 'Bearer Zq8b': 1, pem: '-----BEGIN PRIVATE KEY-----\nMIIZq8\n-----END PRIVATE KEY-----' },
    };
    const receipt = requestReceipt(body);
    provider.getLogger('otel-audit').emit({ body });
    await receipt;
    const r = sink.records.at(-1)!;
    expect(r.canonical).not.toContain('Zq8');
    expect(r.record.actor).toEqual({ id: 'deploy-bot', user_agent: 'deploy-bot https://***@git.example.com' });
    expect(r.record.target).toEqual({ type: 'url', name: 'https://***@h/x' });
    expect(r.record.request).toEqual({ endpoint: '/api/m;access_token=***', session_id: 'sess-42', method: 'GET' });
    expect(r.record.details).toEqual({ 'Bearer ***': 1, pem: '-----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----', sessions: REDACTION_MASK });
    expect(r.record.redacted).toEqual(['/actor/user_agent', '/details/Bearer ***', '/details/pem', '/details/sessions', '/request/endpoint', '/target/name']);
    expect(verifySink(sink).ok).toBe(true);
  });

  it('matches names as they read: full-width, soft-hyphenated and zero-width spellings are redacted under the name given, in the record and in attributes', async () => {
    const sink = new InMemoryAuditSink();
    const exporter = new InMemoryLogRecordExporter();
    const processor = new AuditLogRecordProcessor({ stream: 'r/fold', sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10 });
    const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
    providers.push(provider);
    await processor.ready();
    const fullWidth = '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44';
    const body = { type: 'auth', action: 'login', details: { [fullWidth]: SECRET, 'pass\u00adword': SECRET, user: { 'api\u200bkey': SECRET, 'to\u2060ken': SECRET }, 'Grüße': 'hallo' } };
    const receipt = requestReceipt(body);
    provider.getLogger('otel-audit').emit({ body, attributes: { [`x-${fullWidth}`]: SECRET } });
    await receipt;
    await processor.forceFlush();
    const r = sink.records.at(-1)!;
    expect(r.record.details).toEqual({ [fullWidth]: REDACTION_MASK, 'pass\u00adword': REDACTION_MASK, user: { 'api\u200bkey': REDACTION_MASK, 'to\u2060ken': REDACTION_MASK }, 'Grüße': 'hallo' });
    expect(r.record.redacted).toEqual([`/details/pass\u00adword`, '/details/user/api\u200bkey', '/details/user/to\u2060ken', `/details/${fullWidth}`]);
    expect(exporter.getFinishedLogRecords().at(-1)!.attributes[`x-${fullWidth}`]).toBe(REDACTION_MASK);
    expect(JSON.stringify({ records: sink.records, attributes: exporter.getFinishedLogRecords().map((l) => l.attributes) })).not.toContain(SECRET);
    expect(verifySink(sink).ok).toBe(true);
  });

  it('masks credential forms in actor.id and target.id and lists them; other ids and request.session_id stay exact', async () => {
    const sink = new InMemoryAuditSink();
    const processor = new AuditLogRecordProcessor({ stream: 'r/ids', sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10 });
    const provider = new LoggerProvider({ processors: [processor] });
    providers.push(provider);
    await processor.ready();
    const jwt = 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJaCjEyMyJ9.Zq8sig';
    for (const body of [
      { type: 'api', action: 'call', actor: { id: 'ghp_Zq8a1B2c3D4e5F6g7H8' }, target: { type: 'jwt', id: jwt }, request: { session_id: 'sess-42' } },
      { type: 'api', action: 'call', actor: { id: 'user=alice' }, target: { type: 'user', id: 42 } },
    ]) {
      const receipt = requestReceipt(body);
      provider.getLogger('otel-audit').emit({ body });
      await receipt;
    }
    const [masked, plain] = sink.records.slice(-2).map((r) => r.record);
    expect(masked!.actor).toEqual({ id: 'ghp_***' });
    expect(masked!.target).toEqual({ type: 'jwt', id: '***' });
    expect(masked!.request).toEqual({ session_id: 'sess-42' });
    expect(masked!.redacted).toEqual(['/actor/id', '/target/id']);
    expect(plain!.actor).toEqual({ id: 'user=alice' });
    expect(plain!.target).toEqual({ type: 'user', id: '42' });
    expect(plain!.redacted).toBeUndefined();
    expect(JSON.stringify(sink.records)).not.toContain('Zq8');
    expect(verifySink(sink).ok).toBe(true);
  });

  it('refuses bad configuration with the option named', () => {
    expect(() => new Redactor({ mode: 'rot13' as never })).toThrow('options.redaction.mode must be "mask" or "hmac"; got "rot13"');
    // A key put in the mode by mistake is not echoed.
    let message = '';
    try {
      new Redactor({ mode: HMAC_KEY as never, hmacKey: HMAC_KEY });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^options.redaction.mode must be "mask" or "hmac"; got a string of 32 characters/);
    expect(message).not.toContain(HMAC_KEY);
    expect(() => new Redactor({ mode: 42 as never })).toThrow(/got number$/);
    expect(() => new Redactor({ mode: 'hmac', hmacKey: 'short' })).toThrow(/at least 16 bytes/);
    expect(() => new Redactor({ patterns: [42 as never] })).toThrow(/patterns\[0\]/);
    expect(() => new Redactor({ pointers: ['details/x'] })).toThrow(/pointers\[0\]/);
    expect(() => new Redactor({ pointers: ['/seq'] })).toThrow(/cannot be redacted/);
    expect(() => new Redactor({ pointers: ['/error/x'] })).toThrow(/no members/);
  });

  it('pointer redaction copies the producer containers instead of writing into them', () => {
    const r = new Redactor({ pointers: ['/details/a/b', '/details/list/1', '/details/missing/x'] });
    const details = { a: { b: 'secret', c: 1 }, list: ['x', 'y'] };
    const event: Record<string, unknown> = { details };
    r.applyPointers(event);
    expect(event.details).toEqual({ a: { b: REDACTION_MASK, c: 1 }, list: ['x', REDACTION_MASK] });
    expect(details).toEqual({ a: { b: 'secret', c: 1 }, list: ['x', 'y'] });
    expect(event.redacted).toEqual(['/details/a/b', '/details/list/1']);
  });
});
