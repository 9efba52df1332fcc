#!/bin/sh
# A collectd NotificationExec script: mails each notification (collectd-exec(5)'s format on stdin:
# header lines, an empty line, the message) to the address given as its argument.
TO="${1:-root}"
text=$(cat)
severity=$(printf '%s\n' "$text" | sed -n 's/^Severity: //p')
host=$(printf '%s\n' "$text" | sed -n 's/^Host: //p')
printf '%s\n' "$text" | mail -s "[$severity] $host" "$TO"
