#!/bin/bash
# Usage: scripts/bench-scaling.sh  (needs Redis at OPBX_REDIS_URL; results in var/bench-scaling/)
# Scaling figures for docs/benchmarks.md: throughput of 1 process vs 2 workers over Redis,
# and cross-node publish-to-delivery latency.
set -u
cd "$(dirname "$0")/.."
B=.venv/bin/opbx
OUT=${OUT:-var/bench-scaling}
mkdir -p "$OUT"
export OPBX_REDIS_URL=${OPBX_REDIS_URL:-redis://127.0.0.1:6379/0}
wait_port() { for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
run_server() { # port, extra args...
  local port=$1; shift
  OPBX_ADAPTER=redis OPBX_REDIS_PREFIX=bench-$port $B realtime --port $port --no-metrics --log-level warning "$@" > $OUT/server-$port.log 2>&1 &
  echo $!
}
# 1. throughput, one process on the local adapter (reference)
$B bench --spawn --no-pin --scenario throughput --label "1 process, local adapter" --json $OUT/local.json > $OUT/local.txt 2>&1
# 2. throughput, one process on Redis
pid=$(run_server 7001); wait_port 7001
c0=$(.venv/bin/python scripts/cpu_seconds.py $pid)
$B bench --port 7001 --no-pin --scenario throughput --label "1 process, redis adapter" --json $OUT/redis1.json > $OUT/redis1.txt 2>&1
echo "redis1 server cpu $(.venv/bin/python scripts/cpu_seconds.py $pid) - $c0" >> $OUT/cpu.txt
kill $pid; wait $pid 2>/dev/null
# 3. throughput, two workers on Redis
pid=$(run_server 7002 --workers 2); wait_port 7002; sleep 1
c0=$(.venv/bin/python scripts/cpu_seconds.py $pid)
$B bench --port 7002 --no-pin --scenario throughput --label "2 workers, redis adapter" --json $OUT/redis2.json > $OUT/redis2.txt 2>&1
echo "redis2 server cpu $(.venv/bin/python scripts/cpu_seconds.py $pid) - $c0" >> $OUT/cpu.txt
kill $pid; wait $pid 2>/dev/null
# 4. latency: same node (redis) and cross-node (two nodes, publish through the other)
a=$(OPBX_ADAPTER=redis OPBX_REDIS_PREFIX=bench-x $B realtime --port 7101 --no-metrics --log-level warning > $OUT/a.log 2>&1 & echo $!)
b=$(OPBX_ADAPTER=redis OPBX_REDIS_PREFIX=bench-x $B realtime --port 7102 --no-metrics --log-level warning > $OUT/b.log 2>&1 & echo $!)
wait_port 7101; wait_port 7102
$B bench --port 7101 --no-pin --scenario latency --label "same node (redis)" --json $OUT/lat-same.json > $OUT/lat-same.txt 2>&1
$B bench --port 7101 --publish-port 7102 --no-pin --scenario latency --label "cross-node (redis)" --json $OUT/lat-cross.json > $OUT/lat-cross.txt 2>&1
kill $a $b; wait 2>/dev/null
echo finished
