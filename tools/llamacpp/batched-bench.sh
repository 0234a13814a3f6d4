#!/usr/bin/env bash
# The decode-throughput baseline for `bin/batchgen bench runtime --bar`: llama.cpp's own
# llama-batched-bench on the same GGUF export, 64 sequences x (128 prompt + 128 new), 2 threads,
# flash attention on (the configuration the coroutine-runtime issue quotes).
#
# Usage: tools/llamacpp/batched-bench.sh MODEL.gguf [extra llama-batched-bench args]
#   e.g. bin/batchgen make-model --preset bench --format gguf --dtype bf16 --seed 7 \
#          --out /tmp/bench-bf16.gguf
#        tools/llamacpp/batched-bench.sh /tmp/bench-bf16.gguf
#
# Builds llama-batched-bench once (CPU only, -march=native; ~7 min on 2 cores) from the llama.cpp
# source that node-llama-cpp ships (so it is the same llama.cpp as logits.mjs runs), into
# tools/llamacpp/build. Needs git, cmake, a C++ compiler and `npm install` done here first.
# The TG column (t/s) is the decode throughput to compare with ours, PP the prompt throughput.
#
# Token ids: our workload feeds every sequence random token ids, so its rows spread over the
# experts. A llama-batched-bench that fed one token to every sequence would route every row of
# a step to the same experts, a much easier workload for an MoE model; this script refuses to
# run a build whose source does not draw its prompt and decode tokens at random.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
model="${1:?usage: batched-bench.sh MODEL.gguf [args]}"
shift
bundle="$here/node_modules/node-llama-cpp/llama/gitRelease.bundle"
src="$here/build/llama.cpp"
bin="$src/build/bin/llama-batched-bench"
if [[ ! -x "$bin" ]]; then
  [[ -f "$bundle" ]] || { echo "batched-bench: run 'npm install' in $here first" >&2; exit 2; }
  rm -rf "$src" && mkdir -p "$here/build"
  git clone -q "$bundle" "$src"
  cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF >/dev/null
  cmake --build "$src/build" --target llama-batched-bench -j "$(nproc)" >/dev/null
fi
tool_src="$src/tools/batched-bench/batched-bench.cpp"
# every token the tool adds to a batch (prompt and decode) must come from its random draw
if [[ ! -f "$tool_src" ]] || grep -q 'common_batch_add(batch, 0,' "$tool_src" \
    || [[ "$(grep -c 'common_batch_add(batch, get_token_rand()' "$tool_src")" -lt 3 ]]; then
  echo "batched-bench: $tool_src does not feed random token ids to every sequence;" \
    "refusing to measure a workload where all sequences route to the same experts" >&2
  exit 3
fi
exec "$bin" -m "$model" -c 17000 -b 2048 -ub 512 -npp 128 -ntg 128 -npl 64 -t 2 -fa on "$@"
