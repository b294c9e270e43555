#!/usr/bin/env bash
# A MariaDB server of its own with row-format binlogs, for the binlog relay's tests and benchmarks.
# The shared server (port 3306) is never reconfigured. Idempotent: initializes the data directory only
# when it has no system tables yet, starts mariadbd in the background when nothing answers on the port,
# waits until it accepts connections, refuses to go on when the running server has the binlog off or not
# in ROW format, and creates the database `test`. root has an empty password over TCP on the loopback.
#   MARIADB_BINLOG_PORT (default 3307), MARIADB_BINLOG_DIR (default /var/lib/mariadb-binlog),
#   MARIADB_BINLOG_SERVER_ID (default 3307)
set -euo pipefail

port=${MARIADB_BINLOG_PORT:-3307}
base=${MARIADB_BINLOG_DIR:-/var/lib/mariadb-binlog}
server_id=${MARIADB_BINLOG_SERVER_ID:-3307}
data=$base/data
run=$base/run
log_file=$base/mariadbd.log

log() { printf '[mariadb-binlog] %s\n' "$*"; }
sql() { mariadb --protocol=tcp -h 127.0.0.1 -P "$port" -uroot -N -B "$@"; }
ready() { sql -e 'select 1' >/dev/null 2>&1; }

mkdir -p "$data" "$run"
chown -R mysql:mysql "$base"

if [ ! -d "$data/mysql" ]; then
  log "initializing $data"
  # --auth-root-authentication-method=normal: root@localhost with an empty password (not unix_socket),
  # so the tests connect over TCP like they do to the shared server.
  mariadb-install-db --no-defaults --user=mysql --datadir="$data" --auth-root-authentication-method=normal \
    --skip-test-db >"$base/install.log" 2>&1 || { log "mariadb-install-db failed, see $base/install.log"; exit 1; }
fi

if ! ready; then
  log "starting mariadbd on 127.0.0.1:$port"
  # --no-defaults: nothing from /etc/mysql (the shared server's settings, its socket and port) applies.
  start-stop-daemon --start --oknodo --background --pidfile "$run/mariadbd.pid" --exec /usr/sbin/mariadbd -- \
    --no-defaults --user=mysql --datadir="$data" --socket="$run/mariadbd.sock" --pid-file="$run/mariadbd.pid" \
    --port="$port" --bind-address=127.0.0.1 --log-error="$log_file" \
    --server-id="$server_id" --log-bin="$data/binlog" --binlog-format=ROW --binlog-row-image=FULL \
    --max-binlog-size=256M --expire-logs-days=1 --innodb-buffer-pool-size=256M --max-connections=500
fi

for _ in $(seq 1 120); do
  ready && break
  sleep 0.5
done
if ! ready; then
  log "mariadbd did not come up on 127.0.0.1:$port; see $log_file"
  exit 1
fi

read -r log_bin format image < <(sql -e 'select @@log_bin, @@binlog_format, @@binlog_row_image')
if [ "$log_bin" != 1 ] || [ "$format" != ROW ] || [ "$image" != FULL ]; then
  log "the server on 127.0.0.1:$port runs with log_bin=$log_bin binlog_format=$format binlog_row_image=$image;"
  log "stop it (kill \$(cat $run/mariadbd.pid)) and run this script again"
  exit 1
fi
sql -e 'create database if not exists test'
# Root from 127.0.0.1 (a TCP client may be seen as 127.0.0.1 rather than localhost), empty password.
sql -e "create user if not exists 'root'@'127.0.0.1' identified by ''; grant all on *.* to 'root'@'127.0.0.1' with grant option"
log "mariadbd is up on 127.0.0.1:$port with log_bin=ON binlog_format=$format binlog_row_image=$image"
