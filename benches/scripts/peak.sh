#!/usr/bin/env bash
# Runs a command and prints its wall time and peak anonymous memory (RssAnon, sampled from
# /proc every 20 ms), the figures BENCHMARKS.md gives as "peak anon". Linux only.
#   benches/scripts/peak.sh sou index -q --threads 2 --index /tmp/idx corpus/
set -euo pipefail
start=$(date +%s.%N)
"$@" >/dev/null 2>&1 &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  anon=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  if [ -n "$anon" ] && [ "$anon" -gt "$peak" ]; then peak=$anon; fi
  sleep 0.02
done
status=0
wait "$pid" || status=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v p="$peak" -v st="$status" \
  'BEGIN { printf "wall %.2f s, peak anon %d MB, exit %d\n", e - s, p / 1024, st }'
