#!/bin/bash
# Each folder of images through imgpar on one core against its decoder's own tool:
#
#     benches/format_floors.sh BINARY DIR...
#
# For each DIR, imgpar's CPU seconds (user + system, GNU time) for `BINARY DIR OUT -j 1 -q`,
# the median of 3 rounds that alternate between the folders; and for a folder of JPEGs,
# the wall seconds of `djpeg -grayscale -scale 1/8` on each file (one process a file,
# libjpeg-turbo's SIMD code in), the median of 3. Prints one line a folder.
set -euo pipefail
binary=$1
shift
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for round in 1 2 3; do
    for dir in "$@"; do
        rm -rf "$scratch/out"
        /usr/bin/time -f "%U %S" -a -o "$scratch/$(basename "$dir").cpu" \
            "$binary" "$dir" "$scratch/out" -j 1 -q
    done
done
median() { sort -n | sed -n 2p; }
for dir in "$@"; do
    cpu=$(awk '{print $1 + $2}' "$scratch/$(basename "$dir").cpu" | median)
    floor=""
    if ls "$dir"/*.jpg >/dev/null 2>&1 && command -v djpeg >/dev/null; then
        floor=$(for round in 1 2 3; do
            start=$(date +%s.%N)
            for f in "$dir"/*.jpg; do djpeg -grayscale -scale 1/8 "$f" >/dev/null; done
            echo "$(date +%s.%N) - $start" | bc
        done | median)
        floor=" djpeg_1/8_wall_s=$floor"
    fi
    echo "$dir imgpar_cpu_s=$cpu$floor"
done
