#!/usr/bin/env bash
# basalt export (pull + merge + one tar) vs skopeo copy + umoci unpack, same image, same run.
# Image: the Debian test OS (~800 MB root), imported by basalt and pushed to a local registry.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/basalt-bench-export.XXXXXX); trap 'kill ${REGISTRY_PID:-0} 2>/dev/null; rm -rf "$work"' EXIT
fixture=$(bench_fixture)
start_registry "$work/registry"
"$BASALT" image import "$fixture/rootfs.tar" "docker://$REGISTRY/bench/testos:1" --tls-verify=false >/dev/null
bytes=$(stat -c %s "$fixture/rootfs.tar")
echo "image: $(du -sh "$fixture/rootfs" | cut -f1) root tree, $((bytes/1000000)) MB as tar"

drop_caches; a=$(now_ns)
BASALT_CACHE="$work/cache" "$BASALT" export --tls-verify=false "docker://$REGISTRY/bench/testos:1" --tar "$work/export.tar"
b=$(now_ns)
drop_caches; c=$(now_ns)
skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/bench/testos:1" "oci:$work/skopeo:1"
umoci unpack --image "$work/skopeo:1" "$work/bundle" >/dev/null
d=$(now_ns)
printf '%-36s %8s s %8s MB/s\n' "basalt export (pull+merge+tar)" "$(secs $a $b)" "$(mbps $bytes $a $b)"
printf '%-36s %8s s %8s MB/s\n' "skopeo copy + umoci unpack" "$(secs $c $d)" "$(mbps $bytes $c $d)"
awk -v x="$(( (b-a) ))" -v y="$(( (d-c) ))" 'BEGIN{printf "ratio (peer time / ours): %.2fx\n", y/x}'
