// Greedy token choice on the device: the argmax of each row of logits with ties to the lower
// id, as the host Sampler's argmax (a NaN is never chosen; a NaN at id 0 gives id 0, as there).
#include "common.cuh"

// grid.x = rows; logits (rows, vocab); ids[r] = the row's argmax.
extern "C" __global__ void argmax_rows(const float* __restrict__ logits, int vocab,
    int* __restrict__ ids) {
  __shared__ float val[BG_THREADS];
  __shared__ int idx[BG_THREADS];
  const float* l = logits + (size_t) blockIdx.x * vocab;
  float best = -INFINITY;
  int at = -1;
  for (int i = threadIdx.x; i < vocab; i += BG_THREADS) {
    float x = l[i];
    if (x > best || (at < 0 && x == best)) {
      best = x;
      at = i;
    }
  }
  val[threadIdx.x] = best;
  idx[threadIdx.x] = at;
  __syncthreads();
  for (int s = BG_THREADS / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      float b = val[threadIdx.x + s];
      int bi = idx[threadIdx.x + s];
      int ai = idx[threadIdx.x];
      if (bi >= 0 && (ai < 0 || b > val[threadIdx.x] || (b == val[threadIdx.x] && bi < ai))) {
        val[threadIdx.x] = b;
        idx[threadIdx.x] = bi;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    ids[blockIdx.x] = (idx[0] < 0 || isnan(l[0])) ? 0 : idx[0];
  }
}
