# Shared helpers for bench scripts. Source it.
set -euo pipefail
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$BENCH_ROOT/scripts/lib.sh"
basalt_apt_install "${BASALT_TOOL_PACKAGES[@]}" hyperfine >/dev/null
JAVA_HOME="$(basalt_find_jdk)"; export JAVA_HOME
BASALT="$BENCH_ROOT/basalt"
"$BASALT" --version >/dev/null   # build outside the timings

# now_ns: monotonic-ish wall clock in ns
now_ns() { date +%s%N; }
# secs START END
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b-a)/1e9}'; }
# mbps BYTES START END
mbps() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", n/1e6/((b-a)/1e9)}'; }
# Every timed command starts with the same warm page cache: inputs are read once before timing (warm_up),
# and dirty pages of the previous step are flushed so that one side's writeback never bills the other.
# (Dropping caches instead would mostly time the JVM reading its own module image from disk.)
drop_caches() { sync; }
warm_up() { for p in "$@"; do tar -cf - "$p" 2>/dev/null | cat > /dev/null; done; }

bench_fixture() { bash "$BENCH_ROOT/fixtures/testos/build.sh" --print-dir; }

# free_port
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_registry DIR -> sets REGISTRY (host:port) and REGISTRY_PID
start_registry() {
  local dir=$1 port; port=$(free_port)
  mkdir -p "$dir"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: 127.0.0.1:%s}\n' "$dir" "$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 100); do curl -fs "http://$REGISTRY/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "registry did not start" >&2; return 1
}
