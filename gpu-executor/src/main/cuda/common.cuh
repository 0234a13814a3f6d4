// Shared helpers of the batchgen kernels. Every reduction here has a fixed order that depends
// only on blockDim (a thread's strided partial sum in index order, then a fixed tree), never on
// the grid, the batch or timing: no atomics in any reduction. Compiled with -fmad=false, so a
// multiply followed by an add is two roundings as in Java; fused multiply-adds are written
// explicitly (fmaf) where the CPU kernels use Math.fma.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

#define BG_THREADS 128

// Sum of v over the block (blockDim.x == BG_THREADS) in a fixed tree; every thread gets it.
// red must hold BG_THREADS values; the caller syncs before reusing it.
template <typename T>
__device__ __forceinline__ T bg_block_sum(T v, T* red) {
  red[threadIdx.x] = v;
  __syncthreads();
  for (int s = BG_THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      red[threadIdx.x] = red[threadIdx.x] + red[threadIdx.x + s];
    }
    __syncthreads();
  }
  T out = red[0];
  __syncthreads();
  return out;
}

__device__ __forceinline__ float bg_block_max(float v, float* red) {
  red[threadIdx.x] = v;
  __syncthreads();
  for (int s = BG_THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
    }
    __syncthreads();
  }
  float out = red[0];
  __syncthreads();
  return out;
}

// RMSNorm factor of x[0..n): 1 / sqrt(mean(x^2) + eps), the sum of squares in double as the
// CPU backends do (their order is sequential; this one is strided-then-tree, equally fixed).
__device__ __forceinline__ float bg_rms_inv(const float* x, int n, float eps, double* red) {
  double ss = 0.0;
  for (int i = threadIdx.x; i < n; i += BG_THREADS) {
    ss += (double) x[i] * (double) x[i];
  }
  ss = bg_block_sum<double>(ss, red);
  return (float) (1.0 / sqrt(ss / n + (double) eps));
}
