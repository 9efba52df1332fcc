#!/bin/sh
# A collectd exec script: the number of deferred mails, every interval, and a warning when the
# queue cannot be read. Runs unchanged under collectd's exec plugin and pollect's Exec source
# (both set COLLECTD_HOSTNAME and COLLECTD_INTERVAL).
HOST="${COLLECTD_HOSTNAME:-$(hostname)}"
INTERVAL="${COLLECTD_INTERVAL:-10}"
SPOOL="${QUEUE_DIR:-/var/spool/postfix/deferred}"
while :; do
  if [ -r "$SPOOL" ]; then
    n=$(find "$SPOOL" -type f | wc -l)
    echo "PUTVAL \"$HOST/exec-queue/gauge-deferred\" interval=$INTERVAL N:$n"
  else
    echo "PUTNOTIF severity=warning time=$(date +%s) host=$HOST plugin=exec plugin_instance=queue message=\"cannot read $SPOOL\""
  fi
  sleep "$INTERVAL"
done
