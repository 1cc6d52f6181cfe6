#!/usr/bin/env bash
# URL lists spread over many hosts: 2,000 small photos served by 20 loopback hosts
# (127.0.0.1 to 127.0.0.20, each answering after 100 ms, benches/slow_server.py), fetched
# with --mode async by imgpar's defaults and by hand-tuned settings; prints the median of
# 3 runs of each and the ratio to the best.
# Usage: benches/many_hosts.sh PHOTO_DIR [IMGPAR_BINARY] [COUNT] [HOSTS]
# (PHOTO_DIR: the photos to serve, e.g. the corpus made small with
# `imgpar CORPUS SMALL --size 640x640 --format jpeg`; default binary target/release/imgpar.)
set -euo pipefail
photos=$(realpath "$1")
bin=$(realpath "${2:-target/release/imgpar}")
count=${3:-2000}
hosts=${4:-20}
here=$(dirname "$(realpath "$0")")
scratch=$(mktemp -d /tmp/imgpar-hosts.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$scratch"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for h in $(seq 1 "$hosts"); do
  python3 "$here/slow_server.py" "$photos" "$port" 100 "127.0.0.$h" &
done
sleep 1
python3 - "$photos" "$port" "$count" "$hosts" >"$scratch/urls.txt" <<'PY'
import os, sys
photos, port, count, hosts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = sorted(os.listdir(photos))
for i in range(count):
    print(f"http://127.0.0.{i % hosts + 1}:{port}/{names[i % len(names)]}?n={i}")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A times
settings=("defaults" "--concurrency 32 --per-host 8" "--concurrency 256 --per-host 16" "--concurrency 512 --per-host 32")
for setting in "${settings[@]}"; do
  flags=()
  [ "$setting" != defaults ] && read -r -a flags <<<"$setting"
  runs=()
  for i in 1 2 3; do
    rm -rf "$scratch/out"
    start=$(date +%s.%N)
    "$bin" --mode async --urls "$scratch/urls.txt" "$scratch/out" -q "${flags[@]}" || true
    end=$(date +%s.%N)
    runs+=("$(echo "$end - $start" | bc -l)")
  done
  times[$setting]=$(printf '%s\n' "${runs[@]}" | median)
done
best=$(printf '%s\n' "${times[@]}" | sort -n | head -1)
for setting in "${settings[@]}"; do
  printf '%-36s %6.2f s  %.2fx the best\n' "$setting" "${times[$setting]}" \
    "$(echo "${times[$setting]} / $best" | bc -l)"
done
