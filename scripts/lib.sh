# Shared helpers for Basalt's scripts. Source it; do not run it.
# Filenames are UTF-8 bytes; the JVM decodes them with the locale (sun.jnu.encoding), so pin a UTF-8 one.
export LC_ALL=C.UTF-8 LANG=C.UTF-8

# Prints the JAVA_HOME of a JDK >= 21: $JAVA_HOME if suitable, else the newest under /usr/lib/jvm,
# else tries to install one with apt-get, else explains what is missing.
basalt_find_jdk() {
  local cand v best="" bestv=0
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/javac" ] || continue
    v=$("$cand/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)
    [ -n "$v" ] && [ "$v" -ge 21 ] 2>/dev/null || continue
    if [ "$cand" = "${JAVA_HOME:-}" ]; then echo "$cand"; return 0; fi
    if [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
  done
  if [ -n "$best" ]; then echo "$best"; return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "basalt: no JDK >= 21 found; installing one with apt-get" >&2
    apt-get update -qq >&2 || true
    for pkg in openjdk-25-jdk-headless openjdk-21-jdk-headless; do
      if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 2>/dev/null; then
        basalt_find_jdk; return $?
      fi
    done
  fi
  echo "basalt: needs a JDK 21 or newer (javac). Install one (e.g. 'apt-get install openjdk-21-jdk-headless' on Ubuntu 24.04+, Temurin 21+ on Debian 12) or set JAVA_HOME." >&2
  return 1
}

# Installs the Debian packages named, if any is missing. Needs root (or sudo) and apt-get.
basalt_apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "basalt: missing Debian packages: ${missing[*]} (run as root or install sudo)" >&2; return 1; }
    sudo="sudo"
  fi
  command -v apt-get >/dev/null || { echo "basalt: missing packages ${missing[*]} and no apt-get to install them" >&2; return 1; }
  echo "basalt: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Maven, installed from Debian if missing.
basalt_require_maven() {
  command -v mvn >/dev/null || basalt_apt_install maven
}

# The system tools the tests and the main job drive for real.
BASALT_TOOL_PACKAGES=(maven skopeo docker-registry umoci erofs-utils cryptsetup-bin gdisk fdisk dosfstools
  mtools qemu-utils qemu-system-x86 ovmf debootstrap attr libcap2-bin apache2-utils xz-utils zstd cpio
  e2fsprogs util-linux libarchive-tools curl python3 postgresql openssl chromium chromium-driver)
