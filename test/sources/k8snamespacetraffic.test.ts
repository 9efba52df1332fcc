// K8sNamespaceTraffic: the Python tests (test_NetworkStats.py: network membership and the pod
// namespace mapping from containerd.json), the tracer line format, then the source end to end with
// fake `ctr`, `ip` and tracer executables replaying the Python test's answers and recorded tracer
// lines (test/fixtures/k8snamespacetraffic). No kernel probe runs here: see the source's README.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { NamedNetwork, knownNetworks, networkOf, parseCidr, parseIPv4 } from '../../src/sources/k8snamespacetraffic/networks.js';
import { ContainerMap, parseContainerInfo, parseInetAddress, parseNetnsList } from '../../src/sources/k8snamespacetraffic/containers.js';
import { parseTracerLine, tracerProgram } from '../../src/sources/k8snamespacetraffic/tracer.js';
import { K8sNamespaceTrafficSource } from '../../src/sources/k8snamespacetraffic/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { needs } from '../helpers/servers.js';
import { tempDir } from '../helpers/net.js';
import { paramProblems } from '../helpers/readme-examples.js';

const CONTAINERD = readFileSync(fixtureDir('pollect-tests', 'containerd.json'), 'utf8');
const TRACER_LINES = path.join(__dirname, '../fixtures/k8snamespacetraffic/tracer.txt');
const ip = (s: string) => parseIPv4(s)!;

// The Python test's mocked command outputs (test_NetworkStats.py).
const CONTAINER_IDS = `093df0dd4e350e7d7160186ab3a50edf68f7cb6a376b84cc4965ee206ae09717
13ad2b9c213710f7f0694494843941c2ab731e8686111bce32e1bf32bcef4ab6
2fdea3910c1796a282d864d9dcb286c1a954c16c923f11a8d8e2a094fc10d1a4
309948fd90e456e7837d8f5677c76fd4e94ac82861d8d8e2df4151052e692dfe
3949859d8acd4efb5e51391eac7db92236cacc18de2ec145fcf527d3f355b213
39c198abd904ae184978d88d74184afc83caa5d3114b041eef55c0c520ae7a7b
3f82da41caca69d44531a07a71e51005cdbcf5c15b18625f32fda1c9e44fbae0
6bad36d01dfb01a116719f70f2c3562aa4372b93cc71498d9535e921fa4c5c58
6e9c47fc07da85d3e0d86505d3f090f2765e16dceeffd3e8b0d1a9efc8bf2227`;
const NETNS_LIST = `cni-9df1a36f-b1c5-bb30-5596-9cb89d2ba92c (id: 3)
cni-565d2649-233b-0f48-3470-ca134bb8af0e (id: 2)
cni-6d7a0806-3c24-9460-adae-a1d4652b31c4 (id: 1)
cni-0b55048d-00de-1d0a-c4bd-ffd265423655 (id: 0)`;
const ETH0 = `2: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 8951 qdisc noqueue state UP group default qlen 1000
    link/ether 4e:f1:7e:f0:81:2e brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 172.16.95.1/32 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 fe80::4cf1:7eff:fef0:812e/64 scope link
       valid_lft forever preferred_lft forever`;

describe('named networks (test_NetworkStats.test_in_network)', () => {
  it('contains what its CIDRs contain; 0.0.0.0/0 everything', () => {
    const net = new NamedNetwork('', ['192.168.1.0/24']);
    expect(net.contains(ip('192.168.1.1'))).toBe(true);
    expect(net.contains(ip('192.168.1.10'))).toBe(true);
    expect(net.contains(ip('192.168.2.0'))).toBe(false);
    expect(new NamedNetwork('', ['0.0.0.0/0']).contains(ip('192.168.1.1'))).toBe(true);
  });

  it('classifies in order: configured, localhost (hidden), other', () => {
    const nets = knownNetworks([{ name: 'local', cidrs: ['192.168.1.0/24'] }], true);
    expect(networkOf(nets, ip('192.168.1.20'))!.name).toBe('local');
    expect(networkOf(nets, ip('127.0.0.53'))!).toMatchObject({ name: 'localhost', hide: true });
    expect(networkOf(nets, ip('8.8.8.8'))!).toMatchObject({ name: 'other', catchAll: true });
    expect(networkOf(knownNetworks([], false), ip('127.0.0.1'))!.hide).toBe(false);
  });

  it('refuses what is no IPv4 network', () => {
    expect(parseIPv4('256.1.1.1')).toBeUndefined();
    expect(parseIPv4('1.2.3')).toBeUndefined();
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'fe80::/64', 'x/8', '10.0.0.0/8/8']) expect(() => parseCidr(bad), bad).toThrow(/not an IPv4 network/);
    expect(() => parseCidr('192.168.1.1/24')).toThrow(/host bits set/);
    expect(parseCidr('10.1.2.3')).toEqual({ network: ip('10.1.2.3'), mask: 0xffffffff });
  });
});

describe('pod namespaces from containerd (test_NetworkStats.test_get_k8s_namespace_ips)', () => {
  it("maps the Python test's answers to calico-system → 172.16.95.1/32", async () => {
    const calls: string[] = [];
    const run = async (file: string, args: string[]): Promise<string> => {
      calls.push([file, ...args].join(' '));
      if (file === 'ctr') return args[3] === 'list' ? CONTAINER_IDS : CONTAINERD;
      if (args.length === 2) return NETNS_LIST;
      return ETH0;
    };
    const map = new ContainerMap({ ctr: 'ctr', ip: 'ip', containerdNamespace: 'k8s.io' });
    const namespaces = await map.namespaceIps(run);
    expect(namespaces.size).toBe(1);
    expect([...namespaces.get('calico-system')!]).toEqual(['172.16.95.1/32']);
    expect(calls[0]).toBe('ctr -n k8s.io containers list -q');
    expect(calls).toContain('ip netns exec cni-9df1a36f-b1c5-bb30-5596-9cb89d2ba92c ip addr show eth0');
    // Container info and pod addresses are asked once, then cached while they exist.
    const first = calls.length;
    await map.namespaceIps(run);
    expect(calls.slice(first)).toEqual(['ctr -n k8s.io containers list -q', 'ip netns list']);
  });

  it('reads the container info, the netns list and the eth0 address', () => {
    expect(parseContainerInfo(CONTAINERD)).toEqual({ namespace: 'calico-system', netns: 'cni-9df1a36f-b1c5-bb30-5596-9cb89d2ba92c' });
    expect(parseContainerInfo(JSON.stringify({ Labels: {}, Spec: { linux: { namespaces: [{ type: 'pid' }] } } }))).toBeUndefined();
    expect(() => parseContainerInfo('{')).toThrow(/not JSON/);
    expect(() => parseContainerInfo('[]')).toThrow(/not a JSON object/);
    expect(parseNetnsList(NETNS_LIST)).toHaveLength(4);
    expect(parseInetAddress(ETH0)).toBe('172.16.95.1');
    expect(parseInetAddress('2: eth0: <UP>\n    inet 10.244.1.7/24 brd 10.244.1.255 scope global eth0')).toBe('10.244.1.7');
    expect(parseInetAddress('2: eth0: <UP>')).toBeUndefined();
  });

  it('skips a container removed since it was listed, and fails on other ctr errors', async () => {
    const runWith = (err: string) => async (file: string, args: string[]) => {
      if (file === 'ctr' && args[3] === 'list') return CONTAINER_IDS;
      if (file === 'ctr') throw new Error(err);
      return args.length === 2 ? NETNS_LIST : ETH0;
    };
    const map = () => new ContainerMap({ ctr: 'ctr', ip: 'ip', containerdNamespace: 'k8s.io' });
    expect((await map().namespaceIps(runWith('container "x": not found'))).size).toBe(0);
    await expect(map().namespaceIps(runWith('permission denied'))).rejects.toThrow(/permission denied/);
  });
});

describe('tracer lines', () => {
  it('reads the map lines and skips the rest of what bpftrace prints', () => {
    expect(parseTracerLine('@tx[172.16.95.1, 8.8.8.8, calico-node]: 951')).toEqual({
      direction: 'sent',
      local: '172.16.95.1',
      remote: '8.8.8.8',
      process: 'calico-node',
      bytes: 951,
    });
    expect(parseTracerLine('@rx[10.0.0.1, 10.0.0.2, odd]: name]: 7')).toMatchObject({ direction: 'received', process: 'odd]: name', bytes: 7 });
    for (const skip of ['', 'flush', 'Attaching 5 probes...']) expect(parseTracerLine(skip)).toBeUndefined();
  });

  it('refuses anything else, and byte counts out of range', () => {
    for (const bad of ['@sk[123]: 4567', '@tx[fe80::1, ::1, x]: 5', '@tx[1.2.3.4, 5.6.7.8, x]: -5', 'ERROR: something', '@tx[1.2.3.4, 5.6.7.8, x]: 12abc']) {
      expect(() => parseTracerLine(bad), bad).toThrow(/not a tracer line/);
    }
    expect(() => parseTracerLine('@tx[1.2.3.4, 5.6.7.8, x]: 99999999999999999999')).toThrow(/out of range/);
  });

  // bpftrace needs root (or CAP_BPF) for its BEGIN probe; CI and setup-test-env.sh run as root.
  const bpftrace = needs('bpftrace');
  it.skipIf(!bpftrace)('real bpftrace prints its maps in the lines the parser reads (a BEGIN probe, no kprobe)', () => {
    // The program's printing part, fed by constants: ntop() of the addresses as a little-endian
    // kernel holds them (172.16.95.1, 8.8.8.8, 127.0.0.1), a process name with a space.
    const program = `BEGIN {
      @tx[ntop(0x015f10ac), ntop(0x08080808), "coredns"] = sum(951);
      @tx[ntop(0x0100007f), ntop(0x0100007f), "kube let"] = sum(5000);
      @rx[ntop(0x015f10ac), ntop(0x08080808), "coredns"] = sum(3254);
      print(@tx); print(@rx); clear(@tx); clear(@rx); printf("flush\\n"); exit();
    }`;
    const out = execFileSync('bpftrace', ['-B', 'line', '-e', program], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 }).toString();
    const parsed = out
      .split('\n')
      .map(parseTracerLine)
      .filter((t) => t !== undefined);
    expect(parsed).toEqual([
      { direction: 'sent', local: '172.16.95.1', remote: '8.8.8.8', process: 'coredns', bytes: 951 },
      { direction: 'sent', local: '127.0.0.1', remote: '127.0.0.1', process: 'kube let', bytes: 5000 },
      { direction: 'received', local: '172.16.95.1', remote: '8.8.8.8', process: 'coredns', bytes: 3254 },
    ]);
  });

  it.skipIf(!bpftrace)('the program compiles with bpftrace (to an ELF object; nothing is attached)', () => {
    const dir = tmp.dir;
    execFileSync('bpftrace', ['-B', 'line', '--emit-elf', path.join(dir, 'tracer.elf'), '-e', tracerProgram(5)], { stdio: 'pipe', timeout: 120_000 });
  });
});

const tmp = tempDir();
afterAll(() => tmp.remove());
const sources: K8sNamespaceTrafficSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.shutdown();
});

/** An executable shell script in the temp folder. */
function script(name: string, body: string): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

copyFileSync(fixtureDir('pollect-tests', 'containerd.json'), path.join(tmp.dir, 'containerd.json'));
writeFileSync(path.join(tmp.dir, 'ids.txt'), `${CONTAINER_IDS}\n`);
writeFileSync(path.join(tmp.dir, 'netns.txt'), `${NETNS_LIST}\n`);
writeFileSync(path.join(tmp.dir, 'eth0.txt'), `${ETH0}\n`);
const FAKE_CTR = script(
  'ctr',
  `case "$3 $4" in "containers list") cat "${tmp.dir}/ids.txt";; "container info") cat "${tmp.dir}/containerd.json";; *) exit 2;; esac`,
);
const FAKE_IP = script('ip', `if [ "$2" = list ]; then cat "${tmp.dir}/netns.txt"; else cat "${tmp.dir}/eth0.txt"; fi`);
const REPLAY = script('tracer', `cat "${TRACER_LINES}"\nexec sleep 3600`);

function traffic(params: Parameters<typeof build<typeof K8sNamespaceTrafficSource>>[1]): K8sNamespaceTrafficSource {
  const s = build(K8sNamespaceTrafficSource, { ctr: FAKE_CTR, ip: FAKE_IP, tracer: REPLAY, ...params }, { configDir: tmp.dir });
  sources.push(s);
  return s;
}

const NETWORKS = [{ name: 'local', cidrs: ['192.168.1.0/24'] }];

describe('K8sNamespaceTraffic source with fake ctr, ip and tracer', () => {
  it('reports the bytes by namespace, destination network and direction, as the Python docs show', async () => {
    const source = traffic({ networks: NETWORKS });
    await initSource(source, tmp.dir);
    await expect.poll(async () => (await probeOnce(source)).length).toBe(8);
    const s = await probeOnce(source);
    const ns = (namespace: string, dest_network: string, direction: string) => valueOf(s, undefined, { namespace, dest_network, direction });
    expect(ns('calico-system', 'local', 'sent')).toBe(10);
    expect(ns('calico-system', 'local', 'received')).toBe(10);
    expect(ns('calico-system', 'other', 'received')).toBe(3254);
    expect(ns('calico-system', 'other', 'sent')).toBe(951);
    // Host traffic: named by the known network of its local address.
    expect(ns('local', 'other', 'received')).toBe(777);
    expect(ns('local', 'other', 'sent')).toBe(0);
    expect(ns('other', 'local', 'sent')).toBe(42);
    // Localhost traffic is hidden.
    expect(s.some((x) => x.labels?.dest_network === 'localhost')).toBe(false);
    expect(s.every((x) => x.type === 'counter' && x.unit === 'bytes')).toBe(true);
    // The totals are kept, never counted twice.
    expect(await probeOnce(source)).toEqual(s);
  });

  it('shows localhost when asked, and names the namespace label as configured', async () => {
    const source = traffic({ networks: NETWORKS, hideLocalhostTraffic: false, namespaceLabel: 'k8s_namespace' });
    await initSource(source, tmp.dir);
    await expect.poll(async () => (await probeOnce(source)).length).toBe(10);
    const s = await probeOnce(source);
    expect(valueOf(s, undefined, { k8s_namespace: 'localhost', dest_network: 'localhost', direction: 'sent' })).toBe(5000);
  });

  it('logs unknown traffic when asked (the Python README key), not the pods to known networks', async () => {
    const lines: string[] = [];
    const source = traffic({ networks: NETWORKS, logUnknownTraffic: true });
    await initSource(source, tmp.dir);
    const log = { error() {}, warn() {}, info: (m: string) => lines.push(m), debug() {}, child: () => log };
    const probe = () =>
      source.probe({ signal: AbortSignal.timeout(5000), timeoutMs: 5000, tickTime: 10, log, reportProblem() {}, notify() {}, wants: () => true });
    await expect.poll(async () => ((await probe()) as unknown[]).length).toBe(8);
    expect(lines.some((l) => /local 172\.16\.95\.1, remote 8\.8\.8\.8, direction sent, 951 bytes, from process calico-node/.test(l))).toBe(true);
    expect(lines.some((l) => /remote 192\.168\.1\.20.*calico-node/.test(l))).toBe(false);
    expect(lines.some((l) => /local 10\.9\.9\.9/.test(l))).toBe(true);
  });

  it('goes on counting when containerd cannot be asked, and says why', async () => {
    const problems: string[] = [];
    const source = traffic({ networks: NETWORKS, ctr: path.join(tmp.dir, 'no-such-ctr') });
    await initSource(source, tmp.dir);
    // No pods known: the pod's traffic is the catch-all network's, merged with other host traffic.
    await expect.poll(async () => (await probeOnce(source, { problems })).length).toBe(6);
    expect(problems.at(-1)).toMatch(/pod addresses from containerd: .*no-such-ctr: command not found|ENOENT/);
    expect(valueOf(await probeOnce(source), undefined, { namespace: 'other', dest_network: 'other', direction: 'received' })).toBe(3254);
  });

  it('a hanging ctr ends with the probe, not after it', async () => {
    const hang = script('ctr-hang', 'exec sleep 30');
    const problems: string[] = [];
    const source = traffic({ ctr: hang });
    await initSource(source, tmp.dir);
    const started = Date.now();
    await probeOnce(source, { timeoutMs: 500, problems });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(problems.at(-1)).toMatch(/pod addresses from containerd/);
  });

  it('fails with the reason when the tracer cannot attach, or prints what is no tracer line', async () => {
    const noKprobes = script('bpftrace-fails', 'echo "ERROR: Could not open kprobe_events: No such file or directory" >&2\nexit 1');
    const failing = traffic({ tracer: noKprobes });
    await initSource(failing, tmp.dir);
    await expect
      .poll(() =>
        probeOnce(failing).then(
          () => 'values',
          (e: Error) => e.message,
        ),
      )
      .toMatch(/bpftrace-fails exited with code 1: ERROR: Could not open kprobe_events: No such file or directory; restarting in/);

    const garbage = script('bpftrace-garbage', 'echo "@tx[1.2.3.4, 5.6.7.8, x]: 5"\necho "<html>"\nexec sleep 3600');
    const bad = traffic({ tracer: garbage });
    await initSource(bad, tmp.dir);
    await expect
      .poll(() =>
        probeOnce(bad).then(
          () => 'values',
          (e: Error) => e.message,
        ),
      )
      .toMatch(/bpftrace-garbage: line 2: not a tracer line: "<html>"/);

    const long = script('bpftrace-long', `head -c 5000 /dev/zero | tr '\\\\0' x\necho\nexec sleep 3600`);
    const huge = traffic({ tracer: long });
    await initSource(huge, tmp.dir);
    await expect
      .poll(() =>
        probeOnce(huge).then(
          () => 'values',
          (e: Error) => e.message,
        ),
      )
      .toMatch(/line 1: longer than 1024 bytes/);
  });
});

describe('K8sNamespaceTraffic params', () => {
  it('loads the example of the Python docs (docs/K8sNetwork.md) and refuses a bad CIDR at its path', () => {
    expect(
      paramProblems(K8sNamespaceTrafficSource.schema, 'K8sNamespaceTraffic', {
        type: 'K8sNamespaceTraffic',
        name: 'host',
        networks: [{ name: 'local', cidrs: ['192.168.1.0/24'] }],
      }),
    ).toEqual([]);
    const cfg: Record<string, unknown> = { networks: [{ name: 'local', cidrs: ['192.168.1.0/24'] }] };
    expect(validate(K8sNamespaceTrafficSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toMatchObject({ namespaceLabel: 'namespace', hideLocalhostTraffic: true, tracer: 'bpftrace', interval: 5 });
    let err: Error & { param?: string } = new Error();
    try {
      build(K8sNamespaceTrafficSource, { networks: [{ name: 'lan', cidrs: ['10.0.0.0/8', '192.168.1.1/24'] }] });
    } catch (e) {
      err = e as Error & { param?: string };
    }
    expect(err.param).toBe('networks[0].cidrs[1]');
    expect(err.message).toMatch(/host bits set/);
  });
});
