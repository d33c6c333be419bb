#!/usr/bin/env bash
# Node upgrade with a one-layer change: v1 = the Debian test OS (one gzip layer), v2 = v1 + one small
# layer (a package-sized file set), both in a local docker-registry. Ours: `basalt upgrade` of a disk
# made from v1, offline with the node test hooks (--sysroot/--disk/--esp): download into the blob
# cache + merge into slot b + verity + boot files + entry. Peer: `skopeo copy` of v2 into an oci:
# layout already holding v1 (the pull bootc/rpm-ostree-style clients do; it writes no slot).
# Then the agent's footprint: RSS of `basalt agent` idle after startup, run from the jlinked runtime
# of the node layer with the wrapper's flags, and the node layer's size. Same run for both sides.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/basalt-bench-upgrade.XXXXXX)
cleanup() { [ -n "${AGENT_PID:-}" ] && kill "$AGENT_PID" 2>/dev/null; [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fixture=$(bench_fixture)
start_registry "$work/registry"
repo=$REGISTRY/bench/os

# ---- images: v1 and v2 = v1 + one layer (GNU tar, gzip), pushed with skopeo (untimed)
"$BASALT" image import --compression gzip "$fixture/rootfs.tar" "oci:$work/oci:base" >/dev/null 2>&1
# v1 as `basalt image build` makes node images: the base + the node layer with the agent
printf 'base: oci:%s:base\nfiles:\n  - path: /etc/bench-version\n    contents: "v1\\n"\n' "$work/oci" > "$work/os.yaml"
"$BASALT" image build -f "$work/os.yaml" -t "oci:$work/oci:v1" --agent >/dev/null 2>&1
mkdir -p "$work/pkg/usr/share/doc/bench-pkg" "$work/pkg/usr/bin"
head -c 300000 /dev/urandom > "$work/pkg/usr/bin/bench-pkg"; chmod 755 "$work/pkg/usr/bin/bench-pkg"
echo "bench package v2" > "$work/pkg/usr/share/doc/bench-pkg/README"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix --pax-option=delete=atime,delete=ctime \
  -C "$work/pkg" -cf "$work/layer.tar" usr
gzip -n -k "$work/layer.tar"
python3 - "$work/oci" "$work/layer.tar" "$work/layer.tar.gz" <<'PY'
import hashlib, json, os, sys
lay, tar, gz = sys.argv[1:]
def blob(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{lay}/blobs/sha256/{h}", "wb").write(b); return "sha256:" + h
def read(d): return open(f"{lay}/blobs/sha256/{d[7:]}", "rb").read()
idx = json.load(open(f"{lay}/index.json"))
src = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1")
man = json.loads(read(src["digest"])); cfg = json.loads(read(man["config"]["digest"]))
cfg["rootfs"]["diff_ids"].append(blob(open(tar, "rb").read()))
g = open(gz, "rb").read()
cb = json.dumps(cfg).encode(); man["config"].update(digest=blob(cb), size=len(cb))
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(g), "size": len(g)})
mb = json.dumps(man).encode()
idx["manifests"].append({"mediaType": src["mediaType"], "digest": blob(mb), "size": len(mb),
                         "annotations": {"org.opencontainers.image.ref.name": "v2"}})
json.dump(idx, open(f"{lay}/index.json", "w"))
PY
for t in v1 v2; do skopeo copy -q --dest-tls-verify=false "oci:$work/oci:$t" "docker://$repo:$t"; done
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:v1" "docker://$repo:stable"
l1=$(skopeo inspect --raw "oci:$work/oci:v1" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
newlayer=$(stat -c %s "$work/layer.tar.gz")

# ---- the node: a disk of v1 following :stable (--no-agent: v1 brings its own node layer with the agent, and
# basalt disk refuses to hold back more than 64 MiB of image files at its node layer's paths), its ESP unpacked, booted slot a
"$BASALT" disk --no-agent --tls-verify=false "docker://$repo:v1" --image-ref "docker://$repo:stable" -o "$work/disk.raw" > "$work/disk.txt" 2>&1 || { cat "$work/disk.txt" >&2; exit 1; }
esp_start=$(partx -g -o START -n 1 "$work/disk.raw" | tr -d ' ')
mkdir -p "$work/esp" "$work/sys/proc/sys/kernel/random"
MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$work/disk.raw@@$((esp_start * 512))" ::/loader ::/basalt "$work/esp/"
sed -n 's/^options //p' "$work"/esp/loader/entries/basalt-*-a*.conf > "$work/sys/proc/cmdline"
echo boot-1 > "$work/sys/proc/sys/kernel/random/boot_id"
at=(--sysroot "$work/sys" --disk "$work/disk.raw" --esp "$work/esp")
"$BASALT" status "${at[@]}" >/dev/null

# a second node, fresh from the disk: its blob cache is empty (the disk build does not fill it)
cp --sparse=always "$work/disk.raw" "$work/disk2.raw"; cp -a "$work/esp" "$work/esp2"; cp -a "$work/sys" "$work/sys2"
at2=(--sysroot "$work/sys2" --disk "$work/disk2.raw" --esp "$work/esp2")
# node 1 has v1's layers cached, as after any earlier update (primed while :stable is v1)
"$BASALT" upgrade "${at[@]}" --download-only --tls-verify=false >/dev/null 2>&1
skopeo copy -q --src-tls-verify=false "docker://$repo:v1" "oci:$work/peer:v1"
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:v2" "docker://$repo:stable"

drop_caches; a=$(now_ns); "$BASALT" upgrade "${at[@]}" --tls-verify=false 2>"$work/up1.txt" >/dev/null || { cat "$work/up1.txt" >&2; exit 1; }; b=$(now_ns)
p0=$(du -sb "$work/peer/blobs" | cut -f1)
drop_caches; c=$(now_ns); skopeo copy -q --src-tls-verify=false "docker://$repo:stable" "oci:$work/peer:v2"; d=$(now_ns)
p1=$(du -sb "$work/peer/blobs" | cut -f1)
drop_caches; e=$(now_ns); "$BASALT" upgrade "${at2[@]}" --tls-verify=false 2>"$work/up2.txt" >/dev/null || { cat "$work/up2.txt" >&2; exit 1; }; f=$(now_ns)
drop_caches; g=$(now_ns); skopeo copy -q --src-tls-verify=false "docker://$repo:stable" "oci:$work/peer2:v2"; h=$(now_ns)
p2=$(du -sb "$work/peer2/blobs" | cut -f1)
dl() { sed -n 's/.*downloaded \([0-9]*\) bytes.*/\1/p' "$1" | head -n 1; }
grep -q "staged sha256:" "$work/up1.txt" && grep -q "staged sha256:" "$work/up2.txt" || { cat "$work/up1.txt" "$work/up2.txt" >&2; exit 1; }

echo "v1: $((l1/1000000)) MB of layers (base + node layer with agent + files); v2 = v1 + one layer of $newlayer B (gzip)"
printf '%-58s %7s s %12s B downloaded\n' "basalt upgrade v1->v2, v1 layers cached (writes slot b)" "$(secs $a $b)" "$(dl "$work/up1.txt")"
printf '%-58s %7s s %12s B downloaded\n' "skopeo copy v2 into an oci: layout holding v1 (pull only)" "$(secs $c $d)" "$((p1-p0)) (blobs+json)"
printf '%-58s %7s s %12s B downloaded\n' "basalt upgrade v1->v2 on a fresh disk (empty cache)" "$(secs $e $f)" "$(dl "$work/up2.txt")"
printf '%-58s %7s s %12s B downloaded\n' "skopeo copy v2 into an empty oci: layout (pull only)" "$(secs $g $h)" "$p2 (blobs+json)"
echo "ostree: not run here (Debian has ostree 2022.7, but no bootc/rpm-ostree image of this OS to pull; an ostree"
echo "  commit of the same tree was not set up); greenboot, bootc, rpm-ostree: not packaged in Debian 12 (peer not available here)"

# ---- agent footprint: idle RSS from the node layer's jlinked runtime, and the node layer's size
rootoff=$(( $(partx -g -o START -n 2 "$work/disk.raw" | tr -d ' ') * 512 ))
mkdir -p "$work/root"
mount -t erofs -o ro,loop,offset=$rootoff "$work/disk.raw" "$work/root"
cleanup_mount() { umount "$work/root" 2>/dev/null || true; cleanup; }
trap cleanup_mount EXIT
nl=$(du -sb "$work/root/usr/lib/basalt" | cut -f1)
rt=$(du -sb "$work/root/usr/lib/basalt/runtime" | cut -f1)
printf 'mode = "download-only"\ninterval = "1h"\njitter = "1s"\ntls-verify = false\n' > "$work/agent.toml"
wrapper=$(grep -o '\-XX:[^ ]*\|-Xshare:[^ ]*\|--enable-native-access=[^ ]*' "$work/root/usr/lib/basalt/bin/basalt" | tr '\n' ' ')
# shellcheck disable=SC2086
"$work/root/usr/lib/basalt/runtime/bin/java" $wrapper -cp "$work/root/usr/lib/basalt/lib/*" dev.basalt.cli.Main \
  agent --config "$work/agent.toml" "${at[@]}" > "$work/agent.log" 2>&1 &
AGENT_PID=$!
sleep 10
kill -0 "$AGENT_PID" 2>/dev/null || { cat "$work/agent.log" >&2; echo "agent exited" >&2; exit 1; }
rss=$(awk '/VmRSS/{print $2}' "/proc/$AGENT_PID/status")
hwm=$(awk '/VmHWM/{print $2}' "/proc/$AGENT_PID/status")
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=
printf '%-58s %7s MB RSS (peak %s MB)  flags: %s\n' "basalt agent idle, 10 s after start (jlinked runtime)" \
  "$((rss/1024))" "$((hwm/1024))" "$wrapper"
printf '%-58s %7s MB (runtime %s MB)\n' "node layer /usr/lib/basalt in the image" "$((nl/1000000))" "$((rt/1000000))"
echo "greenboot/bootc: not packaged in Debian 12 -- peer not available here"
