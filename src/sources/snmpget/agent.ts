// The agent address as snmpget takes it: `[transport:]host[:port]`, with the transports
// net-snmp's tools know (udp, udp6, tcp, tcp6 and their long spellings) and IPv6 in brackets
// when a port follows (`udp6:[::1]:161`); a bare IPv6 literal is a host.
import { isIP, isIPv6 } from 'node:net';
import { ParamError } from '../../sdk/index.js';

export interface AgentAddress {
  transport: 'udp4' | 'udp6' | 'tcp4' | 'tcp6';
  host: string;
  /** From the address; undefined: the `port` param. */
  port?: number;
}

const TRANSPORTS: Record<string, AgentAddress['transport']> = {
  udp: 'udp4',
  udp6: 'udp6',
  udpv6: 'udp6',
  udpipv6: 'udp6',
  tcp: 'tcp4',
  tcp6: 'tcp6',
  tcpv6: 'tcp6',
  tcpipv6: 'tcp6',
};

export function parseAgent(param: string, address: string): AgentAddress {
  let rest = address.trim();
  let named: AgentAddress['transport'] | undefined;
  const prefix = /^([a-z0-9]+):/i.exec(rest);
  if (prefix && !isIPv6(rest) && TRANSPORTS[prefix[1]!.toLowerCase()]) {
    named = TRANSPORTS[prefix[1]!.toLowerCase()];
    rest = rest.slice(prefix[0].length);
  }
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) [, host, port] = bracketed as unknown as [string, string, string | undefined];
  else if (isIPv6(rest)) host = rest;
  else {
    const m = /^([^:/\s]+)(?::(\d+))?$/.exec(rest);
    if (!m) throw new ParamError(param, `"${address}" is not an agent address: write [udp:|udp6:|tcp:|tcp6:]host[:port]`);
    [, host, port] = m as unknown as [string, string, string | undefined];
  }
  if (bracketed && !isIPv6(host)) throw new ParamError(param, `"${address}": only an IPv6 address goes in brackets`);
  const n = port === undefined ? undefined : Number(port);
  if (n !== undefined && (n < 1 || n > 65535)) throw new ParamError(param, `"${address}": port ${port} is not 1-65535`);
  const v6 = isIPv6(host);
  if (named && (named === 'udp4' || named === 'tcp4') && v6) named = named === 'udp4' ? 'udp6' : 'tcp6';
  if (named && (named === 'udp6' || named === 'tcp6') && isIP(host) === 4) {
    throw new ParamError(param, `"${address}": an IPv6 transport with an IPv4 address`);
  }
  return { transport: named ?? (v6 ? 'udp6' : 'udp4'), host, port: n };
}
