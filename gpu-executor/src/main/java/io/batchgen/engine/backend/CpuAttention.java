package io.batchgen.engine.backend;

/**
 * Causal attention of one row (one query position) over a {@link CpuKvStore}, for decode and
 * prefill alike, on the {@link SimdKernels} of one width.
 *
 * <p>The query heads that share a KV head (grouped-query attention) run together, four at a
 * time, so each key and value vector is loaded once for all four:
 * <ol>
 *   <li>scores: per chunk of L key positions, four heads' dot products as L independent
 *       sequential FMA chains over the head dimension ({@link SimdKernels#scores4x2});
 *   <li>softmax per head: scale, maximum, the vector exp, a sequential sum;
 *   <li>values: per 2L value columns, four heads' weighted sums as sequential FMA chains over
 *       the positions in order ({@link SimdKernels#weighted4x2}), then divided by the sum.
 * </ol>
 * Every element is a sequential chain of exactly rounded operations whose order depends only on
 * the row's own position, never on the batch, the thread or the vector width.
 *
 * <p>Stateless apart from its dimensions; scratch comes from the caller's {@link Workspace}.
 */
final class CpuAttention {
  private final SimdKernels simd;
  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final int group;
  /** Sets of up to 4 query heads per KV head. */
  private final int quads;
  private final float scale;
  /** {@link #accIndexOf} of (j, d) at {@code j * headDim + d}. */
  private final int[] accIndex;

  CpuAttention(SimdKernels simd, int heads, int kvHeads, int headDim) {
    this.simd = simd;
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.group = heads / kvHeads;
    this.quads = (group + 3) / 4;
    this.scale = (float) (1.0 / Math.sqrt(headDim));
    this.accIndex = new int[4 * headDim];
    for (int j = 0; j < 4; j++) {
      for (int d = 0; d < headDim; d++) {
        accIndex[j * headDim + d] = accIndexOf(j, d);
      }
    }
  }

  /**
   * Attention of the row at {@code pos} (its query {@code q[qOff ..]}, heads * headDim floats)
   * over positions [0, pos] of the sequence whose block table is {@code blocks}; writes
   * heads * headDim floats to {@code out[outOff ..]}.
   *
   * <p>Each pass walks the blocks once for every KV head (a block's keys, then its values, are
   * read front to back), and reads ahead one element of every cache line of the next block while
   * it computes on this one: Java has no prefetch instruction, and decode reads each row's keys
   * and values from memory, block by block, scattered over the heap.
   */
  void row(CpuKvStore kv, int[] blocks, int pos, float[] q, int qOff, float[] out, int outOff,
      Workspace wk) {
    int l = simd.lanes();
    int hd = headDim;
    int bs = kv.blockSize();
    int ctx = pos + 1;
    int nBlocks = (ctx + bs - 1) / bs;
    int stride = nBlocks * kv.chunks() * l;
    int sets = kvHeads * quads;
    // scratch, per set of 4 query heads: packed queries (hd, 4) | scores (4, stride)
    //   | probabilities (ctx, 4) | sums (4) | value accumulators (hd rounded up to 2L, 4)
    int groups = (hd + 2 * l - 1) / (2 * l);
    int setFloats = 4 * hd + 4 * stride + 4 * ctx + 4 + groups * 8 * l;
    float[] s = wk.attention(sets * setFloats);
    for (int set = 0; set < sets; set++) {
      int base = set * setFloats;
      int head0 = headOf(set);
      int n = Math.min(4, group - (set % quads) * 4);
      for (int j = 0; j < 4; j++) {
        int src = qOff + (head0 + j) * hd;
        for (int d = 0; d < hd; d++) {
          s[base + d * 4 + j] = j < n ? q[src + d] : 0f;
        }
      }
    }
    scores(kv, blocks, nBlocks, s, setFloats, stride, wk);
    for (int set = 0; set < sets; set++) {
      int base = set * setFloats;
      int sc = base + 4 * hd;
      int pa = sc + 4 * stride;
      int sums = pa + 4 * ctx;
      int n = Math.min(4, group - (set % quads) * 4);
      for (int j = 0; j < 4; j++) {
        s[sums + j] = j < n ? softmax(s, sc + j * stride, kv, ctx, wk.tmp) : 1f;
      }
      for (int j = 0; j < 4; j++) {
        for (int b0 = 0, t = 0; b0 < ctx; b0 += bs) {
          int src = sc + j * stride + (b0 / bs) * kv.chunks() * l;
          for (int i = 0, end = Math.min(bs, ctx - b0); i < end; i++, t++) {
            s[pa + t * 4 + j] = j < n ? s[src + i] : 0f;
          }
        }
      }
    }
    values(kv, blocks, nBlocks, ctx, s, setFloats, stride, wk);
    for (int set = 0; set < sets; set++) {
      int base = set * setFloats;
      int sums = base + 4 * hd + 4 * stride + 4 * ctx;
      int acc = sums + 4;
      int head0 = headOf(set);
      int n = Math.min(4, group - (set % quads) * 4);
      for (int j = 0; j < n; j++) {
        float inv = 1f / s[sums + j];
        int dst = outOff + (head0 + j) * hd;
        for (int d = 0; d < hd; d++) {
          out[dst + d] = s[acc + accIndex[j * hd + d]] * inv;
        }
      }
    }
  }

  /** First query head of a set of (up to) 4 that share KV head {@code set / quads}. */
  private int headOf(int set) {
    return (set / quads) * group + (set % quads) * 4;
  }

  /** Raw scores of every set's 4 packed heads against every key chunk of the sequence. */
  private void scores(CpuKvStore kv, int[] blocks, int nBlocks, float[] s, int setFloats,
      int stride, Workspace wk) {
    int l = simd.lanes();
    int chunks = kv.chunks();
    int sets = kvHeads * quads;
    // the keys of every head: one stretch at the start of a block
    int keyLines = (kv.vOffset() + 15) / 16;
    int perSet = (keyLines + sets - 1) / sets;
    int touched = 0;
    for (int b = 0; b < nBlocks; b++) {
      float[] block = kv.block(blocks[b]);
      float[] next = b + 1 < nBlocks ? kv.block(blocks[b + 1]) : block;
      for (int set = 0; set < sets; set++) {
        int kvh = set / quads;
        int qa = set * setFloats;
        int sc = qa + 4 * headDim + b * chunks * l;
        int c = 0;
        for (; c + 2 <= chunks; c += 2) {
          simd.scores4x2(s, qa, headDim, block, kv.keyChunk(kvh, c), s, sc + c * l, stride);
        }
        if (c < chunks) {
          simd.scores4(s, qa, headDim, block, kv.keyChunk(kvh, c), s, sc + c * l, stride);
        }
        touched ^= touch(next, set * perSet * 16, perSet, kv.vOffset());
      }
    }
    wk.touched ^= touched;
  }

  /** One read per 64-byte line of {@code lines} lines from {@code from}, below {@code end}. */
  private static int touch(float[] p, int from, int lines, int end) {
    int x = 0;
    int stop = Math.min(end, from + lines * 16);
    for (int i = from; i < stop; i += 16) {
      x ^= Float.floatToRawIntBits(p[i]);
    }
    return x;
  }

  /**
   * Softmax numerators of one head in place over positions [0, ctx) (score of position t at
   * {@code s[off + (t / bs) * chunks * L + t % bs]}); returns their sum, added in order.
   */
  private float softmax(float[] s, int off, CpuKvStore kv, int ctx, float[] tmp) {
    int bs = kv.blockSize();
    int blockStride = kv.chunks() * simd.lanes();
    float max = Float.NEGATIVE_INFINITY;
    for (int b0 = 0; b0 < ctx; b0 += bs) {
      int base = off + (b0 / bs) * blockStride;
      int n = Math.min(bs, ctx - b0);
      for (int i = 0; i < n; i++) {
        float v = s[base + i] * scale;
        s[base + i] = v;
        max = Math.max(max, v);
      }
    }
    float sum = 0f;
    for (int b0 = 0; b0 < ctx; b0 += bs) {
      int base = off + (b0 / bs) * blockStride;
      int n = Math.min(bs, ctx - b0);
      for (int i = 0; i < n; i++) {
        s[base + i] -= max;
      }
      simd.exp(s, base, base + n, tmp);
      for (int i = 0; i < n; i++) {
        sum += s[base + i];
      }
    }
    return sum;
  }

  /**
   * Where head j's weighted sum of column d is among the value accumulators: groups of 2L
   * columns as {@link SimdKernels#weighted4x2} leaves them (4, 2L), then one group of L as
   * {@link SimdKernels#weighted4} does (4, L), then the scalar columns (4, rest).
   */
  private int accIndexOf(int j, int d) {
    int l = simd.lanes();
    int full = headDim / (2 * l);
    int half = (headDim - full * 2 * l) / l;
    if (d < full * 2 * l) {
      return (d / (2 * l)) * 8 * l + j * 2 * l + d % (2 * l);
    }
    int base = full * 8 * l;
    if (d < full * 2 * l + half * l) {
      return base + j * l + d - full * 2 * l;
    }
    int rest = headDim - full * 2 * l - half * l;
    return base + half * 4 * l + j * rest + d - full * 2 * l - half * l;
  }

  /** Weighted sums of the values for every set's 4 heads, per 2L columns, positions in order. */
  private void values(CpuKvStore kv, int[] blocks, int nBlocks, int ctx, float[] s,
      int setFloats, int stride, Workspace wk) {
    int l = simd.lanes();
    int hd = headDim;
    int bs = kv.blockSize();
    int kvDim = kvHeads * hd;
    int full = hd / (2 * l);
    int half = (hd - full * 2 * l) / l;
    int sets = kvHeads * quads;
    int valueLines = (bs * kvDim + 15) / 16;
    int perSet = (valueLines + sets - 1) / sets;
    int touched = 0;
    for (int b = 0; b < nBlocks; b++) {
      float[] block = kv.block(blocks[b]);
      float[] next = b + 1 < nBlocks ? kv.block(blocks[b + 1]) : block;
      int n = Math.min(bs, ctx - b * bs);
      boolean first = b == 0;
      for (int set = 0; set < sets; set++) {
        int pa = set * setFloats + 4 * hd + 4 * stride;
        int acc = pa + 4 * ctx + 4;
        int v0 = kv.vOffset() + (set / quads) * hd;
        int p0 = pa + b * bs * 4;
        for (int g = 0; g < full; g++) {
          simd.weighted4x2(s, p0, n, block, v0 + g * 2 * l, kvDim, s, acc + g * 8 * l, first);
        }
        if (half > 0) {
          simd.weighted4(s, p0, n, block, v0 + full * 2 * l, kvDim, s, acc + full * 8 * l,
              first);
        }
        touched ^= touch(next, kv.vOffset() + set * perSet * 16, perSet, next.length);
      }
    }
    wk.touched ^= touched;
    // columns past the last whole vector: the same chains, one element at a time
    for (int set = 0; set < sets; set++) {
      int pa = set * setFloats + 4 * hd + 4 * stride;
      int acc = pa + 4 * ctx + 4;
      int kvh = set / quads;
      for (int d = full * 2 * l + half * l; d < hd; d++) {
        for (int j = 0; j < 4; j++) {
          float a = 0f;
          for (int t = 0; t < ctx; t++) {
            float[] block = kv.block(blocks[t / bs]);
            a = Math.fma(s[pa + t * 4 + j],
                block[kv.vOffset() + (t % bs) * kvDim + kvh * hd + d], a);
          }
          s[acc + accIndex[j * headDim + d]] = a;
        }
      }
    }
  }
}
