#!/usr/bin/env bash
# Fleet server: device check-ins per second and p99 latency with 10,000 and 100,000 simulated devices, on SQLite and on
# PostgreSQL (Debian's postgresql, started here), then the time for a 10,000-device update through the server.
# Everything runs on this machine: server, database and simulator share its cores.
#
# A check-in = a new TLS connection with the device's own certificate (full handshake), a poll of the desired state
# that does not wait, and a status report; --concurrency check-ins in flight. Enrolled identities and the server
# state are kept in $BASALT_BENCH_FLEET_DIR (default /var/tmp/basalt-bench-fleet) so later runs skip the CSRs;
# the first run's enrollment rate is printed too.
. "$(dirname "$0")/lib.sh"
STATE=${BASALT_BENCH_FLEET_DIR:-/var/tmp/basalt-bench-fleet}
SIZES=${BASALT_BENCH_FLEET_SIZES:-"10000 100000"}
CHECKIN_SECONDS=${BASALT_BENCH_FLEET_SECONDS:-30}
CONCURRENCY=${BASALT_BENCH_FLEET_CONCURRENCY:-64}
ROLLOUT_DEVICES=${BASALT_BENCH_FLEET_ROLLOUT:-10000}
mkdir -p "$STATE"
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/basalt-bench-fleet.XXXXXX)
SERVER_PID=""; PG_BIN=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "$PG_BIN" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# start_postgres: Debian's PostgreSQL in $STATE/pg (kept), on a free port -> PG_URL
start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local port; port=$(free_port)
  if [ ! -f "$STATE/pg/PG_VERSION" ]; then
    mkdir -p "$STATE/pg"; chown postgres: "$STATE/pg"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$STATE/pg" -U basalt --auth=trust >/dev/null
  fi
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/pg" -l "$STATE/pg/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB" start >/dev/null
  psql -h 127.0.0.1 -p "$port" -U basalt -d postgres -tc "select 1 from pg_database where datname='fleet'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$port" -U basalt -d postgres -qc "create database fleet" >/dev/null
  PG_URL="jdbc:postgresql://127.0.0.1:$port/fleet?user=basalt"
}

# start_server NAME [--db URL] -> ADMIN_URL DEVICE_URL; the admin token in $STATE/NAME.token
start_server() {
  local name=$1; shift
  local port dport; port=$(free_port); dport=$(free_port)
  local tokfile="$STATE/$name.token"
  [ -f "$tokfile" ] || { printf 'bst_%s\n' "$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)" > "$tokfile"; chmod 600 "$tokfile"; }
  "$BASALT" server --bind 127.0.0.1 --port "$port" --device-port "$dport" --data "$STATE/$name" --admin-token-file "$tokfile" "$@" \
    > "$work/$name.out" 2> "$work/$name.err" &
  SERVER_PID=$!
  for _ in $(seq 600); do grep -q "admin API and UI at" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "admin API and UI at" "$work/$name.out" || { cat "$work/$name.err" >&2; echo "server $name did not start" >&2; exit 1; }
  ADMIN_URL="http://127.0.0.1:$port"; DEVICE_URL="https://127.0.0.1:$dport"
  export BASALT_FLEET_URL=$ADMIN_URL BASALT_FLEET_TOKEN; BASALT_FLEET_TOKEN=$(cat "$tokfile")
  "$BASALT" fleet ca > "$work/ca.pem"
  if [ ! -f "$STATE/$name.enroll" ]; then
    "$BASALT" fleet enrollment-tokens create bench --label simulated=true --auto-approve "" --secret-file "$STATE/$name.enroll" >/dev/null
  fi
}

stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

simulate() { # N NAME extra...
  local n=$1 name=$2; shift 2
  "$BASALT" simulate --devices "$n" --server "$DEVICE_URL" --ca "$work/ca.pem" \
    --enrollment-token-file "$STATE/$name.enroll" --identities "$STATE/ids-$name" --name-prefix "bench-" \
    --enroll-concurrency 8 "$@"
}

results=()
checkins() { # NAME DBLABEL
  local name=$1 label=$2
  for n in $SIZES; do
    local t0 t1 out
    t0=$(now_ns)
    out=$(simulate "$n" "$name" --check-ins "${CHECKIN_SECONDS}s" --concurrency "$CONCURRENCY" --format json 2> "$work/sim.err")
    t1=$(now_ns)
    local ready; ready=$(grep -ao "devices ready.*" "$work/sim.err" | head -1)
    local rate p50 p99 errs
    rate=$(jq -r .perSecond <<<"$out"); p50=$(jq -r .p50Millis <<<"$out"); p99=$(jq -r .p99Millis <<<"$out"); errs=$(jq -r .errors <<<"$out")
    results+=("$(printf '%-11s %7d devices: %6s check-ins/s   p50 %7.1f ms   p99 %7.1f ms   errors %s   (%s)' "$label" "$n" "$rate" "$p50" "$p99" "$errs" "$ready")")
    echo "${results[-1]}"
  done
}

rollout() { # NAME DBLABEL
  local name=$1 label=$2 n=$ROLLOUT_DEVICES
  local digest; digest="sha256:$(printf 'bench rollout %s' "$(date +%s%N)" | sha256sum | cut -d' ' -f1)"
  "$BASALT" fleet fleets delete bench >/dev/null 2>&1 || true
  "$BASALT" fleet fleets create bench --selector simulated=true >/dev/null
  simulate "$n" "$name" --download-time 0ms --reboot-time 0ms --poll-wait 30s --exit-when-booted "$digest" > "$work/roll.out" 2> "$work/roll.err" &
  local sim=$!
  for _ in $(seq 3000); do grep -q "devices ready" "$work/roll.err" 2>/dev/null && break; sleep 0.2; done
  sleep 10 # every device's first report and long poll are in
  local t0 t1; t0=$(now_ns)
  "$BASALT" fleet fleets set-target bench "bench.example/os@$digest" >/dev/null
  wait "$sim"; t1=$(now_ns)
  results+=("$(printf '%-11s %7d devices: update assigned to every device booted it in %s s (direct assignment; %s)' "$label" "$n" "$(secs "$t0" "$t1")" "$(tail -1 "$work/roll.out")")")
  echo "${results[-1]}"
  "$BASALT" fleet fleets delete bench >/dev/null
}

if [ "${BASALT_BENCH_FLEET_DBS:-sqlite pg}" != "pg" ]; then
echo "== SQLite"
start_server sqlite
checkins sqlite sqlite
rollout sqlite sqlite
stop_server
fi
echo "== PostgreSQL"
start_postgres
start_server pg --db "$PG_URL"
checkins pg postgresql
rollout pg postgresql
stop_server

echo
echo "Basalt fleet server on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), server + database + simulator on the same machine:"
printf '  %s\n' "${results[@]}"
echo "  The rollout engine (waves, soak) is not in this branch: the figure is the direct-assignment path (every member at once)."
echo "Peers: Eclipse hawkBit and Flight Control cannot run here (no Docker/Kubernetes); no published hawkBit check-in figures were found to quote."
