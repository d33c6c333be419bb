#!/usr/bin/env bash
# (1) our EROFS writer vs mkfs.erofs on the same extracted Debian tree;
# (2) image reference -> EROFS (merge + write, no extraction) vs extract + mkfs.erofs. Same run.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/basalt-bench-erofs.XXXXXX); trap 'rm -rf "$work"' EXIT
fixture=$(bench_fixture)
tree="$fixture/rootfs"
bytes=$(du -sb --apparent-size "$tree" | cut -f1)
"$BASALT" image import "$fixture/rootfs.tar" "oci:$work/oci:1" >/dev/null
warm_up "$tree" "$work/oci"
echo "tree: $((bytes/1000000)) MB, $(find "$tree" | wc -l) entries; mkfs.erofs (erofs-utils $(dpkg-query -W -f='${Version}' erofs-utils))"

drop_caches; a=$(now_ns); "$BASALT" mkfs erofs "$tree" "$work/ours-dir.erofs" >/dev/null; b=$(now_ns)
drop_caches; c=$(now_ns); mkfs.erofs --quiet "$work/peer-dir.erofs" "$tree" >/dev/null; d=$(now_ns)
drop_caches; e=$(now_ns); "$BASALT" mkfs erofs "oci:$work/oci:1" "$work/ours-img.erofs" >/dev/null; f=$(now_ns)
drop_caches; g=$(now_ns)
umoci unpack --image "$work/oci:1" "$work/bundle" >/dev/null
mkfs.erofs --quiet "$work/peer-img.erofs" "$work/bundle/rootfs" >/dev/null
h=$(now_ns)
printf '%-44s %7s s %8s MB/s  %s\n' "basalt mkfs erofs DIR" "$(secs $a $b)" "$(mbps $bytes $a $b)" "$(stat -c %s "$work/ours-dir.erofs") B"
printf '%-44s %7s s %8s MB/s  %s\n' "mkfs.erofs DIR" "$(secs $c $d)" "$(mbps $bytes $c $d)" "$(stat -c %s "$work/peer-dir.erofs") B"
printf '%-44s %7s s %8s MB/s\n' "basalt mkfs erofs oci:IMAGE (merge+write)" "$(secs $e $f)" "$(mbps $bytes $e $f)"
printf '%-44s %7s s %8s MB/s\n' "umoci unpack + mkfs.erofs" "$(secs $g $h)" "$(mbps $bytes $g $h)"
awk -v o="$((b-a))" -v p="$((d-c))" -v oi="$((f-e))" -v pi="$((h-g))" \
  'BEGIN{printf "from a directory: mkfs.erofs time / ours = %.2fx (goal >= 1)\nfrom an image:    extract+mkfs time / ours = %.2fx (goal >= 2)\n", p/o, pi/oi}'
