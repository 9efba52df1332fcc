// Which Kubernetes namespace a pod IP belongs to, as the Python pollect finds it on a containerd
// node (NetworkStats.ContainerNetworkUtils): `ctr -n k8s.io containers list -q` names the
// containers, `ctr -n k8s.io container info <id>` gives each one's pod namespace label and network
// namespace (Spec.linux.namespaces, type network), and `ip netns exec <netns> ip addr show eth0`
// the pod's address. Container and netns answers are cached by id: neither changes while it exists.
import { isRecord } from '../../sdk/json.js';

/** The pod namespace and network namespace of one container, from `ctr container info` JSON. */
export function parseContainerInfo(text: string): { namespace: string; netns: string } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('container info is not JSON');
  }
  if (!isRecord(data)) throw new Error('container info is not a JSON object');
  const labels = isRecord(data.Labels) ? data.Labels : {};
  const namespace = typeof labels['io.kubernetes.pod.namespace'] === 'string' ? labels['io.kubernetes.pod.namespace'] : '';
  const spec = isRecord(data.Spec) ? data.Spec : {};
  const linux = isRecord(spec.linux) ? spec.linux : {};
  const list = Array.isArray(linux.namespaces) ? linux.namespaces : [];
  for (const ns of list) {
    if (isRecord(ns) && ns.type === 'network' && typeof ns.path === 'string') {
      return { namespace, netns: ns.path.split('/').at(-1)! };
    }
  }
  // Sharing the host's network: no pod address of its own.
  return undefined;
}

/** Names from `ip netns list` (`cni-9df1a36f-... (id: 3)`). */
export function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(' ')[0]!)
    .filter((n) => n !== '');
}

/** The first IPv4 address of `ip addr show eth0` (`inet 172.16.95.1/32 scope global eth0`): the address alone. */
export function parseInetAddress(text: string): string | undefined {
  return /\binet (\d+\.\d+\.\d+\.\d+)(?:\/\d+)? /.exec(text)?.[1];
}

/** Container ids, one a line (`ctr containers list -q`). */
export function parseIdList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[0-9a-zA-Z][\w.-]*$/.test(l));
}

/** Runs a command and returns its stdout; throws with a message when it fails. */
export type Run = (file: string, args: string[]) => Promise<string>;

export interface ContainerTools {
  ctr: string;
  ip: string;
  containerdNamespace: string;
}

/** The pod addresses of this node by Kubernetes namespace, refreshed on demand. */
export class ContainerMap {
  private readonly infos = new Map<string, { namespace: string; netns: string } | undefined>();
  private readonly addresses = new Map<string, string | undefined>();

  constructor(private readonly tools: ContainerTools) {}

  /** namespace → pod addresses, as the Python pollect's get_namespace_ips (with /32 addresses); `run` runs the commands. */
  async namespaceIps(run: Run): Promise<Map<string, Set<string>>> {
    const { ctr, ip, containerdNamespace: n } = this.tools;
    const ids = parseIdList(await run(ctr, ['-n', n, 'containers', 'list', '-q']));
    const netnsNames = new Set(parseNetnsList(await run(ip, ['netns', 'list'])));
    for (const id of this.infos.keys()) if (!ids.includes(id)) this.infos.delete(id);
    for (const name of this.addresses.keys()) if (!netnsNames.has(name)) this.addresses.delete(name);

    const out = new Map<string, Set<string>>();
    for (const id of ids) {
      if (!this.infos.has(id)) {
        let text: string;
        try {
          text = await run(ctr, ['-n', n, 'container', 'info', id]);
        } catch (err) {
          // Removed since it was listed.
          if (/not found/i.test((err as Error).message)) continue;
          throw err;
        }
        this.infos.set(id, parseContainerInfo(text));
      }
      const info = this.infos.get(id);
      if (!info || !netnsNames.has(info.netns)) continue;
      if (!this.addresses.has(info.netns)) {
        this.addresses.set(info.netns, parseInetAddress(await run(ip, ['netns', 'exec', info.netns, 'ip', 'addr', 'show', 'eth0'])));
      }
      const addr = this.addresses.get(info.netns);
      if (addr === undefined) continue;
      let set = out.get(info.namespace);
      if (!set) out.set(info.namespace, (set = new Set()));
      set.add(`${addr}/32`);
    }
    return out;
  }
}
