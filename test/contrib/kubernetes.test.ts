// contrib/kubernetes/: validated against the Kubernetes API schemas (kubernetes-models, and the
// Prometheus Operator's for the PodMonitor), and checked for what makes them work together: the
// ConfigMap's config passes --check and reads the node through HOST_PROC, labelled with NODE_NAME.
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/net.js';
import { fakeProc } from '../helpers/hostproc.js';

const DIR = path.resolve(__dirname, '../../contrib/kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

const docs: Doc[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(path.join(DIR, f), 'utf8')) as Doc);
const find = <T>(kind: string) => docs.find((d) => d.kind === kind) as unknown as T;

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

const ds = find<DaemonSet>('DaemonSet');
const pod = ds.spec!.template.spec!;
const container = pod.containers[0]!;
const CONFIG = find<ConfigMap>('ConfigMap').data!['pollect.yml']!;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('contrib/kubernetes', () => {
  it('holds a DaemonSet, a ConfigMap, a ServiceAccount and a PodMonitor, each valid for its API schema', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'PodMonitor', 'ServiceAccount']);
    for (const d of docs) expect(() => validate(d), d.kind).not.toThrow();
    expect(new Set(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`))).toEqual(new Set(['monitoring/pollect']));
  });

  it('the validation can fail: a port that is not a number, a PodMonitor without selector', () => {
    const broken = structuredClone(ds) as unknown as Doc;
    (broken as unknown as DaemonSet).spec!.template.spec!.containers[0]!.ports![0]!.containerPort = '9273' as never;
    expect(() => validate(broken)).toThrow(/containerPort must be integer/);
    const pm = structuredClone(find<Doc>('PodMonitor'));
    delete (pm.spec as { selector?: unknown }).selector;
    expect(() => validate(pm)).toThrow(/selector/);
  });

  it('mounts the host /proc and /sys read-only where HOST_PROC and HOST_SYS say', () => {
    const env = new Map(container.env!.map((e) => [e.name, e]));
    for (const [name, hostPath] of [
      ['HOST_PROC', '/proc'],
      ['HOST_SYS', '/sys'],
    ] as const) {
      const volume = pod.volumes!.find((v) => v.hostPath?.path === hostPath)!;
      const mount = container.volumeMounts!.find((m) => m.name === volume.name)!;
      expect(mount.readOnly, hostPath).toBe(true);
      expect(env.get(name)?.value).toBe(mount.mountPath);
    }
    expect(env.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(pod.hostNetwork && pod.hostPID).toBe(true);
    expect(pod.serviceAccountName).toBe(find<Doc>('ServiceAccount').metadata.name);
  });

  it("probes /healthz and /readyz on the port the config's Prometheus writer serves, which the PodMonitor scrapes", () => {
    const port = container.ports!.find((p) => p.name === 'metrics')!;
    const writer = (parse(CONFIG) as { writers: { type: string; port: number }[] }).writers.find((w) => w.type === 'Prometheus')!;
    expect(port.containerPort).toBe(writer.port);
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    const pm = find<PodMonitor>('PodMonitor');
    expect(pm.spec.podMetricsEndpoints![0]!.port).toBe('metrics');
    expect(pm.spec.selector.matchLabels).toEqual(ds.spec!.template.metadata!.labels);
    // The config is mounted where the container's command reads it.
    const mount = container.volumeMounts!.find((m) => m.name === pod.volumes!.find((v) => v.configMap)!.name)!;
    expect(container.command).toContain(`${mount.mountPath}/pollect.yml`);
  });

  it("the ConfigMap's config passes --check and reads the node's /proc at HOST_PROC, labelled with the node name", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, 'pollect.yml');
    writeFileSync(file, CONFIG);
    const check = await cli(['-c', file, '--check'], { NODE_NAME: 'node-a' });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);

    const proc = fakeProc({ loadavg: '1.25 2.50 3.75 1/100 1234\n' });
    cleanups.push(proc.remove);
    for (const f of ['stat', 'meminfo', 'diskstats', 'net/dev']) proc.write({ [f]: readFileSync(`/proc/${f}`, 'latin1') });
    const r = await cli(['-c', file, '--dry-run', '--once'], { NODE_NAME: 'node-a', HOST_PROC: proc.root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pollect\.LoadAvg\{node="node-a",time="short"\} 1\.25 \d+$/m);
    const lines = r.stdout.trim().split('\n');
    expect(lines.every((l) => l.includes('node="node-a"'))).toBe(true);
  });
});
