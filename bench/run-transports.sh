#!/usr/bin/env bash
# One table of transports under the same end-to-end workload (io.eventsync.bench.TransportBench):
# outbox commit on PostgreSQL -> relay -> transport -> Dispatcher + JdbcApplyScope + CopyTable ->
# copy commit on PostgreSQL. Writes bench-results/transports.txt (a Markdown table).
#   bench/run-transports.sh                      # log kafka nats rabbitmq http
#   bench/run-transports.sh kafka nats           # only those
#   EVENTS=20000 SECONDS_HALF=10 BACKLOG=5000 bench/run-transports.sh
#   ROUNDS=2 bench/run-transports.sh             # every transport twice, interleaved (shows the noise)
# Needs PostgreSQL (127.0.0.1:5432, postgres, db test), NATS JetStream (127.0.0.1:4222) and RabbitMQ
# (127.0.0.1:5672 guest/guest). Kafka is a LocalKafka broker in a child JVM started from the shaded
# jar's classpath and stopped after its run. Each transport runs in its own JVM (same cold start for
# all; the backlog phase warms up), one after the other; about 4-5 minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=eventsync-bench/target/benchmarks.jar
OUT=bench-results/transports.txt
EVENTS=${EVENTS:-20000}
SECONDS_HALF=${SECONDS_HALF:-10}
BACKLOG=${BACKLOG:-5000}
ROUNDS=${ROUNDS:-1}
TRANSPORTS=("$@")
if [[ ${#TRANSPORTS[@]} -eq 0 ]]; then
  TRANSPORTS=(log kafka nats rabbitmq http)
fi

if [[ "${REBUILD:-0}" == 1 || ! -f "$JAR" ]] \
    || [[ -n "$(find eventsync-*/src eventsync-*/pom.xml -newer "$JAR" -type f -print -quit)" ]]; then
  mvn -B -q -pl eventsync-bench -am package -DskipTests
fi

mkdir -p bench-results
rm -f "$OUT"
for ((round = 1; round <= ROUNDS; round++)); do
  for t in "${TRANSPORTS[@]}"; do
    java -Xmx1g -Devents="$EVENTS" -Dseconds="$SECONDS_HALF" -Dbacklog="$BACKLOG" -Dout="$OUT" -Dappend=true \
      -cp "$JAR" io.eventsync.bench.TransportBench "$t" > "bench-results/transports-$t.log" 2>&1 \
      || echo "$t: the JVM failed, see bench-results/transports-$t.log"
    grep -E '^measured' "bench-results/transports-$t.log" || true
  done
done
{
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)."
  echo "Command: EVENTS=$EVENTS SECONDS_HALF=$SECONDS_HALF BACKLOG=$BACKLOG ROUNDS=$ROUNDS bench/run-transports.sh ${TRANSPORTS[*]} (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
} >> "$OUT"
echo
cat "$OUT"
