// The kernel side: a bpftrace program in place of the Python pollect's BCC program (bpf/tcp.c,
// after Brendan Gregg's tcptop). It counts IPv4 TCP bytes sent (tcp_sendmsg's return value) and
// received (tcp_cleanup_rbuf's `copied`) per local address, remote address and process name, and
// every `interval` seconds prints and clears its two maps, then a `flush` line. The lines are
// bpftrace's own map output:
//
//   Attaching 5 probes...
//   @tx[172.16.95.1, 8.8.8.8, coredns]: 951
//   @rx[172.16.95.1, 8.8.8.8, coredns]: 3254
//   flush
//
// Each @tx/@rx line is the bytes of one (local, remote, process) since the previous flush.

export function tracerProgram(intervalSeconds: number): string {
  return `
kprobe:tcp_sendmsg
{
  @sk[tid] = arg0;
}

kretprobe:tcp_sendmsg
/@sk[tid]/
{
  $sk = (struct sock *)@sk[tid];
  if ((int64)retval > 0 && $sk->__sk_common.skc_family == 2) {
    @tx[ntop($sk->__sk_common.skc_rcv_saddr), ntop($sk->__sk_common.skc_daddr), comm] = sum(retval);
  }
  delete(@sk[tid]);
}

kprobe:tcp_cleanup_rbuf
/(int32)arg1 > 0/
{
  $sk = (struct sock *)arg0;
  if ($sk->__sk_common.skc_family == 2) {
    @rx[ntop($sk->__sk_common.skc_rcv_saddr), ntop($sk->__sk_common.skc_daddr), comm] = sum((int32)arg1);
  }
}

interval:s:${intervalSeconds}
{
  print(@tx);
  print(@rx);
  clear(@tx);
  clear(@rx);
  printf("flush\\n");
}

END
{
  clear(@sk);
  clear(@tx);
  clear(@rx);
}
`;
}

export interface TrafficLine {
  direction: 'sent' | 'received';
  local: string;
  remote: string;
  process: string;
  bytes: number;
}

const MAP_LINE = /^@(tx|rx)\[(\d{1,3}(?:\.\d{1,3}){3}), (\d{1,3}(?:\.\d{1,3}){3}), (.*)\]: (\d{1,20})$/;

/**
 * One line of the tracer: traffic, or undefined for the lines that carry none (blank, `flush`,
 * bpftrace's `Attaching N probes...`). Throws on anything else.
 */
export function parseTracerLine(line: string): TrafficLine | undefined {
  if (line === '' || line === 'flush' || /^Attaching \d+ probes?\.\.\.$/.test(line)) return undefined;
  const m = MAP_LINE.exec(line);
  if (!m) throw new Error(`not a tracer line: ${JSON.stringify(line.slice(0, 80))}`);
  const bytes = Number(m[5]);
  if (!Number.isSafeInteger(bytes)) throw new Error(`byte count out of range: ${m[5]}`);
  return { direction: m[1] === 'tx' ? 'sent' : 'received', local: m[2]!, remote: m[3]!, process: m[4]!, bytes };
}
