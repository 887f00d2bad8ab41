#!/usr/bin/env bash
# Two embedded OpenSearch 2.19.6 nodes (one JVM each) on 127.0.0.1: HTTP 9200/9201, transport
# 9300/9301 (OS_HTTP_PORT / OS_TRANSPORT_PORT move both pairs). Needs Java 17, Maven and, on the
# first run, Maven Central (~100 MB into ~/.m2).
#
#   bash cluster.sh start   # mvn package (first run resolves ~/.m2), start 2 JVMs, wait for green
#   bash cluster.sh status
#   bash cluster.sh stop    # SIGTERM to each recorded PID (shutdown hook closes the node), bounded wait
#
# OS_DIR (default /tmp/sou-os) holds each node's home, data, logs and pid file.
# OS_HEAP (default 512m) is each node's -Xms/-Xmx; two nodes use about 1.5-2 GiB RSS in all.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${OS_DIR:-/tmp/sou-os}
HEAP=${OS_HEAP:-512m}
NAMES=(node-1 node-2)
HTTP_BASE=${OS_HTTP_PORT:-9200}
TRANSPORT_BASE=${OS_TRANSPORT_PORT:-9300}
HTTP=("$HTTP_BASE" $((HTTP_BASE + 1)))
TRANSPORT=("$TRANSPORT_BASE" $((TRANSPORT_BASE + 1)))

build() {
  if [ ! -f "$HERE/target/classpath.txt" ] || [ "$HERE/pom.xml" -nt "$HERE/target/classpath.txt" ] ||
     [ -n "$(find "$HERE/src" -newer "$HERE/target/classpath.txt" -print -quit)" ]; then
    local t0=$(date +%s)
    (cd "$HERE" && mvn -B -q -DskipTests package)
    echo "mvn package: $(( $(date +%s) - t0 )) s"
  fi
}

# Whether the node whose pid file is $1 is running. A killed node stays a zombie until its
# reaper collects it (here PID 1, after a second or two), and kill -0 succeeds on a zombie: a
# restart right after a kill then took the node for running and never started it.
running() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  # The state is the field after the command name, which is in parentheses and may hold spaces.
  [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# $2: client timeout in seconds; it must outlast a server-side wait given in $1.
health() { curl -s -m "${2:-5}" "http://127.0.0.1:${HTTP[0]}/_cluster/health?${1:-}"; }

start() {
  command -v java >/dev/null && command -v mvn >/dev/null && command -v curl >/dev/null
  build
  local cp="$HERE/target/classes:$(cat "$HERE/target/classpath.txt")"
  mkdir -p "$DIR"
  # Another cluster on these ports would answer the health checks below in our nodes' place.
  for i in 0 1; do
    local pidf="$DIR/${NAMES[$i]}/pid"
    if ! running "$pidf" &&
       curl -s -m 2 -o /dev/null "http://127.0.0.1:${HTTP[$i]}/"; then
      echo "port ${HTTP[$i]} is taken by a server this script did not start" >&2; exit 1
    fi
  done
  local t0 t1 t2
  t0=$(date +%s%N)
  for i in 0 1; do
    local n=${NAMES[$i]} home="$DIR/${NAMES[$i]}"
    mkdir -p "$home"
    if running "$home/pid"; then echo "$n already running"; continue; fi
    nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:ActiveProcessorCount=2 \
      -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Dlog4j2.formatMsgNoLookups=true \
      -Dsou.node="$n" -Dsou.home="$home" -Dsou.http="${HTTP[$i]}" -Dsou.transport="${TRANSPORT[$i]}" \
      -Dsou.seeds="127.0.0.1:${TRANSPORT[0]},127.0.0.1:${TRANSPORT[1]}" \
      -Dsou.initial="${NAMES[0]},${NAMES[1]}" -Dsou.cluster=sou-test \
      ${OS_EXTRA_JAVA_OPTS:-} -cp "$cp" sou.scaleout.OpenSearchNodeMain > "$home/stdout.log" 2>&1 &
    echo $! > "$home/pid"
  done
  # Bounded waits: HTTP up (120 x 1 s), then green with 2 nodes (server-side timeout 120 s).
  local up=0
  for _ in $(seq 1 120); do
    if health >/dev/null 2>&1; then up=1; break; fi
    sleep 1
  done
  [ $up = 1 ] || { echo "node-1 HTTP never answered; see $DIR/*/stdout.log" >&2; exit 1; }
  t1=$(date +%s%N)
  local h
  # A restarted node makes the cluster recover its shard copies first: green can take a while.
  h=$(health "wait_for_nodes=2&wait_for_status=green&timeout=120s" 130) \
    || { echo "no answer to the health check in 130 s; see $DIR/*/stdout.log" >&2; exit 1; }
  t2=$(date +%s%N)
  echo "$h"; echo
  echo "$h" | python3 -c 'import json,sys; h=json.load(sys.stdin); sys.exit(0 if not h["timed_out"] and h["status"]=="green" and h["number_of_nodes"]==2 else 1)' || { echo "cluster not green with 2 nodes" >&2; exit 1; }
  echo "HTTP up after $(( (t1 - t0) / 1000000 )) ms; 2-node green after $(( (t2 - t0) / 1000000 )) ms"
  status
}

status() {
  for n in "${NAMES[@]}"; do
    local pidf="$DIR/$n/pid"
    if running "$pidf"; then
      echo "$n pid $(cat "$pidf") rss $(awk '/VmRSS/{print $2}' /proc/"$(cat "$pidf")"/status) kB"
    else
      echo "$n not running"
    fi
  done
  curl -s -m 5 "http://127.0.0.1:${HTTP[0]}/_cat/nodes?v&h=name,ip,heap.max,node.role,cluster_manager" || true
}

stop() {
  for n in "${NAMES[@]}"; do
    local pidf="$DIR/$n/pid" pid
    [ -s "$pidf" ] || continue
    pid=$(cat "$pidf")
    if running "$pidf"; then
      kill -TERM "$pid"
      for _ in $(seq 1 60); do running "$pidf" || break; sleep 0.5; done
      if running "$pidf"; then echo "$n did not stop in 30 s; SIGKILL $pid"; kill -KILL "$pid"; fi
      echo "$n stopped"
    fi
    rm -f "$pidf"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  clean) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|status|stop|clean" >&2; exit 2 ;;
esac
