#!/usr/bin/env bash
# deploy/prometheus/alerts.yml: `promtool check rules` passes, `promtool test rules` passes,
# and every alert of the rules file is exercised by the tests file (firing and quiet).
# Usage: check_alerts.sh SOURCE_ROOT. Exit 77 (skipped) when promtool is missing.
set -euo pipefail
dir="$1/deploy/prometheus"
command -v promtool >/dev/null || { echo "promtool missing (scripts/install-deps.sh)"; exit 77; }
promtool check rules "$dir/alerts.yml"
(cd "$dir" && promtool test rules alerts_test.yml)
alerts=$(sed -n 's/^ *- alert: *//p' "$dir/alerts.yml")
[ -n "$alerts" ] || { echo "no alert in alerts.yml"; exit 1; }
for a in $alerts; do
  grep -A2 "alertname: $a\$" "$dir/alerts_test.yml" | grep -q 'exp_alerts: \[\]' ||
    { echo "$a: no case where it stays quiet"; exit 1; }
  grep -A2 "alertname: $a\$" "$dir/alerts_test.yml" | grep -q 'exp_alerts:$' ||
    { echo "$a: no case where it fires"; exit 1; }
done
echo "alerts: $(echo "$alerts" | wc -w) rules, each tested firing and quiet"
