#!/usr/bin/env bash
# Runs the JMH benchmarks of eventsync-bench and writes the figures to bench-results/.
#   bench/run-jmh.sh                 # every benchmark
#   bench/run-jmh.sh CodecBenchmark  # only those matching a regex (any JMH arguments work)
# Builds eventsync-bench/target/benchmarks.jar first if it is missing or older than the sources
# (set REBUILD=1 to force). Settings are modest (1 fork, 2x2s warmup, 3x2s measurement) so a run
# takes minutes, not hours; pass JMH options after the regex to change them.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=eventsync-bench/target/benchmarks.jar
OUT=bench-results
if [[ "${REBUILD:-0}" == 1 || ! -f "$JAR" ]] \
    || [[ -n "$(find eventsync-core/src eventsync-bench/src eventsync-bench/pom.xml -newer "$JAR" -type f -print -quit)" ]]; then
  mvn -B -q -pl eventsync-bench -am package -DskipTests
fi

mkdir -p "$OUT"
java -jar "$JAR" -f 1 -wi 2 -w 2s -i 3 -r 2s -rf json -rff "$OUT/jmh.json" "$@" | tee "$OUT/jmh.txt"
echo "figures: $OUT/jmh.json (JSON), $OUT/jmh.txt (log and summary table)"
