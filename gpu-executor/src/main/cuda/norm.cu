// Row-wise kernels of a layer: RMSNorm, the residual add, SiLU-and-mul, the shared expert's
// sigmoid gate, and the router (softmax over experts, then top-k). One block of BG_THREADS per
// row; a row's result never depends on the other rows of the launch.
#include "common.cuh"

// out[r] = x[r] * inv_rms(x[r]) * w, for rows r < rows (grid.x = rows); out may alias x.
extern "C" __global__ void rms_norm(const float* __restrict__ x, const float* __restrict__ w,
    float* out, int n, float eps) {
  __shared__ double red[BG_THREADS];
  const float* xr = x + (size_t) blockIdx.x * n;
  float* orow = out + (size_t) blockIdx.x * n;
  float inv = bg_rms_inv(xr, n, eps, red);
  for (int i = threadIdx.x; i < n; i += BG_THREADS) {
    orow[i] = xr[i] * inv * w[i];
  }
}

// h[i] += d[i] for i < n (grid-stride).
extern "C" __global__ void add_inplace(float* h, const float* __restrict__ d, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    h[i] = h[i] + d[i];
  }
}

// g[i] = silu(g[i]) * u[i] = g / (1 + exp(-g)) * u, for i < n (grid-stride).
extern "C" __global__ void silu_mul(float* g, const float* __restrict__ u, long long n) {
  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
       i += (long long) gridDim.x * blockDim.x) {
    float a = g[i];
    g[i] = a / (1.0f + expf(-a)) * u[i];
  }
}

// Shared expert gate: y[r] *= sigmoid(dot(gate, x[r])), width n (grid.x = rows).
extern "C" __global__ void sigmoid_gate(const float* __restrict__ x, const float* __restrict__ gate,
    float* y, int n) {
  __shared__ float red[BG_THREADS];
  const float* xr = x + (size_t) blockIdx.x * n;
  float* yr = y + (size_t) blockIdx.x * n;
  float s = 0.0f;
  for (int i = threadIdx.x; i < n; i += BG_THREADS) {
    s = fmaf(gate[i], xr[i], s);
  }
  s = bg_block_sum<float>(s, red);
  float sig = 1.0f / (1.0f + (float) exp(-(double) s));
  for (int i = threadIdx.x; i < n; i += BG_THREADS) {
    yr[i] = yr[i] * sig;
  }
}

// Router of one row per thread (rows < n_rows): softmax over e experts of logits[r], then the
// top k (ties to the lower id), renormalised when norm_topk. The same sequential arithmetic as
// the cpu backend (float exp of (l - max), float sum in expert order, p = e / sum).
extern "C" __global__ void router_topk(const float* __restrict__ logits, int n_rows, int e,
    int k, int norm_topk, float* scratch, int* top_ids, float* top_w) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n_rows) {
    return;
  }
  const float* l = logits + (size_t) r * e;
  float* p = scratch + (size_t) r * e;
  float max = -INFINITY;
  for (int i = 0; i < e; i++) {
    max = fmaxf(max, l[i]);
  }
  float sum = 0.0f;
  for (int i = 0; i < e; i++) {
    p[i] = (float) exp((double) (l[i] - max));
    sum += p[i];
  }
  float chosen = 0.0f;
  for (int j = 0; j < k; j++) {
    int best = -1;
    for (int i = 0; i < e; i++) {
      bool taken = false;
      for (int t = 0; t < j; t++) {
        taken |= top_ids[(size_t) r * k + t] == i;
      }
      if (!taken && (best < 0 || p[i] > p[best])) {
        best = i;
      }
    }
    float w = p[best] / sum;
    top_ids[(size_t) r * k + j] = best;
    top_w[(size_t) r * k + j] = w;
    chosen += w;
  }
  if (norm_topk) {
    for (int j = 0; j < k; j++) {
      top_w[(size_t) r * k + j] = top_w[(size_t) r * k + j] / chosen;
    }
  }
}
