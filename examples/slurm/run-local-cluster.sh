#!/usr/bin/env bash
# A real Slurm run of imgpar on one machine: installs Slurm and munge from Debian (root),
# starts a one-node cluster on loopback, converts a folder once unsharded and then as
# job arrays (--array=0-7, --array=1-15:2%3), and checks that each array's outputs are the
# unsharded run's, byte for byte, and that its merged reports say complete. An array with
# gaps (--array=1,2,9) must be refused by imgpar with a message asking for --shard.
#
#   examples/slurm/run-local-cluster.sh            # from the repository root
#
# Everything it makes is under $WORK (default /tmp/imgpar-slurm); the daemons it starts
# are stopped at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/imgpar-slurm}
IMGPAR=${IMGPAR:-$repo/target/release/imgpar}
export IMGPAR

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
[ -x "$IMGPAR" ] || (cd "$repo" && cargo build --release --quiet)

rm -rf "$WORK"
mkdir -p "$WORK"/{state,spool,log}
host=$(hostname -s)
cat >"$WORK/slurm.conf" <<EOF
ClusterName=imgpar
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$WORK/slurm.conf

stop() {
  for pid in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  [ -n "${munge_started:-}" ] && pkill -x munged 2>/dev/null || true
}
trap stop EXIT

if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
  munge_started=1
fi
slurmctld -c
slurmd
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
echo "cluster: $(sinfo -h -o '%P %D node %T, %c CPUs')"

# The input: the repository's fixtures, 24 times over in sub-folders (names repeat
# across folders, so the relative paths are what tells them apart).
for i in $(seq -w 1 24); do
  mkdir -p "$WORK/in/set$i"
  cp -r "$repo/fixtures/images/." "$repo/fixtures/orientation/." "$WORK/in/set$i/"
done
"$IMGPAR" "$WORK/in" "$WORK/whole" --no-shard -q --report "$WORK/whole.json" || true
planned=$(find "$WORK/whole" -type f | wc -l)
echo "unsharded: $planned outputs"

check_array() {
  local spec=$1 name=$2
  mkdir -p "$WORK/$name-reports"
  (cd "$WORK" && sbatch --wait --array="$spec" --output="$WORK/log/$name-%a.log" \
    "$repo/examples/slurm/imgpar-array.sbatch" "$WORK/in" "$WORK/$name" "$WORK/$name-reports" >/dev/null) || true
  diff -r "$WORK/whole" "$WORK/$name" >/dev/null
  "$IMGPAR" merge-reports "$WORK/$name-reports" -o "$WORK/$name-merged.json" 2>&1 |
    sed "s|^|  |"
  echo "--array=$spec: $(ls "$WORK/$name-reports" | wc -l) tasks, outputs identical to the unsharded run"
}
check_array 0-7 array-0-7
check_array 1-15:2%3 array-1-15-step2

# An array with gaps cannot say which shard its last task is: task 9 refuses (positions
# 0 and 1 of 3 run), and the merged reports say shard 2 is missing.
mkdir -p "$WORK/gaps-reports"
(cd "$WORK" && sbatch --wait --array=1,2,9 --output="$WORK/log/gaps-%a.log" \
  "$repo/examples/slurm/imgpar-array.sbatch" "$WORK/in" "$WORK/gaps" "$WORK/gaps-reports" >/dev/null) || true
grep -h "imgpar:" "$WORK/log/gaps-9.log" | sed "s|^|  task 9: |"
grep -q -- "--shard" "$WORK/log/gaps-9.log"
code=0
"$IMGPAR" merge-reports "$WORK/gaps-reports" 2>&1 | sed "s|^|  |" || true
"$IMGPAR" merge-reports "$WORK/gaps-reports" 2>/dev/null || code=$?
[ "$code" = 4 ]
echo "--array=1,2,9: task 9 refused; merge-reports exits 4 (incomplete)"
echo "all Slurm checks passed"
