package io.batchgen.engine.backend;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.Half;
import io.batchgen.engine.model.WeightTensor;

/**
 * {@code out (m, N) = x (m, K) · W^T} against a weight matrix {@code W (N, K)} packed into
 * k-major panels ({@link Packed}), on the {@link SimdKernels} of one vector width.
 *
 * <p>A panel holds NR = 2 vectors of output columns: for each k in increasing order, the NR
 * weights {@code W[n0 .. n0 + NR)[k]} side by side (columns past N are zero). The batch rows are
 * packed once per call into tiles of 5 or 4 rows ({@link RowTiles}), which the micro-kernels
 * broadcast against a panel block of {@link SimdKernels#kBlock()} k-steps held in L1. Every
 * output element is one sequential chain of fused multiply-adds over k, from zero, whatever the
 * tile, its position, the batch size, the thread count or the vector width: results are
 * bitwise batch-invariant and the same at every width.
 *
 * <p>Panel storage follows the weights: f32 (for F32 and F16 weights), BF16 kept as BF16 (half
 * the memory and the bytes streamed at small batches; widened exactly in registers) and Q8_0 kept
 * as int8 with one f32 scale per 32 k (1.125 bytes per weight; widened exactly per block).
 *
 * <p>Stateless apart from its kernels; callers split the panels across workers.
 */
final class PanelGemm {
  /**
   * Most tiles a worker runs against each of its panels before moving on (their packed rows stay
   * in L2); more tiles than that are split into equal chunks, each streaming the weights once.
   */
  static final int CHUNK_TILES = 16;

  private final SimdKernels simd;
  private final int nr;
  private final int kc;

  PanelGemm(SimdKernels simd) {
    this.simd = simd;
    this.nr = simd.panelWidth();
    this.kc = simd.kBlock();
  }

  SimdKernels simd() {
    return simd;
  }

  /** Output columns per panel. */
  int panelWidth() {
    return nr;
  }

  int panels(int n) {
    return (n + nr - 1) / nr;
  }

  /**
   * A weight matrix {@code W (n, k)} packed as {@code panels(n)} panels of {@code (k, nr)}
   * weights in one of three storages (the others null): {@code f32}; {@code bf16} (BF16 bits,
   * pairs as {@link SimdKernels} reads them); {@code q8} with {@code scales}
   * ({@code (k / 32, nr)} per panel).
   */
  record Packed(String name, int n, int k, int nr, float[] f32, short[] bf16, byte[] q8,
      float[] scales) {
    int panelCount() {
      return (n + nr - 1) / nr;
    }

    long bytes() {
      if (f32 != null) {
        return 4L * f32.length;
      }
      return bf16 != null ? 2L * bf16.length : q8.length + 4L * scales.length;
    }

    /** The same storage under another matrix's name (storage reused for a same-shape matrix). */
    Packed renamed(String other) {
      return new Packed(other, n, k, nr, f32, bf16, q8, scales);
    }
  }

  /**
   * Bytes of {@code w} packed (as {@link Packed#bytes()} of {@link #allocate(WeightTensor)}):
   * what the weight store counts against its budget.
   */
  long packedBytes(WeightTensor w) {
    long elements = (long) panels(w.rows()) * nr * w.cols();
    return switch (w.dtype()) {
      case BF16 -> 2 * elements;
      case Q8_0 -> elements + 64 + 4 * (elements / 32);
      default -> 4 * elements;
    };
  }

  /**
   * Zeroed storage for {@code w} packed ({@code panels} of them; all of {@code w} by default):
   * BF16 and Q8_0 keep their type, every other type becomes f32. Fails with the tensor's name
   * if it is too large.
   */
  Packed allocate(WeightTensor w, int panels) {
    long elements = (long) panels * nr * w.cols();
    if (elements > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException("Tensor " + w.name() + " (" + w.rows() + ", " + w.cols()
          + ") is too large to pack for the cpu backend");
    }
    int e = (int) elements;
    return switch (w.dtype()) {
      case BF16 -> new Packed(w.name(), w.rows(), w.cols(), nr, null, new short[e], null, null);
      // a vector of bytes may read past the last L: pad by the widest byte vector
      case Q8_0 -> new Packed(w.name(), w.rows(), w.cols(), nr, null, null, new byte[e + 64],
          new float[e / 32]);
      default -> new Packed(w.name(), w.rows(), w.cols(), nr, new float[e], null, null, null);
    };
  }

  Packed allocate(WeightTensor w) {
    return allocate(w, panels(w.rows()));
  }

  /**
   * Packs panels {@code [from, to)} of {@code w} into {@code dst}, panel {@code p} at slot
   * {@code p - shift} ({@code shift} = from for a one-panel scratch, else 0).
   */
  void pack(WeightTensor w, int from, int to, int shift, Packed dst, Workspace wk) {
    int k = w.cols();
    int n = w.rows();
    for (int p = from; p < to; p++) {
      int n0 = p * nr;
      int count = Math.min(nr, n - n0);
      int base = (p - shift) * nr * k;
      switch (w.dtype()) {
        case BF16 -> packBf16(w, n0, count, dst.bf16(), base, wk);
        case Q8_0 -> packQ8(w, n0, count, dst, p - shift, wk);
        default -> {
          float[] rows = wk.rows(nr * k);
          RowDecoder.of(w.dtype()).decode(w, n0, count, rows, wk.scratch);
          float[] out = dst.f32();
          for (int j = 0; j < count; j++) {
            int src = j * k;
            int d = base + j;
            for (int kk = 0; kk < k; kk++, d += nr) {
              out[d] = rows[src + kk];
            }
          }
          for (int j = count; j < nr; j++) {
            for (int kk = 0, d = base + j; kk < k; kk++, d += nr) {
              out[d] = 0f;
            }
          }
        }
      }
    }
  }

  /** Slot of column j in a k-step of a bf16 panel: low halves first half, high halves second. */
  private int bf16Slot(int j) {
    int l = nr / 2;
    return j < l ? 2 * j : 2 * (j - l) + 1;
  }

  private void packBf16(WeightTensor w, int n0, int count, short[] out, int base, Workspace wk) {
    int k = w.cols();
    short[] raw = wk.scratch.shorts(nr * k);
    w.u16().get(n0 * k, raw, 0, count * k);
    for (int j = 0; j < nr; j++) {
      int d = base + bf16Slot(j);
      if (j >= count) {
        for (int kk = 0; kk < k; kk++, d += nr) {
          out[d] = 0;
        }
        continue;
      }
      int src = j * k;
      for (int kk = 0; kk < k; kk++, d += nr) {
        out[d] = raw[src + kk];
      }
    }
  }

  private void packQ8(WeightTensor w, int n0, int count, Packed dst, int slot, Workspace wk) {
    int k = w.cols();
    int rowBytes = (int) w.rowBytes();
    byte[] raw = wk.scratch.bytes(nr * rowBytes);
    w.data().get(n0 * rowBytes, raw, 0, count * rowBytes);
    byte[] q = dst.q8();
    float[] s = dst.scales();
    int qBase = slot * nr * k;
    int sBase = slot * nr * (k / 32);
    for (int j = 0; j < nr; j++) {
      for (int b = 0; b < k / 32; b++) {
        int src = j * rowBytes + b * 34;
        boolean real = j < count;
        s[sBase + b * nr + j] = real
            ? Half.f16ToFloat((short) ((raw[src] & 0xff) | (raw[src + 1] << 8))) : 0f;
        int d = qBase + b * 32 * nr + j;
        for (int kk = 0; kk < 32; kk++, d += nr) {
          q[d] = real ? raw[src + 2 + kk] : 0;
        }
      }
    }
  }

  /**
   * How a batch of m rows is cut into tiles of 5 or 4 rows: the fewest rows computed (the last
   * tile may run past m on zero rows), then the most 5-row tiles; only 4-row tiles for panels
   * that have no 5-row kernel (bf16).
   *
   * @param rows  rows of each tile (4 or 5)
   * @param start first batch row of each tile; tile t's accumulators start at row start[t]
   */
  record RowTiles(int m, int[] rows, int[] start, int computed) {
    int count() {
      return rows.length;
    }

    /** Tiles per chunk: the fewest equal chunks of at most {@link #CHUNK_TILES}. */
    int chunk() {
      int chunks = (count() + CHUNK_TILES - 1) / CHUNK_TILES;
      return (count() + chunks - 1) / chunks;
    }

    static RowTiles of(int m, boolean fives) {
      int bestFives = 0;
      int bestFours = (m + 3) / 4;
      int bestCost = 4 * bestFours;
      for (int n5 = 1; fives && 5 * n5 - 4 < m; n5++) {
        int n4 = (Math.max(0, m - 5 * n5) + 3) / 4;
        int cost = 5 * n5 + 4 * n4;
        if (cost <= bestCost) {
          bestCost = cost;
          bestFives = n5;
          bestFours = n4;
        }
      }
      int n = bestFives + bestFours;
      int[] rows = new int[n];
      int[] start = new int[n];
      int r = 0;
      for (int t = 0; t < n; t++) {
        rows[t] = t < bestFives ? 5 : 4;
        start[t] = r;
        r += rows[t];
      }
      return new RowTiles(m, rows, start, r);
    }
  }

  /**
   * Batches at least this large widen each bf16 panel block once into f32 and run the f32 tiles
   * on it (5-row tiles: 10 FMA chains against the 8 of the bf16 tile, worth the extra pass when
   * six or more tiles share the block; measured slower at 16 rows); smaller ones widen in
   * registers. The same products either way: widening bf16 is exact.
   */
  static final int WIDEN_MIN_ROWS = 32;

  static boolean widensBf16(int m) {
    return m >= WIDEN_MIN_ROWS;
  }

  /**
   * The tiles for m rows against panels of all of {@code weights} (bf16 widened in registers
   * takes 4-row tiles).
   */
  static RowTiles tiles(int m, WeightTensor... weights) {
    boolean fives = true;
    for (WeightTensor w : weights) {
      fives &= w.dtype() != DType.BF16 || widensBf16(m);
    }
    return RowTiles.of(m, fives);
  }

  /** Floats the packed rows of {@code tiles} take for width k. */
  int packedRowsLength(RowTiles tiles, int k) {
    return tiles.count() * k * nr;
  }

  /**
   * Packs rows {@code [0, m)} of {@code x} (row r at {@code x[xOff + r * ldx]}, k wide) into
   * {@code dst}: tile t's k-step kk at {@code dst[(t * k + kk) * NR + i]} for its row i; rows past
   * m are zero.
   */
  void packRows(float[] x, int xOff, int ldx, int k, RowTiles tiles, float[] dst) {
    int as = nr;
    for (int t = 0; t < tiles.count(); t++) {
      int base = t * k * as;
      for (int i = 0; i < tiles.rows()[t]; i++) {
        int r = tiles.start()[t] + i;
        int d = base + i;
        if (r >= tiles.m()) {
          for (int kk = 0; kk < k; kk++, d += as) {
            dst[d] = 0f;
          }
          continue;
        }
        int src = xOff + r * ldx;
        for (int kk = 0; kk < k; kk++, d += as) {
          dst[d] = x[src + kk];
        }
      }
    }
  }

  /**
   * Tiles {@code [t0, t1)} of the packed rows {@code a} against panel {@code p} (slot
   * {@code slot} of {@code w}) into {@code acc}: row r's NR columns at {@code acc[r * NR ..]}
   * for the rows of those tiles.
   *
   * <p>While the tiles run on one block, they read one element of every cache line of the next
   * block: Java has no prefetch instruction, and without it the first tile over each block waits
   * on memory line by line (a tile keeps only a few lines in flight), which costs up to half the
   * time at the small batches of decoding. The reads are independent of the arithmetic, so the
   * core overlaps them with it.
   */
  /**
   * Fewest tiles per block that read the next block ahead: below, the tiles are too short to
   * hide the reads (measured: it slows batches of 1 to 8 rows down, speeds 64 up).
   */
  static final int TOUCH_MIN_TILES = 4;

  void panel(float[] a, RowTiles tiles, int t0, int t1, Packed w, int slot, float[] acc,
      Workspace wk) {
    int k = w.k();
    int po = slot * nr * k;
    int touched = 0;
    for (int k0 = 0; k0 < k; k0 += kc) {
      int len = Math.min(kc, k - k0);
      boolean first = k0 == 0;
      int pb = po + k0 * nr;
      // the next block starts where this one ends (the next panel's first block after the last)
      int next = pb + len * nr;
      int lines = t1 - t0 >= TOUCH_MIN_TILES ? (len * nr + 15) / 16 : 0;
      int perTile = (lines + (t1 - t0) - 1) / (t1 - t0);
      short[] h = w.bf16();
      if (h != null && !widensBf16(tiles.m())) {
        for (int t = t0; t < t1; t++) {
          int ao = (t * k + k0) * nr;
          simd.tile4h(a, ao, len, h, pb, acc, tiles.start()[t] * nr, first);
          touched ^= touch(h, next + (t - t0) * perTile * 16, perTile / 2);
        }
        continue;
      }
      float[] p = w.f32();
      if (h != null) {
        touched ^= lines == 0 ? 0 : touch(h, next, (len * nr + 31) / 32);
        simd.widenBf16(h, pb, len, wk.widened);
      } else if (w.q8() != null) {
        touched ^= lines == 0 ? 0 : touch(w.q8(), next, (len * nr + 63) / 64);
        simd.widenQ8(w.q8(), pb, w.scales(), slot * nr * (k / 32) + (k0 / 32) * nr, len,
            wk.widened);
      }
      if (p == null) {
        p = wk.widened;
        pb = 0;
        perTile = 0;
      }
      for (int t = t0; t < t1; t++) {
        int ao = (t * k + k0) * nr;
        int co = tiles.start()[t] * nr;
        if (tiles.rows()[t] == 5) {
          simd.tile5(a, ao, len, p, pb, acc, co, first);
        } else {
          simd.tile4(a, ao, len, p, pb, acc, co, first);
        }
        touched ^= touch(p, next + (t - t0) * perTile * 16, perTile);
      }
    }
    wk.touched ^= touched;
  }

  /** One read per 64-byte line of {@code lines} lines from {@code from}, clamped to the array. */
  private static int touch(float[] p, int from, int lines) {
    int x = 0;
    int end = Math.min(p.length, from + lines * 16);
    for (int i = from; i < end; i += 16) {
      x ^= Float.floatToRawIntBits(p[i]);
    }
    return x;
  }

  private static int touch(short[] p, int from, int lines) {
    int x = 0;
    int end = Math.min(p.length, from + lines * 32);
    for (int i = from; i < end; i += 32) {
      x ^= p[i];
    }
    return x;
  }

  private static int touch(byte[] p, int from, int lines) {
    int x = 0;
    int end = Math.min(p.length, from + lines * 64);
    for (int i = from; i < end; i += 64) {
      x ^= p[i];
    }
    return x;
  }

  /** Floats of the Q8_0 scratch block of {@link #panel}. */
  int widenedLength() {
    return kc * nr;
  }

  /**
   * Copies the accumulated rows {@code [r0, r1)} of panel {@code p} (columns below n) to
   * {@code out[outOff + r * ldo + p * NR + j]}.
   */
  void store(float[] acc, int r0, int r1, int n, int p, float[] out, int outOff, int ldo) {
    int n0 = p * nr;
    int valid = Math.min(nr, n - n0);
    for (int r = r0; r < r1; r++) {
      System.arraycopy(acc, r * nr, out, outOff + r * ldo + n0, valid);
    }
  }
}
