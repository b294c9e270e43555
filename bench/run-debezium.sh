#!/usr/bin/env bash
# eventsync and Debezium's embedded engine side by side, one command, one run
# (io.eventsync.bench.DebeziumSideBySide in eventsync-bench-debezium): the same writers (W threads, 2,000
# keys, each transaction a business-row upsert + the case's event write) on a PostgreSQL 15 cluster of its
# own with wal_level=logical (scripts/pg-logical.sh, port 5433; the shared 5432 cluster is not touched),
# applied exactly once with a version guard to a copy in another schema, through
#   query     eventsync outbox table + query relay + embedded log + Dispatcher/JdbcApplyScope/CopyTable
#   wal       eventsync WalOutbox (logical messages) + WAL relay + the same embedded log and consumer
#   direct    eventsync WalOutbox + WAL relay handing events straight to the same consumer (DirectPublisher,
#             no log); the slot advances only past committed copy transactions
#   debezium  Debezium 3.6.1 embedded (pgoutput, outbox table in a publication) + a hand-written consumer,
#             one copy transaction per Debezium batch (inbox + version-guarded upsert)
#   dual      plain dual write: the writer upserts the copy itself (the floor of the writers' cost)
#   plain     the business transaction alone, no event, no copy (the writers' ceiling)
# Each case runs in its own JVM from empty schemas, its slot and publication dropped after it; the cases
# are interleaved over ROUNDS. Writes bench-results/debezium.txt (Markdown; medians and the ratios
# eventsync / Debezium) and prints it.
#   bench/run-debezium.sh                              # all six cases, 3 rounds (about 15-18 minutes)
#   ROUNDS=1 EVENTS=10000 bench/run-debezium.sh        # shorter
#   bench/run-debezium.sh wal debezium                 # only those cases
#   WRITERS=8 EVENTS=20000 BACKLOG=5000 SECONDS_HALF=10 ROUNDS=3 (the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=eventsync-bench-debezium/target/debezium-bench.jar
OUT=bench-results/debezium.txt
RAW=bench-results/debezium-raw.tsv
ROUNDS=${ROUNDS:-3}
WRITERS=${WRITERS:-8}
EVENTS=${EVENTS:-20000}
BACKLOG=${BACKLOG:-5000}
SECONDS_HALF=${SECONDS_HALF:-10}
PORT=${PG_LOGICAL_PORT:-5433}
CASES=("$@")
if [[ ${#CASES[@]} -eq 0 ]]; then
  CASES=(query wal direct debezium dual plain)
fi
COMMAND="ROUNDS=$ROUNDS WRITERS=$WRITERS EVENTS=$EVENTS BACKLOG=$BACKLOG SECONDS_HALF=$SECONDS_HALF bench/run-debezium.sh ${CASES[*]} (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"

scripts/pg-logical.sh

if [[ "${REBUILD:-0}" == 1 || ! -f "$JAR" ]] \
    || [[ -n "$(find eventsync-*/src eventsync-*/pom.xml pom.xml -newer "$JAR" -type f -print -quit)" ]]; then
  mvn -B -q -pl eventsync-bench-debezium -am package -DskipTests
fi

mkdir -p bench-results
rm -f "$RAW"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= ROUNDS; round++)); do
  for c in "${CASES[@]}"; do
    log="bench-results/debezium-$c.log"
    [[ $round -eq 1 ]] && : > "$log"
    echo "round $round/$ROUNDS: $c ..."
    java -Xmx1g -Dwriters="$WRITERS" -Devents="$EVENTS" -Dbacklog="$BACKLOG" -Dseconds="$SECONDS_HALF" \
      -Dround="$round" -Dout="$RAW" -Dpg.url="jdbc:postgresql://127.0.0.1:$PORT/test" \
      -cp "$JAR" io.eventsync.bench.DebeziumSideBySide "$c" >> "$log" 2>&1 \
      || echo "$c: the JVM failed, see $log"
    grep -E '^measured' "$log" | tail -n1 || true
    # A slot a failed case left behind would keep WAL: pg-logical.sh drops inactive es_bench_ slots.
    scripts/pg-logical.sh > /dev/null
  done
done
java -cp "$JAR" io.eventsync.bench.DebeziumReport "$RAW" "$OUT" "$LOAD_START" "$COMMAND"
echo "written to $OUT"
