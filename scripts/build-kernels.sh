#!/usr/bin/env bash
# Compiles the cuda backend's kernels (gpu-executor/src/main/cuda/*.cu) with nvcc into the files
# the jar carries: per kernel file, PTX for compute_80 (the driver JIT-compiles it for any GPU of
# compute capability 8.0 or newer) and cubins for sm_80 and sm_90 (loaded as they are on A100- and
# H100/H200-class cards), plus kernels.properties, which records the nvcc release, the flags and
# the SHA-256 of every source and output. The outputs are checked in, so a build without nvcc
# makes the same jar; KernelArtifactsTest fails when the sources no longer match the manifest and,
# where this nvcc release is installed, when recompiling gives other bytes.
#
#   scripts/build-kernels.sh             regenerate the checked-in files
#   scripts/build-kernels.sh --out DIR   write them to DIR instead (the test compares)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/gpu-executor/src/main/cuda"
out="$root/gpu-executor/src/main/resources/io/batchgen/engine/backend/cuda"
if [[ "${1:-}" == "--out" ]]; then
  out="$2"
fi
NVCC=${NVCC:-nvcc}
if ! command -v "$NVCC" >/dev/null; then
  echo "build-kernels: nvcc not found (set NVCC=/path/to/nvcc); the checked-in kernels stay" >&2
  exit 2
fi
# -fmad=false: a multiply then an add round twice, as in Java; kernels write fmaf where the
# cpu backend uses Math.fma. No -lineinfo: outputs must not depend on the checkout's path.
FLAGS="-std=c++17 -O3 -fmad=false"
mkdir -p "$out"
release=$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\), \(V[0-9.]*\).*/\2/p')
cd "$src"
kernels=$(ls *.cu | sort)
for f in $kernels; do
  name=${f%.cu}
  "$NVCC" $FLAGS -arch=compute_80 -ptx -o "$out/$name.compute_80.ptx" "$f"
  "$NVCC" $FLAGS -arch=sm_80 -cubin -o "$out/$name.sm_80.cubin" "$f"
  "$NVCC" $FLAGS -arch=sm_90 -cubin -o "$out/$name.sm_90.cubin" "$f"
done
{
  echo "# Written by scripts/build-kernels.sh; do not edit."
  echo "nvcc.version=$release"
  echo "nvcc.flags=$FLAGS"
  echo "kernels=$(echo $kernels | sed 's/\.cu//g' | tr ' ' ',')"
  for f in $(ls *.cu *.cuh | sort); do
    echo "source.$f=$(sha256sum "$f" | cut -d' ' -f1)"
  done
  for k in $kernels; do
    name=${k%.cu}
    for o in "$name.compute_80.ptx" "$name.sm_80.cubin" "$name.sm_90.cubin"; do
      echo "output.$o=$(sha256sum "$out/$o" | cut -d' ' -f1)"
    done
  done
} > "$out/kernels.properties"
echo "build-kernels: $(echo $kernels | wc -w) kernel files compiled with nvcc $release into $out"
