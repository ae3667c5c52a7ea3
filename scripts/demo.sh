#!/usr/bin/env bash
# Sets up and runs musicfs on a built-in demo library: installs missing packages,
# builds a Release binary, generates two origins ("laptop" and "nas") with
# overlapping tracks under build/demo/, writes a config for them, starts a daemon on
# a private socket and mounts the federated tree at build/demo/mnt.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

./scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMUSICFS_TESTING=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target musicfsctl
ctl="$top/build/release/cmd/musicfsctl"

demo="$top/build/demo"
export MUSICFS_SOCKET="$demo/run/musicfsd.sock"
export MUSICFS_STATE_DIR="$demo/state"
# A previous demo run: stop its daemon (which unmounts) before regenerating.
"$ctl" daemon stop >/dev/null 2>&1 || true
for _ in $(seq 50); do [ -S "$MUSICFS_SOCKET" ] || break; sleep 0.1; done
if grep -qs " $demo/mnt " /proc/mounts; then fusermount3 -u -z "$demo/mnt" 2>/dev/null || umount -l "$demo/mnt" || true; fi
rm -rf "$demo/origins"
mkdir -p "$demo/mnt" "$demo/origins"

# A track is a few KiB of bytes tagged with the origin that holds it, so that a
# duplicate read through the mount shows which replica served it.
track() { # origin artist album title
  local f="$demo/origins/$1/$2/$3/$4.flac"
  mkdir -p "$(dirname "$f")"
  { printf 'fLaC demo track "%s" by %s, copy held by origin %s\n' "$4" "$2" "$1"; head -c 4096 /dev/zero | tr '\0' '.'; } >"$f"
}
for t in "01 Intro" "02 Overture" "03 Finale"; do track laptop "The Demos" "First Light" "$t"; done
for t in "01 Intro" "02 Overture" "03 Finale" "04 Encore"; do track nas "The Demos" "First Light" "$t"; done
for t in "01 Rain" "02 Thunder"; do track nas "Quiet Storm" "Weather" "$t"; done
for t in "01 Dawn"; do track laptop "Solo Artist" "Morning" "$t"; done

cat >"$demo/musicfs.toml" <<TOML
# Demo config written by scripts/demo.sh; see musicfs.toml(5).
mount_point = "$demo/mnt"
cache_dir = "$demo/cache"

[[origins]]
id = "laptop"
origin_type = "local"
priority = 1
path = "$demo/origins/laptop"

[[origins]]
id = "nas"
origin_type = "local"
priority = 2
path = "$demo/origins/nas"

[health]
check_interval_secs = 10
TOML

"$ctl" mount --config "$demo/musicfs.toml"
cat <<MSG

musicfs is running. The demo library is mounted at $demo/mnt
(origins: laptop = priority 1, nas = priority 2; "The Demos" is on both).

Try:
  export MUSICFS_SOCKET=$MUSICFS_SOCKET
  ls -R $demo/mnt
  head -1 "$demo/mnt/The Demos/First Light/01 Intro.flac"     # served by laptop
  head -1 "$demo/mnt/The Demos/First Light/04 Encore.flac"    # only on nas
  $ctl status
  $ctl route-explain "$demo/mnt/The Demos/First Light/01 Intro.flac"   # which origin, and why
  $ctl cache stat                                                      # what the content cache holds
  $ctl events

When done:
  $ctl daemon stop        # unmounts and stops the daemon
MSG
