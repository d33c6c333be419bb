# Shared by Basalt's boot-assessment scripts (POSIX sh; sourced, not run).
# systemd-boot publishes what it booted in EFI variables under its vendor GUID
# (Boot Loader Interface): LoaderBootCountPath is the renamed, counted entry file
# (e.g. \loader\entries\basalt-00000002-b+2-1.conf), LoaderDevicePartUUID the ESP.

LOADER_GUID=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
EFIVARS=${BASALT_EFIVARS:-/sys/firmware/efi/efivars}  # overridable for tests
ESP_MNT=/run/basalt/esp
ESP=
ESP_OURS=

# efivar NAME: the UTF-16LE string value of a loader variable (4 attribute bytes first).
# Entry paths and GUIDs are ASCII, so dropping the NUL bytes decodes them. efivarfs files
# cannot seek, hence cat into tail.
efivar() {
  [ -r "$EFIVARS/$1-$LOADER_GUID" ] || return 1
  cat "$EFIVARS/$1-$LOADER_GUID" | tail -c +5 | tr -d '\000'
}

# The booted entry relative to the ESP when it carries a boot counter, e.g.
# loader/entries/basalt-00000001-a+2-1.conf; fails when boot counting is off for this boot.
counted_entry() {
  e=$(efivar LoaderBootCountPath) || return 1
  [ -n "$e" ] || return 1
  # printf, not echo: dash's echo would read "\l", "\e" and "\b" in the path as escapes
  printf '%s\n' "$e" | tr '\\' / | sed 's|^/*||'
}

# tries_left FILE: N of a "+N[-M].conf" suffix; empty when the entry has no counter.
tries_left() { printf '%s\n' "$1" | sed -n 's/.*+\([0-9][0-9]*\)\(-[0-9][0-9]*\)\{0,1\}\.conf$/\1/p'; }

# blessed_name FILE: the name without the counter.
blessed_name() { printf '%s\n' "$1" | sed 's/+[0-9][0-9]*\(-[0-9][0-9]*\)\{0,1\}\.conf$/.conf/'; }

# The ESP device: the partition systemd-boot was loaded from, else the one labelled esp.
esp_device() {
  uuid=$(efivar LoaderDevicePartUUID | tr 'A-F' 'a-f')
  if [ -n "$uuid" ]; then
    [ -e "/dev/disk/by-partuuid/$uuid" ] && { readlink -f "/dev/disk/by-partuuid/$uuid"; return 0; }
    d=$(blkid -t "PARTUUID=$uuid" -o device 2>/dev/null | head -n 1)
    [ -n "$d" ] && { echo "$d"; return 0; }
  fi
  d=$(blkid -t PARTLABEL=esp -o device 2>/dev/null | head -n 1)
  [ -n "$d" ] && echo "$d"
}

# Sets ESP to a mount point of the ESP, mounting it privately when it is not mounted yet.
# BASALT_ESP names a directory to use instead (tests).
esp_mount() {
  if [ -n "${BASALT_ESP:-}" ]; then ESP=$BASALT_ESP; return 0; fi
  dev=$(esp_device)
  [ -n "$dev" ] || { echo "cannot find the ESP (LoaderDevicePartUUID, PARTLABEL=esp)" >&2; return 1; }
  ESP=$(findmnt -n -o TARGET --source "$dev" 2>/dev/null | head -n 1)
  [ -n "$ESP" ] && return 0
  mkdir -p "$ESP_MNT" && mount -t vfat -o rw,nosuid,nodev,noexec,umask=0077 "$dev" "$ESP_MNT" \
    || { echo "cannot mount the ESP $dev" >&2; return 1; }
  ESP=$ESP_MNT
  ESP_OURS=1
}

esp_release() {
  if [ -n "$ESP_OURS" ]; then
    umount "$ESP_MNT" 2>/dev/null
    ESP_OURS=
  fi
}
