package io.batchgen.engine.backend;

import io.batchgen.engine.model.ExpertWeights;
import io.batchgen.engine.model.WeightTensor;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Weight matrices packed for {@link PanelGemm}, kept on the heap up to a byte budget, least
 * recently used evicted first. The checkpoint itself stays memory-mapped; this is a copy of the
 * hot weights in panel order: BF16 stays BF16 (the mapped size), Q8_0 stays int8 with an f32
 * scale per 32 weights (1.125 bytes a weight), F32 and F16 become f32 (2x the mapped size for
 * F16); N is rounded up to whole panels.
 *
 * <p>The default budget is a quarter of the maximum heap (the core modules read no system
 * properties; a typed backend option can make it tunable). A matrix larger than the whole budget
 * is packed for the call and not kept.
 * Keys are tensors by identity. Not thread-safe: owned by one {@link CpuFfn}, which is used by one
 * thread at a time; packing itself fans out to the pool.
 */
final class PackCache {
  private final WorkerPool pool;
  private final PanelGemm gemm;
  private final Workspace[] ws;
  private final long budget;
  private final LinkedHashMap<WeightTensor, PanelGemm.Packed> map =
      new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;

  PackCache(WorkerPool pool, PanelGemm gemm, Workspace[] ws, long budgetBytes) {
    this.pool = pool;
    this.gemm = gemm;
    this.ws = ws;
    this.budget = budgetBytes;
  }

  /** A quarter of the maximum heap. */
  static long defaultBudget() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  long bytes() {
    return bytes;
  }

  /** Whether {@code w} is cached. */
  boolean holds(WeightTensor w) {
    return map.containsKey(w);
  }

  /** Whether all three matrices of {@code w} are cached. */
  boolean holds(ExpertWeights w) {
    return map.containsKey(w.gate()) && map.containsKey(w.up()) && map.containsKey(w.down());
  }

  /** {@code w} packed, from the cache or packed now on the pool (and cached if it fits). */
  PanelGemm.Packed get(WeightTensor w) {
    PanelGemm.Packed p = map.get(w);
    if (p != null) {
      return p;
    }
    PanelGemm.Packed dst = gemm.allocate(w);
    pool.run(gemm.panels(w.rows()),
        (worker, from, to) -> gemm.pack(w, from, to, 0, dst, ws[worker]));
    p = dst;
    if (p.bytes() <= budget) {
      Iterator<Map.Entry<WeightTensor, PanelGemm.Packed>> it = map.entrySet().iterator();
      while (bytes + p.bytes() > budget && it.hasNext()) {
        bytes -= it.next().getValue().bytes();
        it.remove();
      }
      map.put(w, p);
      bytes += p.bytes();
    }
    return p;
  }
}
