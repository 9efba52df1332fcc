// Notifications through the core: a source's ctx.notify is stamped (time, host, plugin, source),
// logged once and handed to every writer that takes notifications, queued and retried per writer.
import os from 'node:os';
import path from 'node:path';
import { writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/executors/executor.js';
import { SourceRunner } from '../../src/executors/source-runner.js';
import { NOTIFICATION_QUEUE, WriterRuntime } from '../../src/executors/writer-runtime.js';
import { Source, Writer, type Batch, type Notification, type NotificationInput, type ProbeContext, type SourceConfig } from '../../src/sdk/index.js';
import { ExecSource } from '../../src/sources/exec/index.js';
import { CollectdPythonSource } from '../../src/sources/collectd-python/index.js';
import { needs, python3 } from '../helpers/servers.js';
import { DryRunWriter } from '../../src/writers/dryrun/index.js';
import { createLogger } from '../../src/log.js';
import { ManualClock } from '../helpers/clock.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

function logSink() {
  const lines: string[] = [];
  return { lines, log: createLogger('', { level: 'debug', write: (l) => lines.push(l) }) };
}

/** Emits what the test queues, one call of ctx.notify each, at its next probe. */
class Notifier extends Source<SourceConfig> {
  next: NotificationInput[] = [];
  probe(ctx: ProbeContext): number {
    for (const n of this.next.splice(0)) ctx.notify(n);
    return 1;
  }
}

/** Takes batches and notifications; notify() fails while `failing` is above zero. */
class NotifyWriter extends Writer {
  got: Notification[][] = [];
  failing = 0;
  write(_b: Batch): void {}
  override notify(list: readonly Notification[]): void {
    if (this.failing > 0) {
      this.failing--;
      throw new Error('receiver down');
    }
    this.got.push([...list]);
  }
}

class PlainWriter extends Writer {
  batches = 0;
  write(_b: Batch): void {
    this.batches++;
  }
}

function runner(source: Source<SourceConfig>, typeName = 'Notifier', log = logSink().log): SourceRunner {
  return new SourceRunner({ id: `c.${typeName}`, collection: 'c', typeName, source, tickTime: 10, maxBackoff: 300, log, configDir: '.' });
}

describe('notification routing', () => {
  it('stamps time, host, plugin and source, logs each once, and hands them only to writers with notify()', async () => {
    const src = build(Notifier, { type: 'Notifier', labels: { host: 'db1' } });
    const taker = new NotifyWriter({ type: 'T' });
    const plain = new PlainWriter({ type: 'P' });
    const { lines, log } = logSink();
    const ex = new Executor({
      collection: 'c',
      tickTime: 10,
      runners: [runner(src)],
      writers: [new WriterRuntime(taker, { bufferSize: 10, log }), new WriterRuntime(plain, { bufferSize: 10, log })],
      log,
    });
    src.next.push(
      { severity: 'failure', message: 'disk gone' },
      { severity: 'okay', message: 'named', time: 5, host: 'other', plugin: 'disk', pluginInstance: 'sda', type: 'disk_ops', meta: { k: 1 } },
    );
    await ex.runTick(1_700_000_000_000);
    await new Promise((r) => setImmediate(r));
    expect(taker.got).toEqual([
      [
        { severity: 'failure', message: 'disk gone', time: 1_700_000_000_000, host: 'db1', plugin: 'notifier', source: 'c.Notifier' },
        {
          severity: 'okay',
          message: 'named',
          time: 5,
          host: 'other',
          plugin: 'disk',
          pluginInstance: 'sda',
          type: 'disk_ops',
          meta: { k: 1 },
          source: 'c.Notifier',
        },
      ],
    ]);
    expect(plain.batches).toBe(1);
    const logged = lines.filter((l) => l.includes('notification'));
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/ERROR.*notification FAILURE db1\/notifier: disk gone/);
    expect(logged[1]).toMatch(/INFO.*notification OKAY other\/disk-sda\/disk_ops: named/);
    // A tick without notifications hands none on.
    await ex.runTick(1_700_000_010_000);
    await new Promise((r) => setImmediate(r));
    expect(taker.got).toHaveLength(1);
  });

  it('uses the machine name when no host label is set', async () => {
    const src = build(Notifier, { type: 'Notifier' });
    const taker = new NotifyWriter({ type: 'T' });
    const ex = new Executor({
      collection: 'c',
      tickTime: 10,
      runners: [runner(src)],
      writers: [new WriterRuntime(taker, { bufferSize: 10, log: logSink().log })],
    });
    src.next.push({ severity: 'warning', message: 'x' });
    await ex.runTick(1000);
    await new Promise((r) => setImmediate(r));
    expect(taker.got[0]![0]!.host).toBe(os.hostname());
  });

  it('retries a notify() that throws with backoff, logs the failure once and counts sent and dropped', async () => {
    const clock = new ManualClock();
    const w = new NotifyWriter({ type: 'T' });
    w.failing = 3;
    const { lines, log } = logSink();
    const r = new WriterRuntime(w, { bufferSize: 10, log, clock, retryMinMs: 100, retryMaxMs: 1000 });
    const n = (message: string): Notification => ({ time: 1, severity: 'warning', host: 'h', plugin: 'p', message, source: 's' });
    r.addNotifications([n('a')]);
    r.addNotifications([n('b')]);
    expect(w.got).toEqual([]);
    expect(lines.filter((l) => l.includes('notify failed'))).toHaveLength(1);
    await clock.advance(100); // 2nd attempt fails
    await clock.advance(200); // 3rd attempt fails
    expect(w.got).toEqual([]);
    await clock.advance(400); // 4th attempt: both, in order, in one call
    expect(w.got.map((l) => l.map((x) => x.message))).toEqual([['a', 'b']]);
    expect(r.notificationsSent).toBe(2);
    expect(lines.some((l) => l.includes('delivering notifications again after 3 failed attempt(s)'))).toBe(true);
    // Bounded: while the writer fails, the oldest beyond the queue's size are dropped.
    w.failing = 1;
    r.addNotifications([n('first')]);
    r.addNotifications(Array.from({ length: NOTIFICATION_QUEUE + 5 }, (_, i) => n(`m${i}`)));
    // 'first' failed and waits for its retry: it is the oldest, and goes.
    expect(r.notificationsDropped).toBe(6);
    expect(r.pendingNotifications).toBe(NOTIFICATION_QUEUE);
    expect(lines.filter((l) => l.includes('notification queue full'))).toHaveLength(1);
    await clock.advance(100);
    expect(w.got.at(-1)![0]!.message).toBe('m5');
    expect(w.got.at(-1)).toHaveLength(NOTIFICATION_QUEUE);
    expect(r.pendingNotifications).toBe(0);
    expect(r.stats().notifications).toEqual({ sent: 2 + NOTIFICATION_QUEUE, dropped: 6 });
    expect(new WriterRuntime(new PlainWriter({ type: 'P' }), { bufferSize: 1, log }).stats().notifications).toBeUndefined();
  });

  it('delivers queued notifications at flush, and counts what stop cannot deliver as dropped', async () => {
    const w = new NotifyWriter({ type: 'T' });
    w.failing = 1;
    const r = new WriterRuntime(w, { bufferSize: 10, log: logSink().log, retryMinMs: 60_000, retryMaxMs: 60_000 });
    r.addNotifications([{ time: 1, severity: 'okay', host: 'h', plugin: 'p', message: 'm', source: 's' }]);
    await r.flush(Date.now() + 2000); // the flush tries again at once
    expect(w.got).toHaveLength(1);
    w.failing = 100;
    r.addNotifications([{ time: 1, severity: 'okay', host: 'h', plugin: 'p', message: 'lost', source: 's' }]);
    await r.stop(Date.now() + 300);
    expect(r.notificationsDropped).toBe(1);
  });

  it('DryRun prints one line per notification, as text or JSON', () => {
    const out: string[] = [];
    const text = new DryRunWriter({ type: 'DryRun', format: 'text' });
    text.sink = (s) => void out.push(s);
    const n: Notification = {
      time: 1_700_000_000_000,
      severity: 'warning',
      host: 'h',
      plugin: 'exec',
      type: 'temperature',
      typeInstance: 'cpu',
      message: 'too\nhot',
      source: 'c.Exec',
    };
    text.notify([n, { ...n, severity: 'okay', type: undefined, typeInstance: undefined, message: 'ok' }]);
    expect(out.join('')).toBe('NOTIFICATION WARNING h/exec/temperature-cpu 1700000000000 too hot\nNOTIFICATION OKAY h/exec 1700000000000 ok\n');
    const json = new DryRunWriter({ type: 'DryRun', format: 'json' });
    out.length = 0;
    json.sink = (s) => void out.push(s);
    json.notify([n]);
    expect(JSON.parse(out.join(''))).toEqual({ notification: true, ...n });
  });
});

describe('Exec PUTNOTIF end to end', () => {
  it('a real child, per tick and long-running, reaches a writer with every field', async () => {
    const tmp = tempDir('pollect-notify-');
    try {
      const script = path.join(tmp.dir, 'notify.sh');
      writeFileSync(
        script,
        '#!/bin/sh\necho "PUTNOTIF severity=failure time=1700000000 host=web1 plugin=nginx plugin_instance=main type=connections type_instance=active s:runbook=r1 message=Too many connections"\necho "PUTVAL web1/nginx-main/connections-active N:900"\n',
      );
      chmodSync(script, 0o755);
      const longScript = path.join(tmp.dir, 'long.sh');
      writeFileSync(longScript, '#!/bin/sh\necho "PUTNOTIF severity=warning message=from a long-running child"\nexec sleep 60\n');
      chmodSync(longScript, 0o755);
      const ctx = { configDir: tmp.dir, tickTime: 10, log: logSink().log };
      const once = build(ExecSource, { type: 'Exec', command: [script], format: 'collectd' }, ctx);
      const long = build(ExecSource, { type: 'Exec', name: 'long', command: [longScript], format: 'collectd', longRunning: true }, ctx);
      const w = new NotifyWriter({ type: 'T' });
      const runners = [
        new SourceRunner({ id: 'c.Exec', collection: 'c', typeName: 'Exec', source: once, tickTime: 10, maxBackoff: 300, log: ctx.log, configDir: tmp.dir }),
        new SourceRunner({
          id: 'c.Exec.long',
          collection: 'c',
          typeName: 'Exec',
          source: long,
          tickTime: 10,
          maxBackoff: 300,
          log: ctx.log,
          configDir: tmp.dir,
        }),
      ];
      const ex = new Executor({ collection: 'c', tickTime: 10, runners, writers: [new WriterRuntime(w, { bufferSize: 100, log: ctx.log })] });
      await Promise.all(runners.map((r) => r.init()));
      try {
        // The long-running child's line arrives between probes: it waits for the next one.
        for (let i = 0; i < 50 && !w.got.flat().some((n) => n.source === 'c.Exec.long'); i++) {
          await ex.runTick(Date.now());
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await Promise.all(runners.map((r) => r.shutdown(Date.now() + 5000)));
      }
      const all = w.got.flat();
      expect(all.find((n) => n.source === 'c.Exec')).toEqual({
        severity: 'failure',
        time: 1_700_000_000_000,
        host: 'web1',
        plugin: 'nginx',
        pluginInstance: 'main',
        type: 'connections',
        typeInstance: 'active',
        meta: { runbook: 'r1' },
        message: 'Too many connections',
        source: 'c.Exec',
      });
      const fromLong = all.filter((n) => n.source === 'c.Exec.long');
      expect(fromLong).toHaveLength(1);
      expect(fromLong[0]).toMatchObject({ severity: 'warning', plugin: 'exec', host: os.hostname(), message: 'from a long-running child' });
    } finally {
      tmp.remove();
    }
  });
});

describe.skipIf(!needs('python3'))('CollectdPython Notification.dispatch end to end', () => {
  it("a plugin's notification reaches a writer, stamped with its own fields", async () => {
    const tmp = tempDir('pollect-notify-py-');
    try {
      mkdirSync(path.join(tmp.dir, 'plugins'));
      writeFileSync(
        path.join(tmp.dir, 'plugins', 'alarm.py'),
        `import collectd
def read():
    collectd.Values(type='gauge', plugin='alarm').dispatch(values=[1])
    collectd.Notification(plugin='alarm', type='gauge', message='raised', severity=collectd.NOTIF_FAILURE, meta={'zone': 'b'}).dispatch()
collectd.register_read(read, 0.2)
`,
      );
      const ctx = { configDir: tmp.dir, tickTime: 1, log: logSink().log };
      const src = build(CollectdPythonSource, { type: 'CollectdPython', modulePath: 'plugins', import: ['alarm'], hostname: 'py1', python: python3() }, ctx);
      const w = new NotifyWriter({ type: 'T' });
      const r = new SourceRunner({
        id: 'c.CollectdPython',
        collection: 'c',
        typeName: 'CollectdPython',
        source: src,
        tickTime: 1,
        maxBackoff: 300,
        log: ctx.log,
        configDir: tmp.dir,
      });
      const ex = new Executor({ collection: 'c', tickTime: 1, runners: [r], writers: [new WriterRuntime(w, { bufferSize: 100, log: ctx.log })] });
      await r.init();
      try {
        for (let i = 0; i < 50 && w.got.length === 0; i++) {
          await ex.runTick(Date.now());
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        await r.shutdown(Date.now() + 5000);
      }
      const n = w.got.flat()[0]!;
      expect(n).toMatchObject({
        severity: 'failure',
        host: 'py1',
        plugin: 'alarm',
        type: 'gauge',
        message: 'raised',
        meta: { zone: 'b' },
        source: 'c.CollectdPython',
      });
      expect(Math.abs(n.time - Date.now())).toBeLessThan(30_000);
    } finally {
      tmp.remove();
    }
  });
});
