package io.batchgen.engine.backend.cuda;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ExpertGroups;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.NextTokens;
import io.batchgen.core.model.RowBatch;
import io.batchgen.engine.backend.BatchChecks;
import io.batchgen.engine.backend.cuda.CudaDevice.Args;
import io.batchgen.engine.backend.cuda.DeviceLayer.Projection;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelConfig;
import io.batchgen.engine.model.RopeFrequencies;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;

/**
 * The {@code cuda} backend: every module of the model as kernels of our own ({@code
 * src/main/cuda}) launched through JCuda's driver API on one GPU.
 *
 * <p>Weights are uploaded once, at construction, as bf16 planes ({@link Bf16Planes}); every
 * projection is the grouped tensor-core GEMM over all rows of the module batch (for the routed
 * experts of a layer, all experts in one launch: {@link #experts}). Activations are fp32 and are
 * split into bf16 hi + lo inside the GEMM, so results stay within the equivalence tolerance of
 * the reference backend. A module call uploads its input rows, runs its kernels on the device's
 * compute stream and downloads its outputs; the KV cache stays on the device ({@link
 * CudaKvStore}). The LM head picks greedy rows' tokens on the device and returns only their ids.
 *
 * <p>Each output element is one fixed sequence of operations (no split-k, no atomics, reductions
 * in a fixed tree), so a row's result does not depend on the other rows of its batch.
 *
 * <p>Called from one runtime thread at a time (per the SPI).
 */
final class CudaExecutor implements ModuleExecutor {
  /** The widest head attention_paged holds in shared memory (BG_MAX_HEAD_DIM). */
  static final int MAX_HEAD_DIM = 256;

  /** Scratch roles: each a grow-only device buffer. */
  private enum Buf { X, XN, Q, K, V, ATTN, PROJ, FFN_IN, LOGITS, ROUTER_P, TOP_IDS, TOP_W, META,
    TILES, G, U, OUT, IDS }

  private final LoadedModel model;
  private final ModelConfig c;
  private final ModelShape shape;
  private final CudaDevice dev;
  private final List<DeviceLayer> layers;
  private final Projection lmHead;
  private final CUdeviceptr finalNorm;
  private final CUdeviceptr invFreq;
  private final float ropeMagnitude;
  private final boolean interleaved;
  private final float attnScale;

  /**
   * Uploads {@code model}'s weights to {@code device}.
   *
   * @throws IllegalStateException when the device cannot hold them, with the sizes
   */
  CudaExecutor(LoadedModel model, CudaProbe.Device device) {
    this.model = model;
    this.c = model.config();
    this.shape = model.shape();
    if (c.headDim() > MAX_HEAD_DIM || c.headDim() % 2 != 0) {
      throw new IllegalArgumentException("The cuda backend supports even head dimensions up to "
          + MAX_HEAD_DIM + "; this model has " + c.headDim() + ". Use backend cpu.");
    }
    this.dev = new CudaDevice(device, KernelImages.load());
    try {
      List<DeviceLayer> ls = new ArrayList<>();
      for (LayerWeights lw : model.weights().layers()) {
        ls.add(DeviceLayer.upload(dev, lw));
      }
      this.layers = List.copyOf(ls);
      this.lmHead = Projection.upload(dev, model.weights().lmHead());
      this.finalNorm = DeviceLayer.vector(dev, model.weights().finalNorm());
      RopeFrequencies rope = new RopeFrequencies(c);
      this.invFreq = DeviceLayer.vector(dev, rope.inverseFrequencies());
      this.ropeMagnitude = rope.magnitude();
      this.interleaved = rope.style() == ModelConfig.RopeStyle.INTERLEAVED;
      this.attnScale = (float) (1.0 / Math.sqrt(c.headDim()));
    } catch (RuntimeException e) {
      dev.close();
      throw e;
    }
  }

  @Override
  public ModelShape shape() {
    return shape;
  }

  @Override
  public String describe() {
    return "cuda(" + dev.info() + ", " + model.dtype().name().toLowerCase(Locale.ROOT)
        + " weights, " + (dev.allocatedBytes() >> 20) + " MiB on device)";
  }

  @Override
  public KvStore createKvStore(int numBlocks, int blockSize) {
    return new CudaKvStore(dev, numBlocks, blockSize, c.kvDim());
  }

  @Override
  public long kvBytesPerBlock(int blockSize) {
    return CudaKvStore.bytesPerBlock(blockSize, c.kvDim());
  }

  @Override
  public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
    for (int i = 0; i < count; i++) {
      model.weights().embed().readRow(tokens[offset + i], out, outOffset + i * c.hiddenSize());
    }
  }

  private CUdeviceptr buf(Buf role, long floats) {
    return dev.scratch(role, 4L * floats);
  }

  /** Turns a driver failure into the SPI's module failure, naming the module and the device. */
  private RuntimeException failed(String what, CudaException e) {
    return new IllegalStateException("cuda " + what + " failed on " + dev.info() + ": "
        + e.getMessage(), e);
  }

  // ---- launches ----

  /** {@code y (rows, p.n) = x (rows, p.k) . W^T}, the groups as {@code tiles} say. */
  private void gemm(Projection p, CUdeviceptr x, CUdeviceptr tiles, int tileCount,
      CUdeviceptr y) {
    dev.launch(Kernel.GROUPED_GEMM_BF16, GemmTiles.columnBlocks(p.n()), tileCount, new Args()
        .ptr(x).i32(p.k()).ptr(p.hi()).ptr(p.lo()).i32(1).ptr(tiles).i32(p.n()).i32(p.k())
        .ptr(y).i32(p.n()));
  }

  private CUdeviceptr uploadTiles(int[] tiles) {
    CUdeviceptr t = dev.scratch(Buf.TILES, 4L * tiles.length);
    dev.upload(t, tiles, tiles.length);
    return t;
  }

  private void rmsNorm(CUdeviceptr x, CUdeviceptr w, CUdeviceptr out, int rows, int n) {
    dev.launch(Kernel.RMS_NORM, rows, 1, new Args().ptr(x).ptr(w).ptr(out).i32(n)
        .f32(c.rmsEps()));
  }

  // ---- attention ----

  @Override
  public void attention(AttentionBatch b) {
    CudaKvStore kv = BatchChecks.attention(b, shape, CudaKvStore.class);
    DeviceLayer lw = layers.get(b.layer());
    int rows = b.rows();
    int h = c.hiddenSize();
    int qd = c.qDim();
    int kvd = c.kvDim();
    AttentionMeta meta = AttentionMeta.of(b, kv.blockSize());
    try {
      dev.enter();
      CUdeviceptr x = buf(Buf.X, (long) rows * h);
      CUdeviceptr xn = buf(Buf.XN, (long) rows * h);
      CUdeviceptr q = buf(Buf.Q, (long) rows * qd);
      CUdeviceptr k = buf(Buf.K, (long) rows * kvd);
      CUdeviceptr v = buf(Buf.V, (long) rows * kvd);
      CUdeviceptr attn = buf(Buf.ATTN, (long) rows * qd);
      CUdeviceptr proj = buf(Buf.PROJ, (long) rows * h);
      CUdeviceptr ffnIn = buf(Buf.FFN_IN, (long) rows * h);
      CUdeviceptr m = dev.scratch(Buf.META, 4L * meta.ints().length);
      dev.upload(m, meta.ints(), meta.ints().length);
      CUdeviceptr rowPos = m;
      CUdeviceptr rowTable = m.withByteOffset(4L * rows);
      CUdeviceptr tables = m.withByteOffset(8L * rows);
      dev.upload(x, b.hidden(), 0, rows * h);
      int[] tileList = GemmTiles.single(rows);
      CUdeviceptr tiles = uploadTiles(tileList);
      int tileCount = tileList.length / 4;

      rmsNorm(x, lw.attnNorm(), xn, rows, h);
      gemm(lw.q(), xn, tiles, tileCount, q);
      gemm(lw.k(), xn, tiles, tileCount, k);
      gemm(lw.v(), xn, tiles, tileCount, v);
      int qkNorm = switch (c.qkNorm()) {
        case NONE -> 0;
        case PER_HEAD -> 1;
        case FULL -> 2;
      };
      dev.launch(Kernel.QKV_PREPARE, rows, 1, new Args().ptr(q).ptr(k).ptr(v).ptr(lw.bq())
          .ptr(lw.bk()).ptr(lw.bv()).f32(c.clipQkv()).i32(qkNorm).ptr(lw.qNorm())
          .ptr(lw.kNorm()).f32(c.rmsEps()).ptr(invFreq).f32(ropeMagnitude)
          .i32(interleaved ? 1 : 0).ptr(rowPos).ptr(rowTable).ptr(tables).i32(kv.blockSize())
          .ptr(kv.base()).i32(c.numHeads()).i32(c.numKvHeads()).i32(c.headDim()));
      dev.launch(Kernel.ATTENTION_PAGED, rows, c.numHeads(), new Args().ptr(q).ptr(kv.base())
          .ptr(rowPos).ptr(rowTable).ptr(tables).i32(kv.blockSize()).i32(c.numHeads())
          .i32(c.numKvHeads()).i32(c.headDim()).f32(attnScale).ptr(attn));
      gemm(lw.o(), attn, tiles, tileCount, proj);
      long n = (long) rows * h;
      dev.launch(Kernel.ADD_INPLACE, GemmTiles.elementwiseBlocks(n), 1,
          new Args().ptr(x).ptr(proj).i64(n));
      rmsNorm(x, lw.ffnNorm(), ffnIn, rows, h);
      int topK = c.topK();
      if (lw.router() != null) {
        int e = c.numExperts();
        CUdeviceptr logits = buf(Buf.LOGITS, (long) rows * e);
        CUdeviceptr probs = buf(Buf.ROUTER_P, (long) rows * e);
        CUdeviceptr ids = buf(Buf.TOP_IDS, (long) rows * topK);
        CUdeviceptr w = buf(Buf.TOP_W, (long) rows * topK);
        gemm(lw.router(), ffnIn, tiles, tileCount, logits);
        dev.launch(Kernel.ROUTER_TOPK, (rows + Kernel.THREADS - 1) / Kernel.THREADS, 1,
            new Args().ptr(logits).i32(rows).i32(e).i32(topK).i32(c.normTopkProb() ? 1 : 0)
                .ptr(probs).ptr(ids).ptr(w));
        dev.download(b.topExperts(), ids, rows * topK);
        dev.download(b.topWeights(), 0, w, rows * topK);
      } else {
        for (int r = 0; r < rows; r++) {
          b.topExperts()[r * topK] = 0;
          b.topWeights()[r * topK] = 1f;
        }
      }
      dev.download(b.hidden(), 0, x, rows * h);
      dev.download(b.ffnInput(), 0, ffnIn, rows * h);
    } catch (CudaException e) {
      throw failed("attention of layer " + b.layer(), e);
    }
  }

  // ---- FFN modules ----

  /**
   * {@code out = down(silu(gate(x)) * up(x))} on the device for {@code rows} rows of {@code x},
   * the groups as {@code tiles} say; returns the device buffer holding {@code (rows, hidden)}.
   */
  private CUdeviceptr ffn(Projection gate, Projection up, Projection down, CUdeviceptr x,
      int[] tileList, int rows) {
    int f = gate.n();
    CUdeviceptr tiles = uploadTiles(tileList);
    int tileCount = tileList.length / 4;
    CUdeviceptr g = buf(Buf.G, (long) rows * f);
    CUdeviceptr u = buf(Buf.U, (long) rows * f);
    CUdeviceptr out = buf(Buf.OUT, (long) rows * c.hiddenSize());
    gemm(gate, x, tiles, tileCount, g);
    gemm(up, x, tiles, tileCount, u);
    long n = (long) rows * f;
    dev.launch(Kernel.SILU_MUL, GemmTiles.elementwiseBlocks(n), 1, new Args().ptr(g).ptr(u)
        .i64(n));
    gemm(down, g, tiles, tileCount, out);
    return out;
  }

  @Override
  public void expert(int layer, int expert, RowBatch batch) {
    BatchChecks.expert(shape, layer, expert);
    BatchChecks.rows(batch, c.hiddenSize(), c.hiddenSize(), "expert");
    runExperts(layer, new int[] {expert}, new int[] {batch.rows()}, batch.input(),
        batch.output());
  }

  @Override
  public void experts(int layer, ExpertGroups groups) {
    int[] ids = new int[groups.groups()];
    int[] rows = new int[groups.groups()];
    for (int g = 0; g < ids.length; g++) {
      BatchChecks.expert(shape, layer, groups.groupExpert(g));
      ids[g] = groups.groupExpert(g);
      rows[g] = groups.groupRows(g);
    }
    if (groups.hidden() != c.hiddenSize()) {
      throw new IllegalArgumentException("Expert groups of width " + groups.hidden()
          + " but the model's hidden size is " + c.hiddenSize());
    }
    runExperts(layer, ids, rows, groups.input(), groups.output());
  }

  /** One grouped launch per projection for every expert of a layer: the runtime should group. */
  @Override
  public boolean groupsExperts() {
    return true;
  }

  private void runExperts(int layer, int[] ids, int[] groupRows, float[] in, float[] outHost) {
    int rows = 0;
    for (int r : groupRows) {
      rows += r;
    }
    if (rows == 0) {
      return;
    }
    DeviceLayer lw = layers.get(layer);
    int h = c.hiddenSize();
    try {
      dev.enter();
      CUdeviceptr x = buf(Buf.X, (long) rows * h);
      dev.upload(x, in, 0, rows * h);
      CUdeviceptr out = ffn(lw.gate(), lw.up(), lw.down(), x, GemmTiles.of(ids, groupRows),
          rows);
      dev.download(outHost, 0, out, rows * h);
    } catch (CudaException e) {
      throw failed("experts of layer " + layer, e);
    }
  }

  @Override
  public void sharedExpert(int layer, RowBatch batch) {
    BatchChecks.expert(shape, layer, 0);
    BatchChecks.rows(batch, c.hiddenSize(), c.hiddenSize(), "shared expert");
    DeviceLayer lw = layers.get(layer);
    if (lw.sharedGateProj() == null) {
      throw new IllegalStateException("Layer " + layer + " of " + c.arch().hfName()
          + " has no shared expert");
    }
    int rows = batch.rows();
    if (rows == 0) {
      return;
    }
    int h = c.hiddenSize();
    try {
      dev.enter();
      CUdeviceptr x = buf(Buf.X, (long) rows * h);
      dev.upload(x, batch.input(), 0, rows * h);
      CUdeviceptr out = ffn(lw.sharedGateProj(), lw.sharedUp(), lw.sharedDown(), x,
          GemmTiles.single(rows), rows);
      dev.launch(Kernel.SIGMOID_GATE, rows, 1, new Args().ptr(x).ptr(lw.sharedGate()).ptr(out)
          .i32(h));
      dev.download(batch.output(), 0, out, rows * h);
    } catch (CudaException e) {
      throw failed("shared expert of layer " + layer, e);
    }
  }

  // ---- LM head ----

  /** Final norm and LM head on the device; returns the logits buffer {@code (rows, vocab)}. */
  private CUdeviceptr logits(RowBatch batch) {
    BatchChecks.rows(batch, c.hiddenSize(), c.vocabSize(), "LM head");
    int rows = batch.rows();
    int h = c.hiddenSize();
    dev.enter();
    CUdeviceptr x = buf(Buf.X, (long) rows * h);
    CUdeviceptr xn = buf(Buf.XN, (long) rows * h);
    CUdeviceptr logits = buf(Buf.LOGITS, (long) rows * c.vocabSize());
    dev.upload(x, batch.input(), 0, rows * h);
    rmsNorm(x, finalNorm, xn, rows, h);
    int[] tileList = GemmTiles.single(rows);
    gemm(lmHead, xn, uploadTiles(tileList), tileList.length / 4, logits);
    return logits;
  }

  @Override
  public void lmHead(RowBatch batch) {
    if (batch.rows() == 0) {
      return;
    }
    try {
      CUdeviceptr logits = logits(batch);
      dev.download(batch.output(), 0, logits, batch.rows() * c.vocabSize());
    } catch (CudaException e) {
      throw failed("LM head", e);
    }
  }

  /**
   * Greedy rows take the device's argmax (the host Sampler's rule: ties to the lower id), so
   * only their ids come back; a sampled row's logits come back and the host Sampler draws.
   */
  @Override
  public void lmHeadNextTokens(RowBatch batch, NextTokens next) {
    int rows = batch.rows();
    if (rows == 0) {
      return;
    }
    int vocab = c.vocabSize();
    try {
      CUdeviceptr logits = logits(batch);
      CUdeviceptr ids = dev.scratch(Buf.IDS, 4L * rows);
      dev.launch(Kernel.ARGMAX_ROWS, rows, 1, new Args().ptr(logits).i32(vocab).ptr(ids));
      int[] argmax = new int[rows];
      dev.download(argmax, ids, rows);
      float[] row = null;
      for (int i = 0; i < next.rows(); i++) {
        if (next.greedy(i)) {
          next.choose(i, argmax[i]);
        } else {
          row = row == null ? new float[vocab] : row;
          dev.download(row, 0, logits.withByteOffset(4L * i * vocab), vocab);
          next.sampleOnHost(i, row, 0, vocab);
        }
      }
    } catch (CudaException e) {
      throw failed("LM head", e);
    }
  }

  @Override
  public void close() {
    dev.close();
  }
}
