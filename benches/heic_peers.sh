#!/usr/bin/env bash
# A folder of HEIC photos, gray and fit inside 256x256 as PNG, on all cores: imgpar (which
# reads a stored thumbnail as large as the output, as libvips does), imgpar decoding every
# full picture (--no-embedded-thumbnails), and Pillow + pillow-heif with multiprocessing.Pool.
# Runs alternate; prints the median wall time and the peak memory of each.
#   benches/heic_peers.sh DIR [RUNS]      (after cargo build --release)
set -euo pipefail
dir=$(realpath "${1:?usage: heic_peers.sh DIR [RUNS]}"); runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
venv="$repo/target/bench-heic-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pillow-heif==1.9.0; }
declare -A cmd=(
  [imgpar]="$repo/target/release/imgpar $dir {OUT} --format png -q"
  [imgpar-full]="$repo/target/release/imgpar $dir {OUT} --format png -q --no-embedded-thumbnails"
  [pillow-heif]="$venv/bin/python $here/peer_pillow_heif.py $dir {OUT}"
)
res=$(mktemp)
for r in $(seq 0 "$runs"); do
  for name in imgpar imgpar-full pillow-heif; do
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
best = st.median(w for w, _ in rows["pillow-heif"])
for name, v in rows.items():
    wall = st.median(w for w, _ in v)
    print(f"{name:<12} {wall:6.2f} s  peak {max(m for _, m in v):5.0f} MiB  {wall / best:5.2f}x pillow-heif")
PY
rm -f "$res"
