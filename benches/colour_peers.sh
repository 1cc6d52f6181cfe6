#!/usr/bin/env bash
# imgpar --color beside the colour peers (benches/peer_colour.py: Pillow with draft mode
# and ImageCms, libvips thumbnail; benches/peer_opencv.py --color: OpenCV with reduced
# colour decoding) on a folder of
# photos: colour, fit inside 256x256, PNG, all cores, in turn (benches/alternate.py); and
# imgpar's gray run beside them.
#   benches/colour_peers.sh DIR [RUNS]      (after cargo build --release)
set -euo pipefail
dir=$(realpath "${1:?usage: colour_peers.sh DIR [RUNS]}"); runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
venv="$repo/target/bench-opencv-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q opencv-python-headless pillow; }
"$venv/bin/python" -c 'import pyvips' 2>/dev/null || "$venv/bin/pip" install -q pyvips
ldconfig -p | grep -q libvips.so.42 || apt-get install -y -qq libvips42 >/dev/null
echo "$(ls "$dir" | wc -l) files in $dir, $(nproc) cores"
python3 "$here/alternate.py" "$runs" imgpar-color \
  "imgpar-color=$repo/target/release/imgpar $dir {OUT} --color --mode threaded --format png -q" \
  "imgpar-gray=$repo/target/release/imgpar $dir {OUT} --mode threaded --format png -q" \
  "pillow-draft=$venv/bin/python $here/peer_colour.py pillow-draft $dir {OUT}" \
  "pyvips=$venv/bin/python $here/peer_colour.py pyvips $dir {OUT}" \
  "opencv=$venv/bin/python $here/peer_opencv.py $dir {OUT} --color"
