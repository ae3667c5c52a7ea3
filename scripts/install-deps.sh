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
  catch2 nlohmann-json3-dev libxxhash-dev libpugixml-dev
  libssh-dev libssl-dev libcurl4-openssl-dev libsystemd-dev libtag1-dev
  # fuzz targets (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # runtime and test tools
  fuse3 sqlite3 mandoc bash-completion procps util-linux nginx curl attr
  systemd
  # the docs tests drive the real zsh and fish completions
  zsh fish
  openssh-server openssh-client
  # the demo library (scripts/make-demo-library.sh) and the MPD test that plays it;
  # libsox-fmt-mp3 lets soxi read MP3s
  sox libsox-fmt-mp3 flac lame vorbis-tools opus-tools mpd mpc
  # promtool (tests check `musicfsctl metrics` and the textfile with `promtool check metrics`)
  prometheus
  # packaging (tests/package/deb): dpkg-shlibdeps for cpack's Depends, lintian to check the .deb
  dpkg-dev lintian
)
# The S3 test server (s3rver) runs on node; a node that did not come from Debian
# (e.g. /usr/bin/node with its own npm) is used as it is.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
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
else
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# s3rver, the S3 server the s3 integration tests run, pinned and kept out of git
# (.deps/ is ignored). Skipped when that version is already there.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
s3rver_version=3.7.1
s3rver_prefix="$repo_root/.deps/s3rver"
s3rver_pkg="$s3rver_prefix/node_modules/s3rver/package.json"
if [[ -f "$s3rver_pkg" ]] && grep -q "\"version\": *\"$s3rver_version\"" "$s3rver_pkg"; then
  echo "install-deps: s3rver $s3rver_version present"
else
  echo "install-deps: installing s3rver $s3rver_version into $s3rver_prefix"
  mkdir -p "$s3rver_prefix"
  npm install --prefix "$s3rver_prefix" --no-audit --no-fund --loglevel=error "s3rver@$s3rver_version"
fi
