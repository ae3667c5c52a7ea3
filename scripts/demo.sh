#!/usr/bin/env bash
# Sets up and runs musicfs on a built-in demo library: installs missing packages,
# builds a Release binary, generates two origins ("laptop" and "nas") of real tagged
# audio with overlapping tracks under build/demo/library (scripts/make-demo-library.sh),
# writes a config for them and an mpd.conf that plays from the mount, starts a daemon
# on a private socket and mounts the federated tree at build/demo/mnt.
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
# A previous demo run: stop its MPD, if one was started from its mpd.conf, and its
# daemon (which unmounts) before regenerating.
if [ -s "$demo/mpd/pid" ] && command -v mpd >/dev/null; then mpd --kill "$demo/mpd.conf" >/dev/null 2>&1 || true; fi
"$ctl" daemon stop >/dev/null 2>&1 || true
for _ in $(seq 50); do [ -S "$MUSICFS_SOCKET" ] || break; sleep 0.1; done
if grep -qs " $demo/mnt " /proc/mounts; then fusermount3 -u -z "$demo/mnt" 2>/dev/null || umount -l "$demo/mnt" || true; fi
rm -rf "$demo/origins"  # the text-file library of older demo versions
mkdir -p "$demo/mnt"
# Two overlapping origins of real tagged FLAC, MP3 and Ogg tracks with cover art.
./scripts/make-demo-library.sh "$demo/library"

cat >"$demo/musicfs.toml" <<TOML
# Demo config written by scripts/demo.sh; see musicfs.toml(5).
mount_point = "$demo/mnt"
cache_dir = "$demo/cache"

[[origins]]
id = "laptop"
origin_type = "local"
priority = 1
path = "$demo/library/origin-a"

[[origins]]
id = "nas"
origin_type = "local"
priority = 2
path = "$demo/library/origin-b"
# A directory standing in for a NAS share, which is cached (a local disk is not).
cache = true

[health]
check_interval_secs = 10
TOML

# An MPD that plays from the mount, on its own port so that it never meets a system
# MPD on 6600. Its output is "null" (works with no sound card); see README.md.
mpd_port=6601
mkdir -p "$demo/mpd"
cat >"$demo/mpd.conf" <<CONF
# Demo MPD config written by scripts/demo.sh: start it with  mpd $demo/mpd.conf
music_directory    "$demo/mnt"
db_file            "$demo/mpd/database"
state_file         "$demo/mpd/state"
pid_file           "$demo/mpd/pid"
log_file           "$demo/mpd/log"
bind_to_address    "127.0.0.1"
port               "$mpd_port"
auto_update        "no"
zeroconf_enabled   "no"
# Plays to nowhere; to hear it, put  type "pulse"  (or "pipewire", "alsa") here.
audio_output {
  type "null"
  name "demo"
}
CONF

# mount returns before the origins are indexed, and its line then says "indexed so
# far"; mounting the same config again does nothing but print the line anew, so ask
# until the count is that of the whole tree (a few ms for this library).
for _ in $(seq 100); do
  line=$("$ctl" mount --config "$demo/musicfs.toml")
  [[ $line == *"indexed so far"* ]] || break
  sleep 0.1
done
echo "$line"
cat <<MSG

musicfs is running. The demo library is mounted at $demo/mnt: FLAC, MP3 and
Ogg tracks with tags and cover art (origins: laptop = priority 1, nas = priority 2;
"First Light" and "01 Rain.mp3" are on both, byte for byte).

Try:
  export MUSICFS_SOCKET=$MUSICFS_SOCKET
  ls -R $demo/mnt
  soxi "$demo/mnt/The Demos/First Light/01 Intro.flac"        # format, length, tags
  play "$demo/mnt/Quiet Storm/Weather/02 Thunder.mp3"         # sox's player; only nas has it
  $ctl status
  $ctl route-explain "$demo/mnt/The Demos/First Light/01 Intro.flac"   # which origin, and why
  $ctl cache stat                                                      # what the content cache holds
  $ctl events

Play it with MPD (the config is written for you):
  mpd $demo/mpd.conf
  mpc -p $mpd_port update --wait && mpc -p $mpd_port -f '%artist% / %album% / %title%' listall
  mpc -p $mpd_port add / && mpc -p $mpd_port play

When done:
  mpd --kill $demo/mpd.conf     # if you started it
  $ctl daemon stop        # unmounts and stops the daemon
MSG
