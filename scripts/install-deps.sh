#!/usr/bin/env bash
# Installs the Debian packages musicfs needs to build, test and benchmark.
# Idempotent: packages already present are skipped, and apt is not touched at all
# when nothing is missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # libraries (design card: nothing vendored that Debian packages)
  libcli11-dev libfuse3-dev libsqlite3-dev libtomlplusplus-dev libspdlog-dev
  catch2 nlohmann-json3-dev libxxhash-dev
  # runtime and test tools
  fuse3 sqlite3 mandoc bash-completion procps util-linux
)
if [[ "${MUSICFS_BENCH_DEPS:-0}" == 1 ]]; then
  packages+=(mergerfs hyperfine fio)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
