package io.batchgen.engine.backend;

import io.batchgen.engine.model.LoadedModel;

/**
 * How much compute-ready memory a model's weights take on the cpu backend: the whole model, and
 * the most one module needs at once (the least weight budget that can run it).
 *
 * @param modelBytes    compute-ready bytes of every weight matrix (the embedding excluded)
 * @param largestModule the module that pins the most bytes at once, e.g. {@code LM head}
 * @param minimumBytes  what that module pins: the smallest workable weight budget
 */
public record WeightFootprint(long modelBytes, String largestModule, long minimumBytes) {

  /** The footprint of {@code model}'s weights on the cpu backend at the machine's vector width. */
  public static WeightFootprint of(LoadedModel model) {
    return of(model, VectorWidth.preferred());
  }

  /** The footprint of {@code model}'s weights on the cpu backend at {@code width}. */
  public static WeightFootprint of(LoadedModel model, VectorWidth width) {
    WeightPlan plan = WeightPlan.of(model, new PanelGemm(SimdKernels.of(width)));
    WeightPlan.Module m = plan.largest();
    return new WeightFootprint(plan.totalBytes(), m.name(), m.pinned());
  }
}
