#!/usr/bin/env bash
# Runs a command and logs, every second, its anonymous memory (MB) and the CPU ticks (1/100 s)
# each of its threads has used, summed by thread name (tantivy's indexing threads, merge
# threads, the doc-store compressor, sou's main thread), so the share of merges and the moment
# of the memory peak can be read off. Linux only. Threads that exited are no longer counted, so
# read a thread kind's total from its largest figure.
#   benches/scripts/thread-cpu.sh LOG sou index -q --threads 2 --index /tmp/idx mix.jsonl
#   sort -k2 -n LOG | tail -1      # the peak
set -euo pipefail
log=$1
shift
start=$(date +%s.%N)
"$@" >/dev/null 2>"$log.stderr" &
pid=$!
: >"$log"
while kill -0 "$pid" 2>/dev/null; do
  anon=$(awk '/RssAnon/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null || true)
  threads=$(for task in /proc/"$pid"/task/*; do
      name=$({ tr ' ' '_' <"$task/comm"; } 2>/dev/null || true)
      ticks=$(cut -d')' -f2 "$task/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
      if [ -n "$name" ] && [ -n "$ticks" ]; then echo "$name $ticks"; fi
    done | awk '{ s[$1] += $2 } END { for (k in s) printf "%s=%d ", k, s[k] }')
  now=$(date +%s.%N)
  echo "$(awk -v s="$start" -v n="$now" 'BEGIN { printf "%.1f", n - s }') ${anon:-0} $threads" >>"$log"
  sleep 1
done
status=0
wait "$pid" || status=$?
echo "exit $status, $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s" >>"$log.stderr"
