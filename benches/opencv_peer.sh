#!/usr/bin/env bash
# imgpar beside OpenCV with reduced decoding (benches/peer_opencv.py) on a folder of photos:
# gray, fit inside 256x256, PNG, all cores, in turn (benches/alternate.py).
#   benches/opencv_peer.sh DIR [RUNS]      (after cargo build --release)
set -euo pipefail
dir=$(realpath "${1:?usage: opencv_peer.sh DIR [RUNS]}"); runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
venv="$repo/target/bench-opencv-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q opencv-python-headless pillow; }
echo "$(ls "$dir" | wc -l) files in $dir, $(nproc) cores"
python3 "$here/alternate.py" "$runs" opencv \
  "imgpar=$repo/target/release/imgpar $dir {OUT} --mode threaded --format png -q" \
  "opencv=$venv/bin/python $here/peer_opencv.py $dir {OUT}"
