#!/usr/bin/env bash
# BatchGen's decode and prompt throughput against llama.cpp's llama-batched-bench, side by side
# in one sitting: the `bench` model (same weights: seed 7, as `bench runtime --bar` generates it)
# as bf16 and f32, 64 sequences x (128 random-token prompt + 128 new), 2 threads. The runs
# alternate between the two engines and the two dtypes, so a quiet or a loaded minute on a
# shared machine weighs on both. Before each run the script waits (up to QUIET_WAIT seconds,
# default 900) for a 5-second window in which the other tenants leave the cores at least
# QUIET_IDLE percent idle (default 85), and prints that window's idle share and the load average
# with the run: llama.cpp's threads spin at every barrier, so a busy neighbour costs it far more
# than it costs the JVM's parked workers, and only runs on a quiet machine compare the engines.
# Tenants of the host outside this VM do not show in its idle share (a shared physical core just
# runs slower), so each run also prints the 2-thread FMA ceiling measured right before it
# (`bin/batchgen bench kernels ceilings`): fma2 near twice fma1 means both cores were whole.
#
# Usage: tools/llamacpp/side-by-side.sh [RUNS] [WORK_DIR]     (defaults: 3, /tmp/batchgen-sbs)
# Needs what batched-bench.sh needs; bin/batchgen builds the project on first use.
# Output: one line per run, then per engine, dtype and figure the median and every run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${1:-3}"
work="${2:-/tmp/batchgen-sbs}"
mkdir -p "$work"
for dtype in bf16 f32; do
  gguf="$work/bench-$dtype.gguf"
  [[ -f "$gguf" ]] || "$root/bin/batchgen" make-model --preset bench --format gguf \
    --dtype "$dtype" --seed 7 --out "$gguf" >&2
done
results="$work/results.txt"
: > "$results"
load() { awk '{print $1}' /proc/loadavg; }
# idle percent of all cores over the next 5 seconds (idle + iowait jiffies over all jiffies)
idle5() {
  local a b
  a=$(awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
  sleep 5
  b=$(awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
  echo "$a $b" | awk '{printf "%d", 100 * ($3 - $1) / ($4 - $2)}'
}
# the FMA ceilings of 1 and 2 threads right now, as "fma1=G fma2=G" (GFLOP/s)
ceilings() {
  "$root/bin/batchgen" bench kernels ceilings 2>/dev/null | grep '^bench kernels ceilings:' \
    | tr ' ' '\n' | awk -F= '/^fma_t1_gflops=/{a=$2} /^fma_t2_gflops=/{b=$2} END {print "fma1=" a " fma2=" b}'
}
# waits for a quiet window; prints "idle=P% load=L fma1=G fma2=G" of the last window measured
quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT:-900})) i
  while true; do
    i=$(idle5)
    if [[ "$i" -ge "${QUIET_IDLE:-85}" || $SECONDS -ge $deadline ]]; then
      echo "idle=$i% load=$(load) $(ceilings)"
      return
    fi
  done
}
for run in $(seq 1 "$runs"); do
  for dtype in bf16 f32; do
    l=$(quiet)
    line=$("$here/batched-bench.sh" "$work/bench-$dtype.gguf" 2>/dev/null | grep -E '^\|\s+128 ')
    pp=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $7); print $7}')
    tg=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $9); print $9}')
    echo "run $run $dtype llama.cpp $l prompt=$pp decode=$tg" | tee -a "$results"
    l=$(quiet)
    summary=$("$root/bin/batchgen" bench runtime --bar --models bench --dtype "$dtype" \
      --runs 1 2>/dev/null | grep '^bench runtime:')
    val() { echo "$summary" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
    echo "run $run $dtype batchgen-lockstep $l prompt=$(val lockstep_prefill_tok_s)" \
      "decode=$(val lockstep_decode_tok_s)" | tee -a "$results"
    echo "run $run $dtype batchgen-coroutine $l prompt=$(val coroutine_prefill_tok_s)" \
      "decode=$(val coroutine_decode_tok_s)" | tee -a "$results"
  done
done
echo "medians (every run in order):"
for dtype in bf16 f32; do
  for engine in llama.cpp batchgen-lockstep batchgen-coroutine; do
    for fig in prompt decode; do
      vals=$(grep " $dtype $engine " "$results" | tr ' ' '\n' | grep "^$fig=" | cut -d= -f2)
      med=$(echo "$vals" | sort -n \
        | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}')
      echo "  $dtype $engine $fig tok/s: $med ($(echo $vals | tr ' ' ','))"
    done
  done
done
