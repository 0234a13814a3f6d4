// Grouped GEMM on tensor cores: y(rows, n) = x(rows, k) . W^T for W (n, k), where the rows
// are split into tiles of up to BM rows and each tile names the group (expert) whose W it
// multiplies by. One launch runs every expert of a layer over its own rows; an ungrouped
// projection (attention, router, LM head) is the one-group case.
//
// Precision: W is held as bf16 planes, hi (and, for weights that bf16 cannot hold exactly,
// such as f32 or Q8_0 checkpoints, lo = w - hi); x arrives as fp32 and is split into bf16
// hi + lo while it is staged (split_x), so  x.w = xh.wh + xl.wh (+ xh.wl)  with fp32
// accumulation: about 16 significant bits per product instead of bf16's 8, at 2-3 tensor-core
// passes. With split_x = 0 and no lo plane it is the plain bf16 GEMM (one pass).
//
// Batch invariance: every output element is one fixed sequence of mma steps over k in chunks
// of BK from 0, whatever the tile, the grid or the number of rows; padding rows and columns
// are zeros that touch no other row. No split-k, no atomics.
#include <mma.h>
#include "common.cuh"

using namespace nvcuda;

#define BM 64
#define BN 64
#define BK 32
#define LDS (BK + 8)
#define LDC (BN + 4)

// The weights of every group lie one after another: group g's W at w_hi + g * n * k (and
// w_lo + g * n * k; w_lo is null when no group has a lo plane).
// tiles[t] = {group, first row, rows (1..BM), unused}; grid = (ceil(n / BN), tiles).
extern "C" __global__ void __launch_bounds__(BG_THREADS) grouped_gemm_bf16(
    const float* __restrict__ x, int ldx, const __nv_bfloat16* __restrict__ w_hi,
    const __nv_bfloat16* __restrict__ w_lo, int split_x, const int4* __restrict__ tiles,
    int n, int k, float* __restrict__ y, int ldy) {
  __shared__ __align__(32) __nv_bfloat16 sAh[BM * LDS];
  __shared__ __align__(32) __nv_bfloat16 sAl[BM * LDS];
  __shared__ __align__(32) __nv_bfloat16 sBh[BN * LDS];
  __shared__ __align__(32) __nv_bfloat16 sBl[BN * LDS];
  __shared__ __align__(32) float sC[BM * LDC];

  int4 tile = tiles[blockIdx.y];
  int n0 = blockIdx.x * BN;
  const float* xt = x + (size_t) tile.y * ldx;
  size_t group_off = (size_t) tile.x * n * k;
  const __nv_bfloat16* wh = w_hi + group_off;
  const __nv_bfloat16* wl = w_lo != nullptr ? w_lo + group_off : nullptr;
  int rows = tile.z;
  int warp = threadIdx.x / 32;
  int wm = warp >> 1;
  int wn = warp & 1;
  bool vec_b = (k & 7) == 0;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 2; j++) {
      wmma::fill_fragment(acc[i][j], 0.0f);
    }
  }

  for (int k0 = 0; k0 < k; k0 += BK) {
    // stage x: BM x BK fp32 -> hi/lo bf16 (zeros past the tile's rows and past k)
    for (int idx = threadIdx.x; idx < BM * BK; idx += BG_THREADS) {
      int r = idx / BK;
      int c = idx % BK;
      float v = (r < rows && k0 + c < k) ? xt[(size_t) r * ldx + k0 + c] : 0.0f;
      __nv_bfloat16 hi = __float2bfloat16_rn(v);
      sAh[r * LDS + c] = hi;
      sAl[r * LDS + c] = __float2bfloat16_rn(v - __bfloat162float(hi));
    }
    // stage W: BN x BK bf16 (as the col-major k x n operand), 8 at a time when k allows
    if (vec_b) {
      for (int idx = threadIdx.x; idx < BN * BK / 8; idx += BG_THREADS) {
        int c = (idx % (BK / 8)) * 8;
        int nn = idx / (BK / 8);
        bool ok = n0 + nn < n && k0 + c < k;
        size_t off = (size_t) (n0 + nn) * k + k0 + c;
        uint4 h = ok ? *reinterpret_cast<const uint4*>(wh + off) : make_uint4(0, 0, 0, 0);
        *reinterpret_cast<uint4*>(&sBh[nn * LDS + c]) = h;
        if (wl != nullptr) {
          uint4 lo = ok ? *reinterpret_cast<const uint4*>(wl + off) : make_uint4(0, 0, 0, 0);
          *reinterpret_cast<uint4*>(&sBl[nn * LDS + c]) = lo;
        }
      }
    } else {
      for (int idx = threadIdx.x; idx < BN * BK; idx += BG_THREADS) {
        int c = idx % BK;
        int nn = idx / BK;
        bool ok = n0 + nn < n && k0 + c < k;
        size_t off = (size_t) (n0 + nn) * k + k0 + c;
        sBh[nn * LDS + c] = ok ? wh[off] : __float2bfloat16_rn(0.0f);
        if (wl != nullptr) {
          sBl[nn * LDS + c] = ok ? wl[off] : __float2bfloat16_rn(0.0f);
        }
      }
    }
    __syncthreads();
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> ah[2];
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> al[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> bh[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> bl[2];
      for (int i = 0; i < 2; i++) {
        wmma::load_matrix_sync(ah[i], &sAh[(wm * 32 + i * 16) * LDS + kk], LDS);
        if (split_x) {
          wmma::load_matrix_sync(al[i], &sAl[(wm * 32 + i * 16) * LDS + kk], LDS);
        }
      }
      for (int j = 0; j < 2; j++) {
        wmma::load_matrix_sync(bh[j], &sBh[(wn * 32 + j * 16) * LDS + kk], LDS);
        if (wl != nullptr) {
          wmma::load_matrix_sync(bl[j], &sBl[(wn * 32 + j * 16) * LDS + kk], LDS);
        }
      }
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          wmma::mma_sync(acc[i][j], ah[i], bh[j], acc[i][j]);
          if (split_x) {
            wmma::mma_sync(acc[i][j], al[i], bh[j], acc[i][j]);
          }
          if (wl != nullptr) {
            wmma::mma_sync(acc[i][j], ah[i], bl[j], acc[i][j]);
          }
        }
      }
    }
    __syncthreads();
  }

  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 2; j++) {
      wmma::store_matrix_sync(&sC[(wm * 32 + i * 16) * LDC + wn * 32 + j * 16], acc[i][j], LDC,
          wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < BM * BN; idx += BG_THREADS) {
    int r = idx / BN;
    int c = idx % BN;
    if (r < rows && n0 + c < n) {
      y[(size_t) (tile.y + r) * ldy + n0 + c] = sC[r * LDC + c];
    }
  }
}
