package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.LayerWeights;
import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.WeightTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's weight matrices as the {@link WeightStore} sees them: one entry per module (what one
 * module call pins at once) with its position in a forward pass and its compute-ready bytes.
 * Attention's projections and router are used one at a time, so their largest matrix is what that
 * module pins; an expert pins its three matrices together.
 *
 * @param modules every module's matrices, in model order
 */
record WeightPlan(List<Module> modules) {

  /**
   * One module's matrices.
   *
   * @param name     for messages, e.g. {@code layer 3 expert 7}
   * @param order    position in one forward pass
   * @param matrices its weight matrices
   * @param pinned   compute-ready bytes one call of it holds at once
   */
  record Module(String name, int order, List<WeightTensor> matrices, long pinned) {
    long bytes() {
      long b = 0;
      for (WeightTensor w : matrices) {
        b += PanelGemm.packedBytes(w);
      }
      return b;
    }
  }

  static WeightPlan of(LoadedModel model) {
    List<Module> out = new ArrayList<>();
    List<LayerWeights> layers = model.weights().layers();
    int perLayer = layers.get(0).experts().size() + 2;
    for (int l = 0; l < layers.size(); l++) {
      LayerWeights lw = layers.get(l);
      List<WeightTensor> attn = new ArrayList<>(List.of(lw.wq(), lw.wk(), lw.wv(), lw.wo()));
      if (lw.router() != null) {
        attn.add(lw.router());
      }
      out.add(oneAtATime("layer " + l + " attention", l * perLayer, attn));
      for (int e = 0; e < lw.experts().size(); e++) {
        out.add(expert("layer " + l + " expert " + e, l * perLayer + 1 + e, lw.experts().get(e)));
      }
      if (lw.shared() != null) {
        out.add(expert("layer " + l + " shared expert", l * perLayer + perLayer - 1,
            lw.shared()));
      }
    }
    out.add(oneAtATime("LM head", layers.size() * perLayer,
        List.of(model.weights().lmHead())));
    return new WeightPlan(out);
  }

  private static Module oneAtATime(String name, int order, List<WeightTensor> ws) {
    long max = 0;
    for (WeightTensor w : ws) {
      max = Math.max(max, PanelGemm.packedBytes(w));
    }
    return new Module(name, order, ws, max);
  }

  private static Module expert(String name, int order, ExpertWeights w) {
    List<WeightTensor> ws = List.of(w.gate(), w.up(), w.down());
    Module m = new Module(name, order, ws, 0);
    return new Module(name, order, ws, m.bytes());
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
          b += PanelGemm.packedBytes(w);
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
