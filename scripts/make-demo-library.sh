#!/usr/bin/env bash
# Usage: make-demo-library.sh DIR
#
# Writes a small, real music library as two overlapping origins, DIR/origin-a and
# DIR/origin-b: tagged FLAC, MP3 and Ogg Vorbis tracks of a few seconds each (tones
# made with sox), and a cover.png per album (a sox spectrogram), also embedded in
# the FLAC and MP3 files. Some files are on both origins with the same path, bytes
# and mtime, so the federated tree holds fewer files than the two origins together.
#
# The output is the same on every run (fixed seeds, serials and mtimes). Earlier
# DIR/origin-a and DIR/origin-b are replaced; nothing else in DIR is touched.
# Needs sox, flac (metaflac), lame and oggenc (vorbis-tools): scripts/install-deps.sh.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: make-demo-library.sh DIR" >&2
  exit 2
fi
for tool in sox flac metaflac lame oggenc; do
  command -v "$tool" >/dev/null || { echo "make-demo-library.sh: $tool is not installed (run scripts/install-deps.sh)" >&2; exit 1; }
done

dir=$1
mkdir -p "$dir"
# Built in a scratch directory and moved into place at the end, so an interrupted
# run never leaves a half-written origin behind.
stage=$(mktemp -d "$dir/.make-demo-library.XXXXXX")
trap 'rm -rf "$stage"' EXIT
work="$stage/work"
mkdir -p "$work" "$stage/origin-a" "$stage/origin-b"

# Every file gets this mtime (2026-01-01T00:00:00Z): the copies on both origins
# then agree in size and mtime, and reruns give identical trees.
mtime=@1767225600

# cover ALBUMDIR SWEEP: a 128x129 spectrogram of a frequency sweep, as PNG.
cover() {
  sox -R -n -r 16000 -c 1 "$work/sweep.wav" synth 2 sine "$2"
  sox -R "$work/sweep.wav" -n spectrogram -r -x 128 -y 129 -o "$work/$1.png"
}

# track FORMAT ARTIST ALBUM NUMBER TITLE DATE GENRE NOTE: NOTE is a sox synth chord
# such as "pluck C4 pluck E4", three seconds long. Writes $work/<artist>/<album>/<NN title>.<ext>.
track() {
  local format=$1 artist=$2 album=$3 number=$4 title=$5 date=$6 genre=$7 notes=$8
  local wav="$work/tone.wav" albumdir="$work/$artist/$album" key
  key=$(printf '%s' "$artist-$album" | tr -c 'A-Za-z0-9' '_')
  local name
  name=$(printf '%02d %s' "$number" "$title")
  mkdir -p "$albumdir"
  # shellcheck disable=SC2086  # $notes is a list of synth arguments
  sox -R -n -r 44100 -c 2 -b 16 "$wav" synth 3 $notes fade q 0.05 3 0.6 norm -3
  case $format in
    flac)
      flac -s -f --best -T "ARTIST=$artist" -T "ALBUM=$album" -T "TITLE=$title" -T "TRACKNUMBER=$number" \
        -T "DATE=$date" -T "GENRE=$genre" -o "$albumdir/$name.flac" "$wav"
      metaflac --import-picture-from="3|image/png|Front cover||$work/$key.png" "$albumdir/$name.flac"
      ;;
    mp3)
      lame --quiet -b 128 --ta "$artist" --tl "$album" --tt "$title" --tn "$number" --ty "$date" --tg "$genre" \
        --ti "$work/$key.png" "$wav" "$albumdir/$name.mp3"
      ;;
    ogg)
      # -s: a fixed stream serial number (oggenc picks a random one).
      oggenc -Q -s "$number" -q 3 -a "$artist" -l "$album" -t "$title" -N "$number" -d "$date" -G "$genre" \
        -o "$albumdir/$name.ogg" "$wav"
      ;;
  esac
}

# album ARTIST ALBUM SWEEP: the album's cover, in $work and in its folder.
album() {
  local key
  key=$(printf '%s' "$1-$2" | tr -c 'A-Za-z0-9' '_')
  mkdir -p "$work/$1/$2"
  cover "$key" "$3"
  cp "$work/$key.png" "$work/$1/$2/cover.png"
}

album "The Demos" "First Light" 300-3000
track flac "The Demos" "First Light" 1 "Intro" 2026 "Ambient" "pluck C4 pluck E4 pluck G4"
track flac "The Demos" "First Light" 2 "Overture" 2026 "Ambient" "pluck D4 pluck F4 pluck A4"
track flac "The Demos" "First Light" 3 "Finale" 2026 "Ambient" "pluck E4 pluck G4 pluck B4"
track flac "The Demos" "First Light" 4 "Encore" 2026 "Ambient" "pluck C5 pluck G4 pluck E4"

album "Quiet Storm" "Weather" 2000-200
track mp3 "Quiet Storm" "Weather" 1 "Rain" 2025 "Electronic" "sine A3 sine E4"
track mp3 "Quiet Storm" "Weather" 2 "Thunder" 2025 "Electronic" "square A2 sine E3"

album "Solo Artist" "Morning" 500-5000
track ogg "Solo Artist" "Morning" 1 "Dawn" 2024 "Folk" "pluck G3 pluck D4"
track ogg "Solo Artist" "Morning" 2 "Sunrise" 2024 "Folk" "pluck A3 pluck E4"

# place ORIGIN... -- RELPATH...: copies files from $work onto each origin named.
place() {
  local origins=() rel o
  while [[ $1 != -- ]]; do origins+=("$1"); shift; done
  shift
  for rel in "$@"; do
    for o in "${origins[@]}"; do
      mkdir -p "$stage/$o/$(dirname "$rel")"
      cp "$work/$rel" "$stage/$o/$rel"
    done
  done
}
# On both: most of "First Light" and the first "Weather" track, with their covers.
place origin-a origin-b -- "The Demos/First Light/"{"01 Intro","02 Overture","03 Finale"}.flac \
  "The Demos/First Light/cover.png" "Quiet Storm/Weather/01 Rain.mp3" "Quiet Storm/Weather/cover.png"
place origin-b -- "The Demos/First Light/04 Encore.flac" "Quiet Storm/Weather/02 Thunder.mp3"
place origin-a -- "Solo Artist/Morning/"{"01 Dawn.ogg","02 Sunrise.ogg","cover.png"}

for o in origin-a origin-b; do
  find "$stage/$o" -exec touch -h -d "$mtime" {} +
  rm -rf "${dir:?}/$o"
  mv "$stage/$o" "$dir/$o"
done
