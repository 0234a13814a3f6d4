// Attention over the paged KV cache, for prefill and decode rows alike: each row is one query
// at its own position, attending causally over positions [0, pos] of its sequence.
//
// KV layout on the device: block-major, each block in the canonical layout of the KvStore SPI,
// (2, block_size, kv_heads, head_dim) fp32: K of slot s, head h at s * kv_dim + h * head_dim,
// V at block_size * kv_dim past it. A row finds its blocks through row_table[r], the offset of
// its sequence's block table in block_tables.
#include "common.cuh"

#define BG_MAX_HEAD_DIM 256

__device__ __forceinline__ float* bg_kv_slot(float* cache, const int* __restrict__ tables,
    int table, int pos, int block_size, int kv_dim) {
  int block = tables[table + pos / block_size];
  return cache + (size_t) block * 2 * block_size * kv_dim + (size_t) (pos % block_size) * kv_dim;
}

__device__ __forceinline__ void bg_norm_inplace(float* x, int n, const float* __restrict__ w,
    float eps, double* red) {
  float inv = bg_rms_inv(x, n, eps, red);
  for (int i = threadIdx.x; i < n; i += BG_THREADS) {
    x[i] = x[i] * inv * w[i];
  }
  __syncthreads();
}

__device__ __forceinline__ void bg_rope_head(float* x, int hd, int pos,
    const float* __restrict__ inv_freq, float mag, int interleaved) {
  int half = hd / 2;
  for (int i = threadIdx.x; i < half; i += BG_THREADS) {
    float angle = (float) pos * inv_freq[i];
    float c = (float) cos((double) angle) * mag;
    float s = (float) sin((double) angle) * mag;
    int ia = interleaved ? 2 * i : i;
    int ib = interleaved ? 2 * i + 1 : i + half;
    float a = x[ia];
    float b = x[ib];
    x[ia] = a * c - b * s;
    x[ib] = b * c + a * s;
  }
}

// Per row (grid.x = rows): q/k/v biases, clip, QK norm (0 none, 1 per head, 2 over all heads),
// RoPE at the row's position, then K and V written into the row's cache slot. The same order
// of operations as the cpu backend's prepareQkv.
extern "C" __global__ void qkv_prepare(float* q, float* k, float* v,
    const float* __restrict__ bq, const float* __restrict__ bk, const float* __restrict__ bv,
    float clip, int qk_norm, const float* __restrict__ q_norm, const float* __restrict__ k_norm,
    float eps, const float* __restrict__ inv_freq, float mag, int interleaved,
    const int* __restrict__ row_pos, const int* __restrict__ row_table,
    const int* __restrict__ block_tables, int block_size, float* cache, int heads,
    int kv_heads, int hd) {
  __shared__ double red[BG_THREADS];
  int r = blockIdx.x;
  int qd = heads * hd;
  int kvd = kv_heads * hd;
  float* qr = q + (size_t) r * qd;
  float* kr = k + (size_t) r * kvd;
  float* vr = v + (size_t) r * kvd;
  for (int i = threadIdx.x; i < qd; i += BG_THREADS) {
    float x = bq != nullptr ? qr[i] + bq[i] : qr[i];
    qr[i] = clip > 0.0f ? fmaxf(-clip, fminf(clip, x)) : x;
  }
  for (int i = threadIdx.x; i < kvd; i += BG_THREADS) {
    float x = bk != nullptr ? kr[i] + bk[i] : kr[i];
    float y = bv != nullptr ? vr[i] + bv[i] : vr[i];
    kr[i] = clip > 0.0f ? fmaxf(-clip, fminf(clip, x)) : x;
    vr[i] = clip > 0.0f ? fmaxf(-clip, fminf(clip, y)) : y;
  }
  __syncthreads();
  if (qk_norm == 2) {
    bg_norm_inplace(qr, qd, q_norm, eps, red);
    bg_norm_inplace(kr, kvd, k_norm, eps, red);
  } else if (qk_norm == 1) {
    for (int h = 0; h < heads; h++) {
      bg_norm_inplace(qr + h * hd, hd, q_norm, eps, red);
    }
    for (int h = 0; h < kv_heads; h++) {
      bg_norm_inplace(kr + h * hd, hd, k_norm, eps, red);
    }
  }
  int pos = row_pos[r];
  for (int h = 0; h < heads; h++) {
    bg_rope_head(qr + h * hd, hd, pos, inv_freq, mag, interleaved);
  }
  for (int h = 0; h < kv_heads; h++) {
    bg_rope_head(kr + h * hd, hd, pos, inv_freq, mag, interleaved);
  }
  __syncthreads();
  float* slot = bg_kv_slot(cache, block_tables, row_table[r], pos, block_size, kvd);
  for (int i = threadIdx.x; i < kvd; i += BG_THREADS) {
    slot[i] = kr[i];
    slot[(size_t) block_size * kvd + i] = vr[i];
  }
}

// One query head of one row per block (grid = (rows, heads)): an online softmax over chunks of
// BG_THREADS positions from position 0, so a row's arithmetic depends only on its position.
// Scores are sequential FMA chains over the head dimension (as the cpu backend's); each value
// column is a sequential FMA chain over the positions of a chunk, in order.
extern "C" __global__ void attention_paged(const float* __restrict__ q,
    const float* __restrict__ cache, const int* __restrict__ row_pos,
    const int* __restrict__ row_table, const int* __restrict__ block_tables, int block_size,
    int heads, int kv_heads, int hd, float scale, float* __restrict__ out) {
  __shared__ float qs[BG_MAX_HEAD_DIM];
  __shared__ float probs[BG_THREADS];
  __shared__ float red[BG_THREADS];
  int r = blockIdx.x;
  int h = blockIdx.y;
  int kvh = h / (heads / kv_heads);
  int kvd = kv_heads * hd;
  int pos = row_pos[r];
  int table = row_table[r];
  int ctx = pos + 1;
  const float* qh = q + (size_t) r * heads * hd + (size_t) h * hd;
  for (int d = threadIdx.x; d < hd; d += BG_THREADS) {
    qs[d] = qh[d];
  }
  __syncthreads();
  float m = -INFINITY;
  float l = 0.0f;
  float acc0 = 0.0f;
  float acc1 = 0.0f;
  int d0 = threadIdx.x;
  int d1 = threadIdx.x + BG_THREADS;
  for (int c0 = 0; c0 < ctx; c0 += BG_THREADS) {
    int p = c0 + threadIdx.x;
    float s = -INFINITY;
    if (p < ctx) {
      const float* kp = bg_kv_slot(const_cast<float*>(cache), block_tables, table, p,
          block_size, kvd) + kvh * hd;
      float dot = 0.0f;
      for (int d = 0; d < hd; d++) {
        dot = fmaf(qs[d], kp[d], dot);
      }
      s = dot * scale;
    }
    float m_new = fmaxf(m, bg_block_max(s, red));
    float e = p < ctx ? expf(s - m_new) : 0.0f;
    probs[threadIdx.x] = e;
    float csum = bg_block_sum<float>(e, red);
    float corr = expf(m - m_new);
    l = l * corr + csum;
    int n = min(BG_THREADS, ctx - c0);
    if (d0 < hd) {
      float a = acc0 * corr;
      float b = acc1 * corr;
      for (int t = 0; t < n; t++) {
        const float* vp = bg_kv_slot(const_cast<float*>(cache), block_tables, table, c0 + t,
            block_size, kvd) + (size_t) block_size * kvd + kvh * hd;
        a = fmaf(probs[t], vp[d0], a);
        if (d1 < hd) {
          b = fmaf(probs[t], vp[d1], b);
        }
      }
      acc0 = a;
      acc1 = b;
    }
    m = m_new;
    __syncthreads();
  }
  float* o = out + (size_t) r * heads * hd + (size_t) h * hd;
  if (d0 < hd) {
    o[d0] = acc0 / l;
  }
  if (d1 < hd) {
    o[d1] = acc1 / l;
  }
}
