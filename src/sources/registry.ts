// Every built-in source, by type name. A source has a plugin folder of its own (src/sources/<folder>/) and
// is imported only when a config names it, so heavy dependencies load only when needed.
// Adding a source: one folder and one line here (the README lists sources in this order).
import type { AnySourceClass } from '../sdk/index.js';

export const sourceRegistry: Record<string, () => Promise<AnySourceClass>> = {
  // The host, read from /proc, /sys and statfs
  LoadAvg: () => import('./loadavg/index.js').then((m) => m.LoadAvgSource),
  MemoryUsage: () => import('./memoryusage/index.js').then((m) => m.MemoryUsageSource),
  DiskUsage: () => import('./diskusage/index.js').then((m) => m.DiskUsageSource),
  Cpu: () => import('./cpu/index.js').then((m) => m.CpuSource),
  Interface: () => import('./interface/index.js').then((m) => m.InterfaceSource),
  IO: () => import('./io/index.js').then((m) => m.IOSource),
  Process: () => import('./process/index.js').then((m) => m.ProcessSource),
  Host: () => import('./host/index.js').then((m) => m.HostSource),
  // Devices, through their tools
  Tegrastats: () => import('./tegrastats/index.js').then((m) => m.TegrastatsSource),
  SmartCtl: () => import('./smartctl/index.js').then((m) => m.SmartCtlSource),
  Sensors: () => import('./sensors/index.js').then((m) => m.SensorsSource),
  Zfs: () => import('./zfs/index.js').then((m) => m.ZfsSource),
  // The network
  Http: () => import('./http/index.js').then((m) => m.HttpSource),
  TcpTime: () => import('./tcptime/index.js').then((m) => m.TcpTimeSource),
  Certificate: () => import('./certificate/index.js').then((m) => m.CertificateSource),
  SnmpGet: () => import('./snmpget/index.js').then((m) => m.SnmpGetSource),
  Bind: () => import('./bind/index.js').then((m) => m.BindSource),
  // Home and energy
  Evcc: () => import('./evcc/index.js').then((m) => m.EvccSource),
  Pmcc: () => import('./pmcc/index.js').then((m) => m.PmccSource),
  EspHome: () => import('./esphome/index.js').then((m) => m.EspHomeSource),
  SmaEnergyMeter: () => import('./smaenergymeter/index.js').then((m) => m.SmaEnergyMeterSource),
  SmaPvModbus: () => import('./smapvmodbus/index.js').then((m) => m.SmaPvModbusSource),
  Openhab: () => import('./openhab/index.js').then((m) => m.OpenhabSource),
  Plex: () => import('./plex/index.js').then((m) => m.PlexSource),
  Fritz: () => import('./fritz/index.js').then((m) => m.FritzSource),
  TpLinkEap: () => import('./tplinkeap/index.js').then((m) => m.TpLinkEapSource),
  ZodiacPool: () => import('./zodiacpool/index.js').then((m) => m.ZodiacPoolSource),
  HomematicIp: () => import('./homematicip/index.js').then((m) => m.HomematicIpSource),
  Viessmann: () => import('./viessmann/index.js').then((m) => m.ViessmannSource),
  // Services and platforms
  Dramatiq: () => import('./dramatiq/index.js').then((m) => m.DramatiqSource),
  K8s: () => import('./k8s/index.js').then((m) => m.K8sSource),
  K8sNamespaceTraffic: () => import('./k8snamespacetraffic/index.js').then((m) => m.K8sNamespaceTrafficSource),
  Docker: () => import('./docker/index.js').then((m) => m.DockerSource),
  OSv: () => import('./osv/index.js').then((m) => m.OSvSource),
  OpenStack: () => import('./openstack/index.js').then((m) => m.OpenStackSource),
  // App stores' statistics
  Gdc: () => import('./gdc/index.js').then((m) => m.GdcSource),
  AppStoreConnect: () => import('./appstoreconnect/index.js').then((m) => m.AppStoreConnectSource),
  // Your own metrics
  Exec: () => import('./exec/index.js').then((m) => m.ExecSource),
  CollectdPython: () => import('./collectd-python/index.js').then((m) => m.CollectdPythonSource),
  HttpIngress: () => import('./httpingress/index.js').then((m) => m.HttpIngressSource),
  Dummy: () => import('./dummy/index.js').then((m) => m.DummySource),
};

/**
 * Types the Python pollect had that are not built here: a config naming one fails `--check` at its
 * `type` with this reason. They are not listed by `pollect sources`.
 */
export const retiredSources: Record<string, string> = {
  MMI: "the Audi MMI source is not built: Audi's MMI connect service it used is gone (the Python pollect's README marks it broken)",
};
