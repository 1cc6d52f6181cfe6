#!/usr/bin/env bash
# imgpar beside OpenCV with reduced decoding (benches/peer_opencv.py) on a folder of photos:
# gray, fit inside 256x256, PNG, all cores. Runs alternate; prints medians and peak memory.
#   benches/opencv_peer.sh DIR [RUNS]      (after cargo build --release)
set -euo pipefail
dir=$(realpath "${1:?usage: opencv_peer.sh DIR [RUNS]}"); runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
venv="$repo/target/bench-opencv-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q opencv-python-headless pillow; }
declare -A cmd=(
  [imgpar]="$repo/target/release/imgpar $dir {OUT} --mode threaded --format png -q"
  [opencv]="$venv/bin/python $here/peer_opencv.py $dir {OUT}"
)
res=$(mktemp)
for r in $(seq 0 "$runs"); do
  for name in imgpar opencv; do
    out=$(mktemp -d); c=${cmd[$name]//\{OUT\}/$out}
    if [ "$r" -gt 0 ]; then /usr/bin/time -f "$name %e %M" -a -o "$res" $c; else $c; fi
    rm -rf "$out"
  done
done
echo "$(ls "$dir" | wc -l) files in $dir, $(nproc) cores, median of $runs runs"
python3 - "$res" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    name, wall, peak = line.split(); rows.setdefault(name, []).append((float(wall), int(peak) / 1024))
base = st.median(w for w, _ in rows["opencv"])
for name, v in rows.items():
    wall = st.median(w for w, _ in v)
    print(f"{name:<8} {wall:6.2f} s  peak {max(m for _, m in v):5.0f} MiB  {wall / base:5.2f}x OpenCV")
PY
rm -f "$res"
