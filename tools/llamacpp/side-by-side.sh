#!/usr/bin/env bash
# BatchGen's decode and prompt throughput against llama.cpp's llama-batched-bench, side by side
# in one sitting: the `bench` model (same weights: seed 7, as `bench runtime --bar` generates it)
# as bf16 and f32, 64 sequences x (128 random-token prompt + 128 new), 2 threads. The runs
# alternate between the two engines and the two dtypes, so a quiet or a loaded minute on a
# shared machine weighs on both; the load average before each run is printed with it.
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
for run in $(seq 1 "$runs"); do
  for dtype in bf16 f32; do
    l=$(load)
    line=$("$here/batched-bench.sh" "$work/bench-$dtype.gguf" 2>/dev/null | grep -E '^\|\s+128 ')
    pp=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $7); print $7}')
    tg=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $9); print $9}')
    echo "run $run $dtype llama.cpp load=$l prompt=$pp decode=$tg" | tee -a "$results"
    l=$(load)
    summary=$("$root/bin/batchgen" bench runtime --bar --models bench --dtype "$dtype" \
      --runs 1 2>/dev/null | grep '^bench runtime:')
    val() { echo "$summary" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
    echo "run $run $dtype batchgen-lockstep load=$l prompt=$(val lockstep_prefill_tok_s)" \
      "decode=$(val lockstep_decode_tok_s)" | tee -a "$results"
    echo "run $run $dtype batchgen-coroutine load=$l prompt=$(val coroutine_prefill_tok_s)" \
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
