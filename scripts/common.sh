# Shared by scripts/run and scripts/test: install what is missing, configure, build.
# Sourced, not run. Every step fails loudly with a message that says what to do.
set -euo pipefail

SLUICE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages sluice needs to build, test and benchmark. clang and its runtime are
# for the libFuzzer targets; dpdk-dev brings dpdk-testpmd (the perf ceiling); iproute2,
# ethtool and curl are for the interop tests against the Linux kernel.
SLUICE_PACKAGES=(
  build-essential meson ninja-build pkg-config python3
  libdpdk-dev dpdk dpdk-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  iproute2 iputils-ping ethtool curl python3 wrk
  valgrind
)

die() {
  echo "sluice: error: $*" >&2
  exit 1
}

note() { echo "sluice: $*" >&2; }

ensure_packages() {
  local missing=() p
  for p in "${SLUICE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: this needs Debian 12"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root to install them"
    sudo=(sudo)
  fi
  note "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed (is the Debian archive reachable?)"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# configure_build DIR [meson options...]: set up DIR, or reconfigure it with the options.
configure_build() {
  local dir=$1
  shift
  cd "$SLUICE_ROOT"
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null || die "meson configure $dir failed"
  else
    rm -rf "$dir"
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
      cat "$dir.setup.log" >&2
      die "meson setup failed (log above)"
    }
    rm -f "$dir.setup.log"
  fi
}

build() {
  local dir=$1
  shift
  ninja -C "$SLUICE_ROOT/$dir" "$@" || die "build failed in $dir (errors above)"
}
