// Every built-in source, by type name. A source is a room of its own (src/sources/<room>/) and
// is imported only when a config names it, so heavy dependencies load only when needed.
// Adding a source: one room and one line here.
import type { AnySourceClass } from './source.js';

export const sourceRegistry: Record<string, () => Promise<AnySourceClass>> = {
  Dummy: () => import('./dummy/index.js').then((m) => m.DummySource),
  OSv: () => import('./osv/index.js').then((m) => m.OSvSource),
  K8s: () => import('./k8s/index.js').then((m) => m.K8sSource),
  Cpu: () => import('./cpu/index.js').then((m) => m.CpuSource),
  DiskUsage: () => import('./diskusage/index.js').then((m) => m.DiskUsageSource),
  Host: () => import('./host/index.js').then((m) => m.HostSource),
  Interface: () => import('./interface/index.js').then((m) => m.InterfaceSource),
  IO: () => import('./io/index.js').then((m) => m.IOSource),
  LoadAvg: () => import('./loadavg/index.js').then((m) => m.LoadAvgSource),
  MemoryUsage: () => import('./memoryusage/index.js').then((m) => m.MemoryUsageSource),
  Process: () => import('./process/index.js').then((m) => m.ProcessSource),
  Docker: () => import('./docker/index.js').then((m) => m.DockerSource),
  Tegrastats: () => import('./tegrastats/index.js').then((m) => m.TegrastatsSource),
  OpenStack: () => import('./openstack/index.js').then((m) => m.OpenStackSource),
  Dramatiq: () => import('./dramatiq/index.js').then((m) => m.DramatiqSource),
  Bind: () => import('./bind/index.js').then((m) => m.BindSource),
  Sensors: () => import('./sensors/index.js').then((m) => m.SensorsSource),
  SmartCtl: () => import('./smartctl/index.js').then((m) => m.SmartCtlSource),
  SnmpGet: () => import('./snmpget/index.js').then((m) => m.SnmpGetSource),
  Certificate: () => import('./certificate/index.js').then((m) => m.CertificateSource),
  Exec: () => import('./exec/index.js').then((m) => m.ExecSource),
  Http: () => import('./http/index.js').then((m) => m.HttpSource),
  HttpIngress: () => import('./httpingress/index.js').then((m) => m.HttpIngressSource),
  TcpTime: () => import('./tcptime/index.js').then((m) => m.TcpTimeSource),
  // registry: one line per source, alphabetical, above this comment
};
