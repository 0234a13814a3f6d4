package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.WeightTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's weight matrices as the {@link WeightStore} sees them: one entry per module (what one
 * module call pins at once) with its position in a forward pass and its compute-ready bytes
 * (packed at the backend's panel width). Attention pins q, k and v together (one fused GEMM), then
 * the output projection, then the router; an expert pins its three matrices together.
 *
 * @param modules every module's matrices, in model order
 * @param gemm    the panels the matrices are packed into
 */
record WeightPlan(List<Module> modules, PanelGemm gemm) {

  /**
   * One module's matrices.
   *
   * @param name     for messages, e.g. {@code layer 3 expert 7}
   * @param order    position in one forward pass
   * @param matrices its weight matrices
   * @param pinned   compute-ready bytes one call of it holds at once
   */
  record Module(String name, int order, List<WeightTensor> matrices, long pinned) {
  }

  private static long bytes(PanelGemm gemm, List<WeightTensor> ws) {
    long b = 0;
    for (WeightTensor w : ws) {
      b += gemm.packedBytes(w);
    }
    return b;
  }

  static WeightPlan of(LoadedModel model, PanelGemm gemm) {
    List<Module> out = new ArrayList<>();
    List<LayerWeights> layers = model.weights().layers();
    int perLayer = layers.get(0).experts().size() + 2;
    for (int l = 0; l < layers.size(); l++) {
      LayerWeights lw = layers.get(l);
      List<WeightTensor> qkv = List.of(lw.wq(), lw.wk(), lw.wv());
      List<WeightTensor> attn = new ArrayList<>(qkv);
      attn.add(lw.wo());
      long pinned = Math.max(bytes(gemm, qkv), gemm.packedBytes(lw.wo()));
      if (lw.router() != null) {
        attn.add(lw.router());
        pinned = Math.max(pinned, gemm.packedBytes(lw.router()));
      }
      out.add(new Module("layer " + l + " attention", l * perLayer, attn, pinned));
      for (int e = 0; e < lw.experts().size(); e++) {
        out.add(expert(gemm, "layer " + l + " expert " + e, l * perLayer + 1 + e,
            lw.experts().get(e)));
      }
      if (lw.shared() != null) {
        out.add(expert(gemm, "layer " + l + " shared expert", l * perLayer + perLayer - 1,
            lw.shared()));
      }
    }
    WeightTensor head = model.weights().lmHead();
    out.add(new Module("LM head", layers.size() * perLayer, List.of(head),
        gemm.packedBytes(head)));
    return new WeightPlan(out, gemm);
  }

  private static Module expert(PanelGemm gemm, String name, int order, ExpertWeights w) {
    List<WeightTensor> ws = List.of(w.gate(), w.up(), w.down());
    return new Module(name, order, ws, bytes(gemm, ws));
  }

  /** Positions in one forward pass. */
  int cycle() {
    return modules.get(modules.size() - 1).order() + 1;
  }

  /** Compute-ready bytes of the whole model (matrices shared by two modules counted once). */
  long totalBytes() {
    java.util.Set<WeightTensor> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    long b = 0;
    for (Module m : modules) {
      for (WeightTensor w : m.matrices()) {
        if (seen.add(w)) {
          b += gemm.packedBytes(w);
        }
      }
    }
    return b;
  }

  /** The module that pins the most bytes at once. */
  Module largest() {
    Module best = modules.get(0);
    for (Module m : modules) {
      if (m.pinned() > best.pinned()) {
        best = m;
      }
    }
    return best;
  }

  /**
   * Fails when {@code budget} cannot hold the largest module's working set, naming the numbers.
   *
   * @throws IllegalArgumentException with the budget, the module, its bytes and the model's
   */
  void check(long budget) {
    Module m = largest();
    if (budget < m.pinned()) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
          "The weight budget of %,d bytes (%.1f MiB) cannot hold the weights of one module: %s"
              + " needs %,d bytes (%.1f MiB) compute-ready at once; the whole model is %,d bytes"
              + " (%.1f MiB) compute-ready. Raise the weight budget (Spark:"
              + " spark.batchgen.memory.weights.budget, option weightsBudget) to at least %,d"
              + " bytes, or a larger heap fraction.", budget, budget / 1048576.0, m.name(),
          m.pinned(), m.pinned() / 1048576.0, totalBytes(), totalBytes() / 1048576.0,
          m.pinned()));
    }
  }

  /** Tells {@code store} every matrix's position in the forward pass. */
  void register(WeightStore store) {
    int cycle = cycle();
    for (Module m : modules) {
      for (WeightTensor w : m.matrices()) {
        store.order(w, m.order(), cycle);
      }
    }
  }
}
