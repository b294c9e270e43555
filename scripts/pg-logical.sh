#!/usr/bin/env bash
# A PostgreSQL cluster of its own with wal_level=logical, for the WAL relay's tests and benchmarks.
# The shared cluster (port 5432) keeps wal_level=replica and is never reconfigured. Idempotent: creates
# the cluster only when `pg_lsclusters` does not list it, (re)writes its settings, starts it when it is
# down, waits until it accepts connections, and creates the database `test`.
#   PG_LOGICAL_PORT (default 5433), PG_LOGICAL_VERSION (default: the installed major), PG_LOGICAL_NAME (logical)
set -euo pipefail

port=${PG_LOGICAL_PORT:-5433}
version=${PG_LOGICAL_VERSION:-$(ls /etc/postgresql | sort -n | tail -n1)}
name=${PG_LOGICAL_NAME:-logical}
conf=/etc/postgresql/$version/$name

log() { printf '[pg-logical] %s\n' "$*"; }

if ! pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { found = 1 } END { exit !found }'; then
  log "creating cluster $version/$name on port $port"
  pg_createcluster "$version" "$name" -p "$port" >/dev/null
fi

mkdir -p "$conf/conf.d"
cat >"$conf/conf.d/90-logical.conf" <<CONF
# written by scripts/pg-logical.sh
listen_addresses = '127.0.0.1'
port = $port
wal_level = logical
max_replication_slots = 64
max_wal_senders = 64
CONF

# Trust for local and 127.0.0.1 connections, replication connections included.
cat >"$conf/pg_hba.conf" <<HBA
# written by scripts/pg-logical.sh: a test cluster, trust on the loopback only
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
HBA
chown -R postgres:postgres "$conf"

ready() { pg_isready -q -h 127.0.0.1 -p "$port"; }
running_wal_level() { psql -h 127.0.0.1 -p "$port" -U postgres -tAc 'show wal_level' 2>/dev/null; }

if ready && [ "$(running_wal_level)" != logical ]; then
  log "cluster $version/$name runs without wal_level=logical: restarting it"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" restart
elif ! ready; then
  log "starting cluster $version/$name"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start || true
fi

for _ in $(seq 1 120); do
  ready && break
  sleep 0.5
done
if ! ready; then
  log "cluster $version/$name did not come up on 127.0.0.1:$port; see /var/log/postgresql/postgresql-$version-$name.log"
  exit 1
fi
# A running cluster re-reads pg_hba.conf on reload; settings that need a restart were handled above.
psql -h 127.0.0.1 -p "$port" -U postgres -qtAc 'select pg_reload_conf()' >/dev/null
psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$port" -U postgres -qc "create database test"
# Test and benchmark slots (es_t_..., es_bench_...) that a killed run left behind would keep WAL forever: drop the inactive ones.
psql -h 127.0.0.1 -p "$port" -U postgres -d test -qtAc \
  "select pg_drop_replication_slot(slot_name) from pg_replication_slots where (slot_name like 'es\\_t\\_%' or slot_name like 'es\\_bench\\_%') and not active" >/dev/null
log "cluster $version/$name is up on 127.0.0.1:$port with wal_level=$(running_wal_level)"
