#!/usr/bin/env bash
# Image (oci: layout of the Debian test OS, gzip layer) -> bootable qcow2 disk with `basalt disk`
# (merge + EROFS + lint + verity + ESP + GPT + qcow2), beside what extracting the same image and
# making only its root filesystem costs with the reference tools: umoci unpack + mkfs.erofs, and
# mkfs.erofs alone on the already extracted tree. Same run; inputs warm in the page cache for both sides.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/basalt-bench-disk.XXXXXX); trap 'rm -rf "$work"' EXIT
fixture=$(bench_fixture)
bytes=$(du -sb --apparent-size "$fixture/rootfs" | cut -f1)
"$BASALT" image import --compression gzip "$fixture/rootfs.tar" "oci:$work/oci:1" >/dev/null
layer=$(du -sb "$work/oci/blobs" | cut -f1)
echo "image: $((bytes/1000000)) MB tree, $((layer/1000000)) MB of blobs (gzip: umoci cannot read zstd layers); erofs-utils $(dpkg-query -W -f "\${Version}" erofs-utils)"

# untimed first run: links the agent's Java runtime once (cached afterwards, as on any build machine)
"$BASALT" disk "oci:$work/oci:1" -o "$work/warm.qcow2" >/dev/null 2>&1; rm -f "$work/warm.qcow2"
warm_up "$work/oci"
drop_caches; a=$(now_ns); "$BASALT" disk "oci:$work/oci:1" -o "$work/disk.qcow2" >"$work/disk.txt" 2>/dev/null; b=$(now_ns)
drop_caches; c=$(now_ns)
umoci unpack --image "$work/oci:1" "$work/bundle" >/dev/null
mkfs.erofs --quiet "$work/peer.erofs" "$work/bundle/rootfs" >/dev/null
d=$(now_ns)
rm -f "$work/peer.erofs"
drop_caches; e=$(now_ns); mkfs.erofs --quiet "$work/peer.erofs" "$work/bundle/rootfs" >/dev/null; f=$(now_ns)

printf '%-44s %7s s %8s MB/s  %s\n' "basalt disk oci:IMAGE -> qcow2 (bootable)" "$(secs $a $b)" "$(mbps $bytes $a $b)" \
  "$(stat -c %s "$work/disk.qcow2") B file, $(qemu-img info --output=json "$work/disk.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p') B virtual"
printf '%-44s %7s s %8s MB/s\n' "umoci unpack + mkfs.erofs (root fs only)" "$(secs $c $d)" "$(mbps $bytes $c $d)"
printf '%-44s %7s s %8s MB/s  %s\n' "mkfs.erofs on the extracted tree alone" "$(secs $e $f)" "$(mbps $bytes $e $f)" "$(stat -c %s "$work/peer.erofs") B"
awk -v o="$((b-a))" -v p="$((d-c))" -v m="$((f-e))" \
  'BEGIN{printf "extract+mkfs.erofs time / basalt disk = %.2fx (goal > 1)\nmkfs.erofs alone time / basalt disk    = %.2fx\n", p/o, m/o}'
