// Named IPv4 networks and the classification of the Python pollect's K8sNamespaceTraffic
// (pollect/sources/helper/NetworkStats.py): an address belongs to the first network one of whose
// CIDRs contains it. The configured networks come first, then `localhost` (127.0.0.0/8, hidden by
// default) and `other` (0.0.0.0/0), which catches everything else.

/** An IPv4 address as a 32-bit unsigned number, or undefined when `text` is not one. */
export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export interface Subnet {
  network: number;
  mask: number;
}

/** `a.b.c.d/n` (or a bare address, /32); throws when it is none or has host bits set (as Python's ip_network). */
export function parseCidr(text: string): Subnet {
  const [addr, bits, ...rest] = text.split('/');
  const ip = parseIPv4(addr ?? '');
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (ip === undefined || rest.length > 0 || !(prefix >= 0 && prefix <= 32)) throw new Error(`"${text}" is not an IPv4 network (a.b.c.d/n)`);
  const mask = prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
  if ((ip & mask) >>> 0 !== ip) throw new Error(`"${text}" has host bits set`);
  return { network: ip, mask };
}

export class NamedNetwork {
  private readonly subnets: Subnet[];

  constructor(
    readonly name: string,
    cidrs: readonly (string | Subnet)[],
    /** Its traffic is counted but not reported (localhost, by default). */
    readonly hide = false,
    /** The network that takes what no other does. */
    readonly catchAll = false,
  ) {
    this.subnets = cidrs.map((c) => (typeof c === 'string' ? parseCidr(c) : c));
  }

  contains(ip: number): boolean {
    return this.subnets.some((s) => (ip & s.mask) >>> 0 === s.network);
  }
}

export interface NetworkConfig {
  name: string;
  cidrs: readonly string[];
}

/** The configured networks, then localhost and the catch-all `other`, in the order they are tried. */
export function knownNetworks(configured: readonly NetworkConfig[], hideLocalhost: boolean): NamedNetwork[] {
  return [
    ...configured.map((n) => new NamedNetwork(n.name, n.cidrs)),
    new NamedNetwork('localhost', ['127.0.0.0/8'], hideLocalhost),
    new NamedNetwork('other', ['0.0.0.0/0'], false, true),
  ];
}

/** The first network that contains `ip`. */
export function networkOf(networks: readonly NamedNetwork[], ip: number): NamedNetwork | undefined {
  return networks.find((n) => n.contains(ip));
}
