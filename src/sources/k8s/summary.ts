// Turns a kubelet /stats/summary document into samples. Pure: no I/O, so the parser is tested
// on the captured payloads directly.
import { SourceError, type Sample } from '../source.js';

export const POD_METRICS = ['memory', 'cpu', 'network'] as const;
export const NODE_METRICS = ['filesystem', 'memory', 'cpu', 'inodes'] as const;
export type PodMetric = (typeof POD_METRICS)[number];
export type NodeMetric = (typeof NODE_METRICS)[number];

export interface K8sMetrics {
  pods?: PodMetric[];
  node?: NodeMetric[];
}

export const DEFAULT_METRICS: Required<K8sMetrics> = { pods: ['memory', 'cpu'], node: ['inodes'] };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(o: unknown, key: string): number | undefined {
  if (!isObj(o)) return undefined;
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
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
export function summaryToSamples(doc: unknown, metrics: K8sMetrics = DEFAULT_METRICS): Sample[] {
  if (!isObj(doc) || !isObj(doc.node)) {
    throw new SourceError('not a kubelet stats summary: no "node" object');
  }
  const pods = doc.pods === undefined || doc.pods === null ? [] : doc.pods;
  if (!Array.isArray(pods)) throw new SourceError('not a kubelet stats summary: "pods" is not a list');
  const podSet = new Set(metrics.pods ?? DEFAULT_METRICS.pods);
  const nodeSet = new Set(metrics.node ?? DEFAULT_METRICS.node);
  const out: Sample[] = [];

  const node = doc.node;
  const nodeLabels: Record<string, string> = typeof node.nodeName === 'string' && node.nodeName ? { node: node.nodeName } : {};
  if (nodeSet.has('cpu')) {
    push(out, 'node.cpu.usage_nanocores', num(node.cpu, 'usageNanoCores'), nodeLabels, 'nanocores');
    push(out, 'node.cpu.usage_core_nanoseconds', num(node.cpu, 'usageCoreNanoSeconds'), nodeLabels, 'nanoseconds', 'counter');
  }
  if (nodeSet.has('memory')) {
    push(out, 'node.memory.available_bytes', num(node.memory, 'availableBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.usage_bytes', num(node.memory, 'usageBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.working_set_bytes', num(node.memory, 'workingSetBytes'), nodeLabels, 'bytes');
    push(out, 'node.memory.rss_bytes', num(node.memory, 'rssBytes'), nodeLabels, 'bytes');
  }
  if (nodeSet.has('filesystem')) {
    push(out, 'node.fs.available_bytes', num(node.fs, 'availableBytes'), nodeLabels, 'bytes');
    push(out, 'node.fs.capacity_bytes', num(node.fs, 'capacityBytes'), nodeLabels, 'bytes');
    push(out, 'node.fs.used_bytes', num(node.fs, 'usedBytes'), nodeLabels, 'bytes');
  }
  if (nodeSet.has('inodes')) {
    push(out, 'node.fs.inodes_free', num(node.fs, 'inodesFree'), nodeLabels);
    push(out, 'node.fs.inodes', num(node.fs, 'inodes'), nodeLabels);
    push(out, 'node.fs.inodes_used', num(node.fs, 'inodesUsed'), nodeLabels);
  }

  let running = 0;
  for (const pod of pods) {
    if (!isObj(pod) || !isObj(pod.podRef)) continue;
    const { name, namespace } = pod.podRef;
    if (typeof name !== 'string' || typeof namespace !== 'string') continue;
    running++;
    const labels = { namespace, pod: name };
    if (podSet.has('cpu')) push(out, 'pod.cpu.usage_nanocores', num(pod.cpu, 'usageNanoCores'), labels, 'nanocores');
    if (podSet.has('memory')) {
      push(out, 'pod.memory.working_set_bytes', num(pod.memory, 'workingSetBytes'), labels, 'bytes');
      push(out, 'pod.memory.rss_bytes', num(pod.memory, 'rssBytes'), labels, 'bytes');
    }
    if (podSet.has('network')) {
      // The top-level figures are the pod's default interface. Host-network pods have none (their
      // interface list is the host's), and summing that list would count host traffic per pod.
      push(out, 'pod.network.rx_bytes', num(pod.network, 'rxBytes'), labels, 'bytes', 'counter');
      push(out, 'pod.network.tx_bytes', num(pod.network, 'txBytes'), labels, 'bytes', 'counter');
    }
  }
  out.push({ name: 'pods.running', value: running, labels: { ...nodeLabels } });
  return out;
}
