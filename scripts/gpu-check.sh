#!/usr/bin/env bash
# The cuda backend's checks on a GPU machine that has no JDK and no network, in under five
# minutes, ending with a summary. Build the bundle first where a JDK is (scripts/gpu-bundle.sh
# writes .gpu-bundle/batchgen-gpu.tar.gz; name `.gpu-bundle` in the device tool's `carry`), then
# run this from the repository root there:
#
#   scripts/gpu-check.sh [OUT_DIR]      (logs go to OUT_DIR, default $OUT or /tmp/batchgen-gpu)
#
# Steps, each under its own time limit so the whole stays under five minutes:
#   1. the GPU test suite (JUnit tag gpu: CudaEquivalenceTest, CudaBatchInvarianceTest);
#   2. GemmBench: the grouped expert GEMM's TFLOP/s on MoE shapes, bf16 and split modes;
#   3. torch.matmul on the same shapes (python3 with PyTorch on that machine);
#   4. decode tokens/s of the bench model at 64 and 512 sequences (bench runtime --bar);
#   5. coroutine vs lock-step at a tight KV budget (bench runtime on cuda).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-/tmp/batchgen-gpu}}
mkdir -p "$out"
bundle="$root/.gpu-bundle/batchgen-gpu.tar.gz"
if [[ ! -f "$bundle" ]]; then
  echo "gpu-check: $bundle is missing; run scripts/gpu-bundle.sh where a JDK is, and carry" \
    ".gpu-bundle" >&2
  exit 2
fi
work=$(mktemp -d /tmp/batchgen-gpu-run.XXXXXX)
tar -C "$work" -xzf "$bundle"
java=("$work/jdk/bin/java" --add-modules=jdk.incubator.vector -Xmx32g
  -Djava.io.tmpdir="$work")
cp="$work/lib/*:$work/test-classes"
# the JUnit launcher does not expand a wildcard: every jar by name
test_cp=$(ls "$work"/lib/*.jar | grep -v junit-platform-console | tr '\n' ':')"$work/test-classes"
shapes="16x64x1024x512 16x512x1024x512 16x512x512x1024 8x512x14336x4096 8x512x4096x14336"
started=$(date +%s)

step() { # name, seconds, command...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s)"
  local t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "   rc=$rc in $(( $(date +%s) - t0 ))s, log $out/$name.log"
  tail -n 3 "$out/$name.log" | sed 's/^/   | /'
  return 0
}

command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader > "$out/device.txt" 2>&1
step tests 110 "${java[@]}" -jar "$work"/lib/junit-platform-console-standalone-*.jar execute \
  --class-path "$test_cp" --select-class io.batchgen.engine.backend.CudaEquivalenceTest \
  --select-class io.batchgen.engine.forward.CudaBatchInvarianceTest --details=tree \
  --disable-banner --disable-ansi-colors
step gemm 40 "${java[@]}" -cp "$cp" io.batchgen.engine.backend.cuda.GemmBench $shapes
step torch 40 python3 "$root/scripts/gpu-check/torch_gemm.py" $shapes
step decode64 35 "${java[@]}" -cp "$cp" io.batchgen.engine.tools.RuntimeBench --bar \
  --backend cuda --models bench --runs 1 --seqs 64
step decode512 45 "${java[@]}" -cp "$cp" io.batchgen.engine.tools.RuntimeBench --bar \
  --backend cuda --models bench --runs 1 --seqs 512
step runtime 45 "${java[@]}" -cp "$cp" io.batchgen.engine.tools.RuntimeBench --backend cuda \
  --models bench --budgets ample,tight --runs 1 --prompts 256
rm -rf "$work"

{
  echo "== batchgen gpu-check summary ($(( $(date +%s) - started ))s)"
  echo "device: $(cat "$out/device.txt" 2>/dev/null || echo unknown)"
  echo "tests: $(grep -E 'tests (successful|failed|skipped|aborted)' "$out/tests.log" \
    | tr -s ' []' ' ' | tr '\n' ',' )"
  grep -E '^(gemm|torch): (skipped|device)' "$out/gemm.log" "$out/torch.log" 2>/dev/null \
    | sed 's/^[^:]*log://'
  echo "grouped GEMM TFLOP/s (ours bf16 | ours split | torch batched | torch loop):"
  for s in $shapes; do
    name=$(echo "$s" | awk -Fx '{print "E"$1"xM"$2"xN"$3"xK"$4}')
    pick() { grep -h "shape=$name mode=$2 " "$out/$1.log" 2>/dev/null \
      | sed 's/.*tflops=//' | head -1; }
    printf '  %-22s %8s %8s %8s %8s\n' "$name" "$(pick gemm bf16)" "$(pick gemm split)" \
      "$(pick torch batched)" "$(pick torch loop)"
  done
  for n in 64 512; do
    echo "decode, bench model, $n seqs: $(grep -h '^bar:' "$out/decode$n.log" 2>/dev/null \
      | sed 's/.*mode=\([a-z-]*\) .*decode tok\/s=\([0-9.]*\).*/\1 \2 tok\/s/' | tr '\n' ';')"
  done
  echo "coroutine vs lock-step: $(grep -h '^bench runtime:' "$out/runtime.log" 2>/dev/null)"
} | tee "$out/summary.txt"
