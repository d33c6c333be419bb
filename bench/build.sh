#!/usr/bin/env bash
# basalt image build of examples/edge-node, pushed to a local registry: cold (empty layer cache, empty
# registry) vs after a one-file change (only the customization layer is rebuilt and pushed) vs unchanged.
# Base: the Debian test OS imported into an OCI layout (not timed).
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/basalt-bench-build.XXXXXX); trap 'kill ${REGISTRY_PID:-0} 2>/dev/null; rm -rf "$work"' EXIT
fixture=$(bench_fixture)
start_registry "$work/registry"
"$BASALT" image import --compression zstd "$fixture/rootfs" "oci:$work/base:latest" >/dev/null 2>&1
cp -r "$BENCH_ROOT/examples/edge-node" "$work/spec"
export SOURCE_DATE_EPOCH=1747699200
build() {
  "$BASALT" image build -f "$work/spec/os.yaml" -t "docker://$REGISTRY/bench/edge:1" --tls-verify=false \
    --base-override "oci:$work/base:latest" --cache-dir "$work/cache" 2>"$work/err" | tail -1
}
inner() { grep -ao 'in [0-9]* ms' "$work/err"; }
drop_caches; a=$(now_ns); d1=$(build); b=$(now_ns); i1=$(inner)
echo "cold:" && grep -a 'bytes' "$work/err" | sed 's/^[^ ]*  /  /'
echo "# changed" >> "$work/spec/motd"
drop_caches; c=$(now_ns); d2=$(build); d=$(now_ns); i2=$(inner)
echo "after a one-file change:" && grep -a 'bytes' "$work/err" | sed 's/^[^ ]*  /  /'
drop_caches; e=$(now_ns); d3=$(build); f=$(now_ns); i3=$(inner)
# Wall time includes the ./basalt launcher (JVM start, staleness check); "build" is the build itself.
printf '%-36s %8s s wall, build %s  %s\n' "cold build + push" "$(secs $a $b)" "$i1" "$d1"
printf '%-36s %8s s wall, build %s  %s\n' "one-file change: rebuild + push" "$(secs $c $d)" "$i2" "$d2"
printf '%-36s %8s s wall, build %s  %s\n' "unchanged: rebuild + push" "$(secs $e $f)" "$i3" "$d3"
[ "$d2" = "$d3" ] || { echo "unchanged rebuild gave a different digest" >&2; exit 1; }
