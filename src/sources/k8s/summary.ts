// Turns a kubelet /stats/summary document into samples. Pure: no I/O, so the parser is tested
// on the captured payloads directly.
import { SourceError, type Sample } from '../../sdk/index.js';
import { isRecord, numberAt } from '../../sdk/json.js';

export const POD_METRICS = ['memory', 'cpu', 'network'] as const;
export const NODE_METRICS = ['filesystem', 'memory', 'cpu', 'inodes'] as const;
export type PodMetric = (typeof POD_METRICS)[number];
export type NodeMetric = (typeof NODE_METRICS)[number];

/** Which figures to emit (the source's `metrics` param, defaults filled in by its schema). */
export interface K8sMetrics {
  pods: readonly PodMetric[];
  node: readonly NodeMetric[];
}

/** Appends a sample when the value exists; the summary omits figures the kubelet has not yet measured. */
function push(out: Sample[], name: string, value: number | undefined, labels: Record<string, string>, unit?: string, type?: 'counter'): void {
  if (value === undefined) return;
  const s: Sample = { name, value, labels };
  if (unit) s.unit = unit;
  if (type) s.type = type;
  out.push(s);
}

/** Samples for the chosen metrics; throws a SourceError when the document is not a summary. */
export function summaryToSamples(doc: unknown, metrics: K8sMetrics): Sample[] {
  if (!isRecord(doc) || !isRecord(doc.node)) {
    throw new SourceError('not a kubelet stats summary: no "node" object');
  }
  const pods = doc.pods === undefined || doc.pods === null ? [] : doc.pods;
  if (!Array.isArray(pods)) throw new SourceError('not a kubelet stats summary: "pods" is not a list');
  const podSet = new Set(metrics.pods);
  const nodeSet = new Set(metrics.node);
  const out: Sample[] = [];

  const node = doc.node;
  const nodeLabels: Record<string, string> = typeof node.nodeName === 'string' && node.nodeName ? { node: node.nodeName } : {};
  if (nodeSet.has('cpu')) {
    push(out, 'node.cpu.usage_nanocores', numberAt(node.cpu, 'usageNanoCores'), nodeLabels, 'nanocores');
    push(out, 'node.cpu.usage_core_nanoseconds', numberAt(node.cpu, 'usageCoreNanoSeconds'), nodeLabels, 'nanoseconds', 'counter');
  }
  if (nodeSet.has('memory')) {
    push(out, 'node.memory.available_bytes', numberAt(node.memory, 'availableBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.usage_bytes', numberAt(node.memory, 'usageBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.working_set_bytes', numberAt(node.memory, 'workingSetBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.rss_bytes', numberAt(node.memory, 'rssBytes'), nodeLabels, 'bytes');
  }
  if (nodeSet.has('filesystem')) {
    push(out, 'node.fs.available_bytes', numberAt(node.fs, 'availableBytes'), nodeLabels, 'bytes');
    push(out, 'node.fs.capacity_bytes', numberAt(node.fs, 'capacityBytes'), nodeLabels, 'bytes');
    push(out, 'node.fs.used_bytes', numberAt(node.fs, 'usedBytes'), nodeLabels, 'bytes');
  }
  if (nodeSet.has('inodes')) {
    push(out, 'node.fs.inodes_free', numberAt(node.fs, 'inodesFree'), nodeLabels);
    push(out, 'node.fs.inodes', numberAt(node.fs, 'inodes'), nodeLabels);
    push(out, 'node.fs.inodes_used', numberAt(node.fs, 'inodesUsed'), nodeLabels);
  }

  let running = 0;
  for (const pod of pods) {
    if (!isRecord(pod) || !isRecord(pod.podRef)) continue;
    const { name, namespace } = pod.podRef;
    if (typeof name !== 'string' || typeof namespace !== 'string') continue;
    running++;
    const labels = { namespace, pod: name };
    if (podSet.has('cpu')) push(out, 'pod.cpu.usage_nanocores', numberAt(pod.cpu, 'usageNanoCores'), labels, 'nanocores');
    if (podSet.has('memory')) {
      push(out, 'pod.memory.working_set_bytes', numberAt(pod.memory, 'workingSetBytes'), labels, 'bytes');
      push(out, 'pod.memory.rss_bytes', numberAt(pod.memory, 'rssBytes'), labels, 'bytes');
    }
    if (podSet.has('network')) {
      // The top-level figures are the pod's default interface. Host-network pods have none (their
      // interface list is the host's), and summing that list would count host traffic per pod.
      push(out, 'pod.network.rx_bytes', numberAt(pod.network, 'rxBytes'), labels, 'bytes', 'counter');
      push(out, 'pod.network.tx_bytes', numberAt(pod.network, 'txBytes'), labels, 'bytes', 'counter');
    }
  }
  out.push({ name: 'pods.running', value: running, labels: { ...nodeLabels } });
  return out;
}
