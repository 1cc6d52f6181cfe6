#!/usr/bin/env bash
# A folder of HEIC photos, gray and fit inside 256x256 as PNG, on all cores: imgpar (which
# reads a stored thumbnail as large as the output, as libvips does), imgpar decoding every
# full picture (--no-embedded-thumbnails), and Pillow + pillow-heif with multiprocessing.Pool,
# in turn (benches/alternate.py).
#   benches/heic_peers.sh DIR [RUNS]      (after cargo build --release)
set -euo pipefail
dir=$(realpath "${1:?usage: heic_peers.sh DIR [RUNS]}"); runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
venv="$repo/target/bench-heic-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pillow-heif==1.9.0; }
echo "$(ls "$dir" | wc -l) files in $dir, $(nproc) cores"
python3 "$here/alternate.py" "$runs" pillow-heif \
  "imgpar=$repo/target/release/imgpar $dir {OUT} --format png -q" \
  "imgpar-full=$repo/target/release/imgpar $dir {OUT} --format png -q --no-embedded-thumbnails" \
  "pillow-heif=$venv/bin/python $here/peer_pillow_heif.py $dir {OUT}"
