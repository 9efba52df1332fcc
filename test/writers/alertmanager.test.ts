// Alertmanager writer: which alerts notifications fire and resolve, the config checks, a real
// Alertmanager (Debian's prometheus-alertmanager) read back through its API and through what it
// delivers to its own webhook receiver, re-sending on an injected clock, and bad peers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { AlertmanagerWriter, type AlertmanagerConfig } from '../../src/writers/alertmanager/index.js';
import { AlertState, annotationName, type Alert } from '../../src/writers/alertmanager/alerts.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { ParamError, type Notification, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { needs } from '../helpers/servers.js';
import { alertmanager, type Alertmanager } from '../helpers/alertmanager.js';
import { receiver, type Receiver } from '../helpers/http-receiver.js';
import { ManualClock, waitUntil } from '../helpers/clock.js';
import { freePort } from '../helpers/net.js';
import { point, batch } from '../helpers/points.js';

const SCHEMA = writerParamsSchema(AlertmanagerWriter.schema, 'Alertmanager');

function configOf(params: Record<string, unknown>): AlertmanagerConfig {
  const data = { type: 'Alertmanager', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as AlertmanagerConfig;
}

function writer(params: Record<string, unknown>, clock?: ManualClock): { w: AlertmanagerWriter; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir: '.', tickTime: 1, log, reportDropped: () => {} };
  const w = new AlertmanagerWriter(configOf(params), ctx);
  w.id = 'Alertmanager#1';
  if (clock) w.clock = clock;
  w.start(ctx);
  return { w, lines };
}

function notification(severity: Notification['severity'], over: Partial<Notification> = {}): Notification {
  return {
    time: Date.now(),
    severity,
    host: 'db1',
    plugin: 'cpu',
    pluginInstance: '0',
    type: 'percent',
    typeInstance: 'user',
    message: `Host db1, plugin cpu (instance 0) type percent (instance user): ${severity}`,
    source: 'threshold',
    ...over,
  };
}

function paramError(fn: () => unknown): ParamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParamError) return err;
    throw err;
  }
  throw new Error('no ParamError');
}

describe('AlertState', () => {
  const T = 1_700_000_000_000;
  const n = (severity: Notification['severity'], time = T, over: Partial<Notification> = {}) => notification(severity, { time, ...over });

  it('a failure fires, a repeat keeps its startsAt, an okay resolves it at now', () => {
    const s = new AlertState({ labels: { team: 'ops' } });
    const [fired] = s.apply(n('failure'), T, T + 240_000) as [Alert];
    expect(fired).toEqual({
      labels: {
        alertname: 'cpu_percent',
        team: 'ops',
        severity: 'failure',
        host: 'db1',
        plugin: 'cpu',
        plugin_instance: '0',
        type: 'percent',
        type_instance: 'user',
      },
      annotations: { summary: n('failure').message, description: n('failure').message, source: 'threshold' },
      startsAt: '2023-11-14T22:13:20.000Z',
      endsAt: '2023-11-14T22:17:20.000Z',
    });
    const [again] = s.apply(n('failure', T + 10_000), T + 10_000, T + 250_000) as [Alert];
    expect(again.startsAt).toBe(fired.startsAt);
    expect(again.endsAt).toBe('2023-11-14T22:17:30.000Z');
    const resolved = s.apply(n('okay', T + 20_000), T + 20_000, T + 260_000);
    expect(resolved).toEqual([{ ...again, endsAt: '2023-11-14T22:13:40.000Z' }]);
    expect(s.size).toBe(0);
  });

  it('warning to failure resolves the warning alert and fires the failure one (severity is a label)', () => {
    const s = new AlertState({ labels: {} });
    s.apply(n('warning'), T, T + 1000);
    const out = s.apply(n('failure', T + 5000), T + 5000, T + 6000);
    expect(out.map((a) => [a.labels.severity, a.startsAt, a.endsAt])).toEqual([
      ['warning', '2023-11-14T22:13:20.000Z', '2023-11-14T22:13:25.000Z'],
      ['failure', '2023-11-14T22:13:25.000Z', '2023-11-14T22:13:26.000Z'],
    ]);
    expect(s.size).toBe(1);
  });

  it('an okay it never saw fire (pollect restarted) resolves both severities', () => {
    const s = new AlertState({ labels: {} });
    expect(s.apply(n('okay'), T + 1, T + 2).map((a) => [a.labels.severity, a.endsAt])).toEqual([
      ['warning', '2023-11-14T22:13:20.001Z'],
      ['failure', '2023-11-14T22:13:20.001Z'],
    ]);
  });

  it('identities are separate; empty fields are no labels; meta become annotations with names Alertmanager takes', () => {
    const s = new AlertState({ labels: { alertname: 'HostCheck' }, generatorURL: 'https://grafana.example/d/1' });
    s.apply(n('failure'), T, T + 1);
    const [a] = s.apply(
      n('warning', T, { pluginInstance: '', type: undefined, typeInstance: undefined, meta: { 'data-source': 'value', '1x': 2, ok: true } }),
      T,
      T + 1,
    ) as [Alert];
    expect(s.size).toBe(2);
    expect(a.labels).toEqual({ alertname: 'HostCheck', severity: 'warning', host: 'db1', plugin: 'cpu' });
    expect(a.annotations).toMatchObject({ data_source: 'value', _1x: '2', ok: 'true' });
    expect(a.generatorURL).toBe('https://grafana.example/d/1');
    expect(annotationName('a.b-c')).toBe('a_b_c');
  });

  it('a notification stamped after the clock still resolves with endsAt not before startsAt', () => {
    const s = new AlertState({ labels: {} });
    s.apply(n('failure', T + 5000), T, T + 1);
    const [r] = s.apply(n('okay', T + 6000), T, T + 1) as [Alert];
    expect(Date.parse(r.endsAt)).toBeGreaterThanOrEqual(Date.parse(r.startsAt));
  });
});

describe('Alertmanager config', () => {
  it('checks URLs, labels and auth with the param path', () => {
    const ctx = { configDir: '.', tickTime: 1, log: createLogger('', { level: 'error', write: () => {} }) };
    const make = (p: Record<string, unknown>) => () => new AlertmanagerWriter(configOf(p), ctx);
    expect(paramError(make({ url: 'localhost:9093' })).param).toBe('url');
    expect(paramError(make({ url: ['http://a:9093', 'ftp://b'] })).param).toBe('url.1');
    expect(paramError(make({ url: 'http://a:9093', labels: { 'bad-name': 'x' } })).param).toBe('labels.bad-name');
    expect(paramError(make({ url: 'http://a:9093', labels: { severity: 'x' } })).param).toBe('labels.severity');
    expect(paramError(make({ url: 'http://a:9093', password: 'x' })).param).toBe('password');
    expect(paramError(make({ url: 'http://a:9093', tls: { ca: 'ca.pem' } })).param).toBe('tls');
    expect(validate(SCHEMA, { type: 'Alertmanager' }, []).join()).toMatch(/url/);
    expect(validate(SCHEMA, { type: 'Alertmanager', url: [] }, []).length).toBeGreaterThan(0);
    expect(validate(SCHEMA, { type: 'Alertmanager', url: 'http://a', resendInterval: 0 }, []).length).toBeGreaterThan(0);
  });
});

describe.skipIf(!needs('prometheus-alertmanager'))('against a real Alertmanager', () => {
  let am: Alertmanager;
  beforeAll(async () => {
    am = await alertmanager();
  }, 30_000);
  afterAll(async () => {
    await am?.remove();
  });

  it('a failure is an active alert with our labels; okay resolves it, as Alertmanager itself reports', async () => {
    const { w } = writer({ url: am.url, labels: { team: 'ops' }, generatorURL: 'http://pollect.example/' });
    const n = notification('failure', { host: 'am-test-1' });
    await w.notify([n]);
    const active = (await am.alerts()).filter((a) => a.labels.host === 'am-test-1');
    expect(active).toHaveLength(1);
    expect(active[0]!.labels).toEqual({
      alertname: 'cpu_percent',
      team: 'ops',
      severity: 'failure',
      host: 'am-test-1',
      plugin: 'cpu',
      plugin_instance: '0',
      type: 'percent',
      type_instance: 'user',
    });
    expect(active[0]!.annotations.summary).toBe(n.message);
    expect(active[0]!.status.state).toBe('active');
    expect(active[0]!.generatorURL).toBe('http://pollect.example/');
    expect(Date.parse(active[0]!.startsAt)).toBe(n.time);
    // Valid for 4 re-send intervals.
    expect(Date.parse(active[0]!.endsAt) - Date.now()).toBeGreaterThan(200_000);
    await waitUntil(() => am.deliveries.some((d) => d.alerts.some((a) => a.labels.host === 'am-test-1' && a.status === 'firing')), 10_000);

    await w.notify([notification('okay', { host: 'am-test-1' })]);
    expect((await am.alerts()).filter((a) => a.labels.host === 'am-test-1')).toEqual([]);
    await waitUntil(() => am.deliveries.some((d) => d.alerts.some((a) => a.labels.host === 'am-test-1' && a.status === 'resolved')), 10_000);
    const resolved = am.deliveries.flatMap((d) => d.alerts).find((a) => a.labels.host === 'am-test-1' && a.status === 'resolved')!;
    expect(resolved.labels.severity).toBe('failure');
    expect(Date.parse(resolved.startsAt)).toBe(n.time);
    await w.stop();
  }, 20_000);

  it('warning then failure: Alertmanager holds only the failure alert; samples are ignored', async () => {
    const { w } = writer({ url: am.url });
    await w.write(batch([point('c.Dummy', 1)]));
    await w.notify([notification('warning', { host: 'am-test-2' })]);
    await w.notify([notification('failure', { host: 'am-test-2' })]);
    const active = (await am.alerts()).filter((a) => a.labels.host === 'am-test-2');
    expect(active.map((a) => a.labels.severity)).toEqual(['failure']);
    await w.notify([notification('okay', { host: 'am-test-2' })]);
    expect((await am.alerts()).filter((a) => a.labels.host === 'am-test-2')).toEqual([]);
    await w.stop();
  });

  it('re-sends firing alerts every resendInterval on the injected clock, moving endsAt on', async () => {
    const clock = new ManualClock(Date.now());
    const { w } = writer({ url: am.url, resendInterval: 30 }, clock);
    await w.notify([notification('failure', { host: 'am-test-3', time: clock.now() })]);
    const first = (await am.alerts()).find((a) => a.labels.host === 'am-test-3')!;
    expect(Date.parse(first.endsAt)).toBe(clock.now() + 120_000);
    await clock.advance(30_000);
    await waitUntil(() => w['resending'] === undefined);
    const again = (await am.alerts()).find((a) => a.labels.host === 'am-test-3')!;
    expect(Date.parse(again.endsAt)).toBe(Date.parse(first.endsAt) + 30_000);
    expect(again.startsAt).toBe(first.startsAt);
    await w.notify([notification('okay', { host: 'am-test-3' })]);
    await w.stop();
  });

  it('sends to every Alertmanager: one that is down is logged once, the alert still taken', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { w, lines } = writer({ url: [dead, am.url] });
    await w.notify([notification('failure', { host: 'am-test-4' })]);
    await w.notify([notification('failure', { host: 'am-test-4' })]);
    expect((await am.alerts()).filter((a) => a.labels.host === 'am-test-4')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('connection refused'))).toHaveLength(1);
    await w.notify([notification('okay', { host: 'am-test-4' })]);
    await w.stop();
  });
});

describe.skipIf(!needs('prometheus-alertmanager'))('a real Alertmanager with basic auth', () => {
  let am: Alertmanager;
  beforeAll(async () => {
    am = await alertmanager({ webConfig: `basic_auth_users:\n  pollect: ${bcrypt.hashSync('s3cret', 4)}\n` });
  }, 30_000);
  afterAll(async () => {
    await am?.remove();
  });

  it('the right password is taken; a wrong one is refused (401), logged, not retried', async () => {
    const good = writer({ url: am.url, username: 'pollect', password: 's3cret' });
    await good.w.notify([notification('failure', { host: 'am-auth' })]);
    const auth = { Authorization: `Basic ${Buffer.from('pollect:s3cret').toString('base64')}` };
    expect((await am.alerts(auth)).map((a) => a.labels.host)).toEqual(['am-auth']);
    const bad = writer({ url: am.url, username: 'pollect', password: 'wrong' });
    await bad.w.notify([notification('failure', { host: 'am-auth-2' })]);
    expect(bad.lines.join('\n')).toMatch(/refused 1 alert\(s\): 401 Unauthorized/);
    expect(bad.lines.join('\n')).not.toContain('wrong');
    // Not logged again on every re-send.
    await bad.w.notify([notification('failure', { host: 'am-auth-3' })]);
    expect(bad.lines.filter((l) => l.includes('401'))).toHaveLength(1);
    await good.w.stop();
    await bad.w.stop();
  });
});

describe('bad Alertmanagers', () => {
  let r: Receiver;
  beforeAll(async () => {
    r = await receiver();
  });
  afterAll(async () => {
    await r.close();
  });

  it('500 and garbage are thrown for the core to retry; a retry sends the same alerts, not the notifications applied twice', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { w } = writer({ url: r.url, resendInterval: 1000 }, clock);
    r.requests.length = 0;
    r.answer = { status: 500, body: 'boom' };
    const failure = notification('failure', { time: clock.now() });
    const okay = notification('okay', { host: 'other' });
    // The core hands a retry a new list: the same notifications, maybe more behind them.
    await expect(w.notify([failure])).rejects.toThrow(/answered 500 Internal Server Error: boom/);
    r.answer = 'garbage';
    await clock.advance(300_000);
    await expect(w.notify([failure, okay])).rejects.toThrow(/Parse Error|cannot reach/);
    r.answer = { status: 200 };
    await clock.advance(300_000);
    await w.notify([failure, okay]);
    expect(r.requests).toHaveLength(3);
    expect(r.requests.every((q) => q.url === '/api/v2/alerts' && q.method === 'POST' && q.headers['content-type'] === 'application/json')).toBe(true);
    const sent = r.requests.map((q) => JSON.parse(q.body) as Alert[]);
    // One firing alert, and the two resolved ones of an okay never seen firing (both severities), each time.
    expect(sent.map((alerts) => alerts.map((a) => `${a.labels.host} ${a.labels.severity}`))).toEqual([
      ['db1 failure'],
      ['db1 failure', 'other warning', 'other failure'],
      ['db1 failure', 'other warning', 'other failure'],
    ]);
    // Still firing when it finally went through: valid from then, not from the first attempt.
    expect(sent.map((alerts) => Date.parse(alerts[0]!.endsAt) - 1_700_000_000_000)).toEqual([4_000_000, 4_300_000, 4_600_000]);
    expect(new Set(sent.map((alerts) => alerts[0]!.startsAt)).size).toBe(1);
    // Its okay, retried: the same one resolved alert (applied twice, the second would resolve both severities).
    const resolve = notification('okay');
    r.answer = { status: 503 };
    await expect(w.notify([resolve])).rejects.toThrow(/503/);
    r.answer = { status: 200 };
    await w.notify([resolve]);
    const last = r.requests.slice(-2).map((q) => (JSON.parse(q.body) as Alert[]).map((a) => `${a.labels.host} ${a.labels.severity} ${a.endsAt}`));
    expect(last).toEqual([['db1 failure 2023-11-14T22:23:20.000Z'], ['db1 failure 2023-11-14T22:23:20.000Z']]);
    await w.stop();
  });

  it('400 (alerts Alertmanager refuses) is logged and not retried', async () => {
    const { w, lines } = writer({ url: r.url });
    r.answer = { status: 400, body: '{"code":400,"message":"start time must be before end time"}' };
    await expect(w.notify([notification('failure')])).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/refused 1 alert\(s\): 400 Bad Request: .*start time must be before end time/);
    r.answer = { status: 200 };
    await w.stop();
  });

  it('an Alertmanager that never answers fails the send at the timeout', async () => {
    const { w } = writer({ url: r.url, timeout: 0.3 });
    r.answer = 'hang';
    const t0 = Date.now();
    await expect(w.notify([notification('failure')])).rejects.toThrow(/no answer within 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(2000);
    r.answer = { status: 200 };
    await w.stop();
  });

  it('a path prefix is kept, a bearer token sent; nothing is re-sent once all resolved', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { w } = writer({ url: `${r.url}/am/`, bearerToken: 'tok', resendInterval: 10 }, clock);
    r.requests.length = 0;
    r.answer = { status: 200 };
    await w.notify([notification('failure', { time: clock.now() })]);
    await clock.advance(10_000);
    await waitUntil(() => r.requests.length === 2);
    expect(r.requests.map((q) => q.url)).toEqual(['/am/api/v2/alerts', '/am/api/v2/alerts']);
    expect(r.requests[0]!.headers.authorization).toBe('Bearer tok');
    const [a, b] = r.requests.map((q) => (JSON.parse(q.body) as Alert[])[0]!);
    expect(a!.startsAt).toBe(b!.startsAt);
    expect(Date.parse(b!.endsAt) - Date.parse(a!.endsAt)).toBe(10_000);
    await w.notify([notification('okay')]);
    await clock.advance(30_000);
    expect(r.requests).toHaveLength(3);
    await w.stop();
    expect(clock.pending).toBe(0);
  });
});
