package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Drives a {@link Scheduler} on the test thread, recording every batch and result. */
final class Harness implements AutoCloseable {
  record Batch(ModuleKey key, List<ModuleBatchObserver.Row> rows) {
  }

  final Scheduler scheduler;
  final MetricsRecorder metrics = new MetricsRecorder();
  final Map<String, SequenceResult> results = new LinkedHashMap<>();
  final List<Batch> batches = new ArrayList<>();

  Harness(ModuleExecutor executor, RuntimeConfig config) {
    this(executor, config, null);
  }

  Harness(ModuleExecutor executor, RuntimeConfig config, Detokenizer detokenizer) {
    scheduler = new Scheduler(executor, config, detokenizer, metrics);
    scheduler.setObserver((key, rows) -> batches.add(new Batch(key, List.copyOf(rows))));
  }

  /** Small blocks and batches, so a few short prompts exercise paging and batch limits. */
  static RuntimeConfig config(SchedulingMode mode) {
    return RuntimeConfig.defaults().withMode(mode).withKv(4, 1L << 24, 1L << 24)
        .withBatchLimits(8, 32, 4096, 64, 64);
  }

  void submit(String id, int[] prompt, SamplingParams params) {
    scheduler.submit(new GenerationRequest(id, prompt, params), r -> {
      assertThat(results).doesNotContainKey(r.id());
      results.put(r.id(), r);
    }, System.nanoTime());
  }

  /** Runs until nothing is left; returns the batches run. */
  int runToCompletion() {
    int n = 0;
    while (scheduler.runOnce()) {
      n++;
      assertThat(n).as("batches before completion").isLessThan(2_000_000);
    }
    assertThat(scheduler.hasLiveSequences()).as("live sequences left when idle").isFalse();
    return n;
  }

  Map<String, int[]> tokens() {
    Map<String, int[]> m = new LinkedHashMap<>();
    results.forEach((id, r) -> m.put(id, r.tokens()));
    return m;
  }

  /** {@code count} prompts of lengths in [1, maxLen], deterministic from {@code seed}. */
  static List<int[]> prompts(long seed, int count, int maxLen, int vocab) {
    Random r = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] p = new int[1 + r.nextInt(maxLen)];
      for (int j = 0; j < p.length; j++) {
        p[j] = r.nextInt(vocab);
      }
      out.add(p);
    }
    return out;
  }

  @Override
  public void close() {
    scheduler.close();
  }
}
