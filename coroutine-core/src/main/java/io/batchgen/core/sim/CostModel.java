package io.batchgen.core.sim;

import java.util.Locale;

/**
 * The simulated hardware: what each module call of the modeled model costs on one executor's
 * device, and how fast sequence state moves between executors.
 *
 * <p>Costs are per call and per <em>real</em> layer of the modeled model ({@link #layers}); the
 * simulation runs a smaller model and charges each simulated layer for
 * {@code layers / simulatedLayers} real ones. It routes to as many experts with the same top-k as
 * the modeled model, so expert batches have the modeled sizes. Token embedding is a gather and
 * is not charged.
 *
 * @param name                    short name for tables ({@code gpu-like}, {@code cpu-measured})
 * @param description             where the figures come from
 * @param layers                  layers of the modeled model
 * @param experts                 routed experts per layer of the modeled model
 * @param topK                    experts per token of the modeled model
 * @param kvBytesPerPosition      KV bytes one cached position occupies, all layers: what a
 *                                migration with KV ships per position
 * @param attention               one layer's attention (and router) call
 * @param expert                  one routed expert's call
 * @param lmHead                  the final norm, LM head and sampling
 * @param transportBytesPerSecond how fast sequence state moves between two executors
 * @param transportLatencyNanos   fixed cost of one transfer
 */
public record CostModel(String name, String description, int layers, int experts, int topK,
    long kvBytesPerPosition, ModuleCost attention, ModuleCost expert, ModuleCost lmHead,
    double transportBytesPerSecond, long transportLatencyNanos) {

  public CostModel {
    if (layers <= 0 || experts <= 0 || topK <= 0 || topK > experts || kvBytesPerPosition <= 0
        || !(transportBytesPerSecond > 0) || transportLatencyNanos < 0) {
      throw new IllegalArgumentException("Cost model [" + name + "] needs positive layers, experts,"
          + " KV bytes and transport speed and 1 <= topK <= experts; got layers=" + layers
          + " experts=" + experts + " topK=" + topK + " kvBytesPerPosition=" + kvBytesPerPosition
          + " transportBytesPerSecond=" + transportBytesPerSecond);
    }
  }

  /**
   * A GPU-like device: an H200-class GPU (4.8 TB/s HBM, 700 TFLOP/s of effective bf16 matrix
   * throughput, 8 µs of launch and synchronisation per module call) running a Mixtral-8x7B-shaped
   * model in bf16 (32 layers, hidden 4096, 8 experts top-2 of FFN width 14336, 8 KV heads of 128,
   * vocabulary 32000), executors linked at 200 Gb/s (25 GB/s, 20 µs per transfer).
   *
   * <p>Each call is a roofline: reading the module's weights bounds it until the rows' arithmetic
   * takes longer (the knee, about 146 rows here), and attention also reads every cached
   * position's KV (4 KiB per position and layer). A decode step therefore costs about 6 ms for
   * one sequence (two experts' weights read), about 22 ms from 16 rows on (all eight experts'
   * weights read) and about 29 ms at 256 rows of 1,000 cached positions each: nearly constant
   * over a few hundred rows, as memory-bound decode is.
   */
  public static CostModel gpuLike() {
    double bandwidth = 4.8e12;         // bytes/s
    double flops = 700e12;             // effective bf16 FLOP/s
    double launch = 8_000;             // ns per call
    double hidden = 4096;
    double attentionWeights = hidden * (4096 + 1024 + 1024 + 4096) * 2;   // q, k, v, o; bf16
    double expertWeights = 3 * hidden * 14336 * 2;                        // gate, up, down
    double lmHeadWeights = 32000 * hidden * 2;
    long kvPerLayer = 2L * 8 * 128 * 2;                                   // K and V, bf16
    return new CostModel("gpu-like", "H200-class roofline (4.8 TB/s, 700 TFLOP/s, 8 us per"
        + " call), Mixtral-8x7B shape (32 layers, 8 experts top-2), 25 GB/s between executors",
        32, 8, 2, 32 * kvPerLayer,
        roofline(launch, attentionWeights, bandwidth, flops, kvPerLayer / bandwidth * 1e9),
        roofline(launch, expertWeights, bandwidth, flops, 0),
        roofline(launch, lmHeadWeights, bandwidth, flops, 0),
        25e9, 20_000);
  }

  /** A weight-streaming module: {@code 2 * params} FLOP per row, weights read once per call. */
  private static ModuleCost roofline(double launchNanos, double weightBytes, double bandwidth,
      double flops, double perContextNanos) {
    double params = weightBytes / 2;
    double perRow = 2 * params / flops * 1e9;
    double memory = weightBytes / bandwidth * 1e9;
    return new ModuleCost(launchNanos, perRow, memory / perRow, perContextNanos);
  }

  /** One row per module kind: the figures and a few derived step costs. */
  public String describeCosts() {
    return String.format(Locale.ROOT, "%s: %s%n  attention %s%n  expert    %s%n  lm_head   %s%n"
        + "  decode step (all %d layers), ctx 1000: 1 row %.2f ms, 16 rows %.2f ms, 256 rows"
        + " %.2f ms; KV %d B/position; transport %.2f GB/s", name, description,
        describe(attention), describe(expert), describe(lmHead), layers,
        decodeStepNanos(1, 1000) / 1e6, decodeStepNanos(16, 1000) / 1e6,
        decodeStepNanos(256, 1000) / 1e6, kvBytesPerPosition, transportBytesPerSecond / 1e9);
  }

  private static String describe(ModuleCost c) {
    return String.format(Locale.ROOT, "fixed %.1f us + %.3f us/row (from %.0f rows) + %.4f"
        + " us/context position", c.fixedNanos() / 1e3, c.perRowNanos() / 1e3, c.kneeRows(),
        c.perContextNanos() / 1e3);
  }

  /**
   * A decode step of {@code rows} sequences with {@code context} cached positions each, the
   * rows spread evenly over the experts they reach (all of them once {@code rows * topK >=
   * experts}).
   */
  public double decodeStepNanos(int rows, int context) {
    return layers * layerNanos(rows, (long) rows * context) + lmHead.nanos(rows, 0);
  }

  /** One layer over {@code rows} tokens: attention, then the routed experts they reach. */
  double layerNanos(double rows, long context) {
    double active = Math.min(experts, rows * topK);
    return attention.nanos(rows, context) + active * expert.nanos(rows * topK / active, 0);
  }
}
