#!/usr/bin/env bash
# What a run costs at the scale of a sharded job: time and peak memory of imgpar itself
# (GNU time's maximum resident set size) for
#   - a 1M-line and a 5M-line URL list planned with --dry-run --shard 0/1000,
#   - 200,000 small images converted with --report (threaded, 200 folders of 1,000),
#   - merge-reports of the 20 shard reports of that run.
# Usage: benches/scale.sh [IMGPAR_BINARY] [SCRATCH_DIR]
# (default: target/release/imgpar, a fresh folder under /tmp; the inputs, ~300 MB of URL
# lists and 200k hard links of a few small PNGs, are made once and kept there for the
# next run). Prints one line per measurement.
set -euo pipefail
bin=$(realpath "${1:-target/release/imgpar}")
scratch=${2:-$(mktemp -d /tmp/imgpar-scale.XXXXXX)}
mkdir -p "$scratch"
cd "$scratch"

measure() { # label, command...
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>stderr.txt || true
  read -r seconds kib <time.txt
  printf '%-58s %8.1f s %8.0f MiB\n' "$label" "$seconds" "$((kib / 1024))"
}

lists() { # lines
  [ -f "urls-$1.txt" ] && return
  python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
with open(f"urls-{n}.txt", "w") as out:
    for i in range(n):
        # One line in a hundred shares its name with others (a CDN's image.jpg).
        name = "image.jpg" if i % 100 == 0 else f"photo-{i}.jpg"
        out.write(f"https://cdn{i % 7}.example/a/{i // 1000}/{name}\n")
PY
}

images() { # count: small PNGs in folders of 1,000, hard links of one file
  [ -d "small-$1" ] && return
  python3 - "$1" <<'PY'
import os, struct, sys, zlib
n = int(sys.argv[1])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = b"".join(b"\0" + bytes((x * 16 + y) % 256 for x in range(16)) for y in range(16))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
root = f"small-{n}"
os.makedirs(root)
seed = f"{root}/.seed.png"
for i in range(n):
    if i % 50_000 == 0:  # a file takes 65,000 links at most (ext4)
        if os.path.exists(seed):
            os.remove(seed)
        with open(seed, "wb") as f:
            f.write(png)
    folder = f"{root}/{i // 1000:04d}"
    if i % 1000 == 0:
        os.makedirs(folder)
    os.link(seed, f"{folder}/img-{i:07d}.png")
os.remove(seed)
PY
}

lists 1000000
lists 5000000
for n in 1000000 5000000; do
  measure "$n-line URL list, --dry-run --shard 0/1000" \
    "$bin" --urls "urls-$n.txt" out-urls --dry-run --shard 0/1000
done
images 200000
rm -rf out-small reports && mkdir reports
measure "200k small images, --report (threaded)" \
  "$bin" small-200000 out-small --mode threaded --overwrite --report reports/whole.json --quiet
for i in $(seq 0 19); do
  "$bin" small-200000 out-shards --mode threaded --overwrite --shard "$i/20" \
    --report "reports/shard-$i.json" --quiet
done
rm -f reports/whole.json
measure "merge-reports of the 20 shard reports of that run" \
  "$bin" merge-reports reports -o merged.json
