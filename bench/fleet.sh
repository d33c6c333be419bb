#!/usr/bin/env bash
# Fleet server: device check-ins per second and p99 latency with 10,000 and 100,000 simulated devices, on SQLite and on
# PostgreSQL (Debian's postgresql, started here), then a 10,000-device rollout in 5 waves with zero soak through the
# rollout API. Everything runs on this machine: server, database and simulator share its cores.
#
#   bench/fleet.sh [--devices N]... [--db sqlite|postgresql|both] [--rollout N|0] [--seconds S]
#   (--devices 0: no check-ins, --rollout 0: no rollout)
#
# A check-in = a poll of the desired state that does not wait, then a status report; --concurrency 64 in flight,
# the devices taken in turn. Measured over three kinds of connection:
#   keep-alive  each device keeps one HTTPS connection open (as the node agent does), opened in a warm-up pass;
#               only when the fleet fits in the file descriptors (each side holds one socket per device)
#   resumed     a new connection per check-in that resumes the device's TLS session (abbreviated handshake)
#   full        a new connection and a full mTLS handshake per check-in (a device that just booted)
# Enrolled identities and the server state are kept in $BASALT_BENCH_FLEET_DIR (default /var/tmp/basalt-bench-fleet)
# so later runs skip the CSRs; a run that enrolls prints the enrollment rate.
#
# Last figures (2 cores shared with other jobs, load average 5-22 during the runs; 10,000 devices; a 100,000 run needs
# ~18 min of enrollment per database at these rates, and keep-alive at 100,000 needs 100,000 sockets per side while
# the open-file limit here is 20,000):
#                    enrollment  keep-alive check-ins  new connection (full mTLS)  rollout 5 waves, soak 0
#   SQLite            95/s        2,848-3,132/s p99 86-157 ms   123-157/s p99 0.9-1.6 s    43.0 s
#   PostgreSQL       123/s        1,042/s p99 228 ms (tests ran alongside)   192/s p99 0.83 s   56.0 s
# (before this change: enrollment 25-33/s, check-ins 95/s SQLite and 134/s PostgreSQL, all new connections.)
# "resumed" measures the same as "full": the server answers a TLS 1.3 resumption offer with a full handshake.
. "$(dirname "$0")/lib.sh"
STATE=${BASALT_BENCH_FLEET_DIR:-/var/tmp/basalt-bench-fleet}
SIZES=()
DBS=both
CHECKIN_SECONDS=${BASALT_BENCH_FLEET_SECONDS:-30}
CONCURRENCY=${BASALT_BENCH_FLEET_CONCURRENCY:-64}
ROLLOUT_DEVICES=${BASALT_BENCH_FLEET_ROLLOUT:-10000}
while [ $# -gt 0 ]; do
  case "$1" in
    --devices) SIZES+=("$2"); shift 2 ;;
    --db) DBS=$2; shift 2 ;;
    --rollout) ROLLOUT_DEVICES=$2; shift 2 ;;
    --seconds) CHECKIN_SECONDS=$2; shift 2 ;;
    *) echo "usage: bench/fleet.sh [--devices N]... [--db sqlite|postgresql|both] [--rollout N|0] [--seconds S]" >&2; exit 2 ;;
  esac
done
[ ${#SIZES[@]} -gt 0 ] || read -r -a SIZES <<< "${BASALT_BENCH_FLEET_SIZES:-10000 100000}"
case "$DBS" in sqlite|postgresql|both) ;; *) echo "--db must be sqlite, postgresql or both, got $DBS" >&2; exit 2 ;; esac
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

# start_postgres: Debian's PostgreSQL in $STATE/pg (kept), on a free port -> PG_PORT
start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local port; port=$(free_port)
  if [ ! -f "$STATE/pg/PG_VERSION" ]; then
    mkdir -p "$STATE/pg"; chown postgres: "$STATE/pg"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$STATE/pg" -U basalt --auth=trust >/dev/null
  fi
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/pg" -l "$STATE/pg/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB" start >/dev/null
  PG_PORT=$port
}
# pg_url DBNAME: the JDBC URL of that database (created when missing)
pg_url() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U basalt -d postgres -tc "select 1 from pg_database where datname='$1'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$PG_PORT" -U basalt -d postgres -qc "create database $1" >/dev/null
  echo "jdbc:postgresql://127.0.0.1:$PG_PORT/$1?user=basalt"
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


# fd budget: each kept-alive device holds a socket in the simulator and one in the server
FD_LIMIT=$(ulimit -n)
results=()
checkins() { # NAME DBLABEL
  local name=$1 label=$2
  for n in "${SIZES[@]}"; do
    [ "$n" -gt 0 ] || continue # --devices 0: the rollout only
    local conns="resumed,full" t0 t1
    if [ "$n" -le $((FD_LIMIT - 2000)) ]; then conns="keep-alive,resumed,full"; fi
    t0=$(now_ns)
    simulate "$n" "$name" --check-ins "${CHECKIN_SECONDS}s" --concurrency "$CONCURRENCY" --connection "$conns" --format json \
      > "$work/checkins.json" 2> "$work/sim.err" || { tail -5 "$work/sim.err" >&2; echo "simulate failed" >&2; exit 1; }
    t1=$(now_ns)
    local ready enrolled secs
    ready=$(grep -ao "devices ready.*" "$work/sim.err" | head -1)
    enrolled=$(sed -n 's/.*(\([0-9]*\) enrolled now.*/\1/p' <<<"$ready"); secs=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' <<<"$ready")
    if [ "${enrolled:-0}" -gt 0 ]; then
      results+=("$(printf '%-11s %7d devices: enrollment %s devices in %s s = %s/s (CSR, certificate, mTLS identity; %s in parallel)' \
        "$label" "$n" "$enrolled" "$secs" "$(awk -v a="$enrolled" -v b="$secs" 'BEGIN{printf "%.0f", a/b}')" "$ENROLL_CONCURRENCY")")
      echo "${results[-1]}"
    fi
    grep -a "warm-up" "$work/sim.err" | sed 's/^simulate: /  /' || true
    if [ "$n" -gt $((FD_LIMIT - 2000)) ]; then
      results+=("$(printf '%-11s %7d devices: keep-alive not measured: %d sockets per side exceed the open-file limit %d here' "$label" "$n" "$n" "$FD_LIMIT")")
      echo "${results[-1]}"
    fi
    while read -r line; do
      results+=("$(jq -r --arg l "$label" '"\($l|.[0:11]|. + (" " * (11 - length)))  \(.devices|tostring|(" " * (7 - length)) + .) devices: \(.connection|. + (" " * (14 - length))) \(.perSecond|tostring|(" " * (6 - length)) + .) check-ins/s   p50 \(.p50Millis*10|round/10) ms   p99 \(.p99Millis*10|round/10) ms   errors \(.errors)"' <<<"$line")")
      echo "${results[-1]}"
    done < <(jq -c . "$work/checkins.json")
  done
}

INITIAL_DIGEST="sha256:$(printf 'basalt simulated initial image' | sha256sum | cut -d' ' -f1)"

rollout() { # NAME DBLABEL: a rollout in 5 waves, zero soak, through POST /api/v1/fleets/{name}/rollouts
  local name=$1 label=$2 n=$ROLLOUT_DEVICES
  local digest; digest="sha256:$(printf 'bench rollout %s' "$(date +%s%N)" | sha256sum | cut -d' ' -f1)"
  "$BASALT" fleet fleets delete bench >/dev/null 2>&1 || true
  "$BASALT" fleet fleets create bench --selector simulated=true >/dev/null
  "$BASALT" fleet fleets set-target bench "simulated.example/os@$INITIAL_DIGEST" >/dev/null
  simulate "$n" "$name" --download-time 0ms --reboot-time 0ms --poll-wait 30s --exit-when-booted "$digest" --format json > "$work/roll.out" 2> "$work/roll.err" &
  local sim=$!
  for _ in $(seq 3000); do grep -q "devices ready" "$work/roll.err" 2>/dev/null && break; kill -0 $sim 2>/dev/null || break; sleep 0.2; done
  grep -q "devices ready" "$work/roll.err" || { cat "$work/roll.err" >&2; echo "simulator did not start" >&2; exit 1; }
  # every device's first report is in (the simulator prints its operations every 10 s), then its long poll
  for _ in $(seq 600); do
    [ "$(grep -ao '[0-9]* operations' "$work/roll.err" | tail -1 | cut -d' ' -f1)" -ge "$n" ] 2>/dev/null && break
    kill -0 $sim 2>/dev/null || break; sleep 1
  done
  sleep 2
  local body t0 t1 t2 id phase=""
  body=$(jq -nc --arg ref "bench.example/os@$digest" '{targetRef: $ref, policy: {batches: ["20%", "40%", "60%", "80%", "100%"], soak: "PT0S"}}')
  t0=$(now_ns)
  id=$(curl -fsS -X POST -H "Authorization: Bearer $BASALT_FLEET_TOKEN" -H 'Content-Type: application/json' -d "$body" \
    "$ADMIN_URL/api/v1/fleets/bench/rollouts" | jq -r .id)
  wait "$sim"; t1=$(now_ns)
  for _ in $(seq 1200); do
    phase=$(curl -fsS -H "Authorization: Bearer $BASALT_FLEET_TOKEN" "$ADMIN_URL/api/v1/rollouts/$id" | jq -r .phase)
    case "$phase" in SUCCEEDED|succeeded|FAILED|failed|ABORTED|aborted) break ;; esac
    sleep 0.1
  done
  t2=$(now_ns)
  results+=("$(printf '%-11s %7d devices: rollout in 5 waves, zero soak: every device booted the new image %s s after POST .../rollouts, rollout %s after %s s (status-report p99 %s ms since the simulator started, its cold start of %d handshakes included)' \
    "$label" "$n" "$(secs "$t0" "$t1")" "$phase" "$(secs "$t0" "$t2")" "$(jq -r '.p99Millis|round' "$work/roll.out")" "$n")")
  echo "${results[-1]}"
  "$BASALT" fleet fleets delete bench >/dev/null
}

ENROLL_CONCURRENCY=${BASALT_BENCH_FLEET_ENROLL_CONCURRENCY:-32}
simulate() { # N NAME extra...
  local n=$1 name=$2; shift 2
  "$BASALT" simulate --devices "$n" --server "$DEVICE_URL" --ca "$work/ca.pem" \
    --enrollment-token-file "$STATE/$name.enroll" --identities "$STATE/ids-$name" --name-prefix "bench-" \
    --enroll-concurrency "$ENROLL_CONCURRENCY" "$@"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$DBS" != postgresql ]; then
  echo "== SQLite"
  start_server sqlite
  checkins sqlite sqlite
  stop_server
  if [ "$ROLLOUT_DEVICES" -gt 0 ]; then
    # A server of its own, so that the fleet is exactly the rollout's devices.
    start_server sqlite-rollout
    rollout sqlite-rollout sqlite
    stop_server
  fi
fi
if [ "$DBS" != sqlite ]; then
  echo "== PostgreSQL"
  start_postgres
  start_server pg --db "$(pg_url fleet)"
  checkins pg postgresql
  stop_server
  if [ "$ROLLOUT_DEVICES" -gt 0 ]; then
    start_server pg-rollout --db "$(pg_url fleet_rollout)"
    rollout pg-rollout postgresql
    stop_server
  fi
fi

echo
echo "Basalt fleet server on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), server + database + simulator on the same machine (load after: $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '  %s\n' "${results[@]}"
echo "Peers: Eclipse hawkBit and Flight Control cannot run here (no Docker/Kubernetes); no published hawkBit check-in figures were found to quote."
