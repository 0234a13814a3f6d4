package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.KvStore;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The runtime with an executor that streams weights: after every plan it hears the waiting
 * modules (most rows first), the weight-aware policy runs a resident expert of the layer before an
 * absent one, and the tokens are those of lock-step.
 */
class WeightAwareSchedulingTest {

  /**
   * The tiny executor with a pretend store of {@code capacity} experts: after each hint a slow
   * loader brings in the most wanted absent expert (evicting one not wanted), and a call on an
   * absent expert loads it on the spot (counted in {@link #absentRuns}).
   */
  static final class Streaming implements ModuleExecutor {
    final TinyMoeExecutor inner = new TinyMoeExecutor(31, false, 0);
    final int capacity;
    final Set<ModuleKey> resident = new java.util.LinkedHashSet<>();
    Set<ModuleKey> wanted = Set.of();
    final List<List<ModuleKey>> hints = new ArrayList<>();
    final List<ModuleKey> ran = new ArrayList<>();
    /** Expert batches that ran while an absent expert of the same layer had been hinted. */
    int absentRuns;

    Streaming(int capacity) {
      this.capacity = capacity;
    }

    @Override
    public boolean streamsWeights() {
      return true;
    }

    @Override
    public void prefetch(List<ModuleKey> next) {
      hints.add(List.copyOf(next));
      wanted = new HashSet<>(next);
      for (ModuleKey k : next) {
        if (k.kind() == ModuleKind.EXPERT && !resident.contains(k)) {
          bringIn(k, false);
          return;
        }
      }
    }

    /** Makes {@code k} resident if room can be made (always, when {@code force}). */
    private void bringIn(ModuleKey k, boolean force) {
      if (resident.size() >= capacity) {
        ModuleKey victim = null;
        for (ModuleKey r : resident) {
          if (!wanted.contains(r)) {
            victim = r;
            break;
          }
        }
        if (victim == null && force) {
          victim = resident.iterator().next();
        }
        if (victim == null) {
          return;
        }
        resident.remove(victim);
      }
      resident.add(k);
    }

    @Override
    public boolean resident(ModuleKey key) {
      return key.kind() != ModuleKind.EXPERT || resident.contains(key);
    }

    @Override
    public void expert(int layer, int expert, RowBatch batch) {
      ModuleKey k = ModuleKey.expert(layer, expert);
      if (!resident(k)) {
        absentRuns++;
        bringIn(k, true);
      }
      ran.add(k);
      inner.expert(layer, expert, batch);
    }

    @Override
    public ModelShape shape() {
      return inner.shape();
    }

    @Override
    public String describe() {
      return "streaming(" + inner.describe() + ")";
    }

    @Override
    public KvStore createKvStore(int numBlocks, int blockSize) {
      return inner.createKvStore(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
      return inner.kvBytesPerBlock(blockSize);
    }

    @Override
    public void embed(int[] tokens, int offset, int count, float[] out, int outOffset) {
      inner.embed(tokens, offset, count, out, outOffset);
    }

    @Override
    public void attention(AttentionBatch batch) {
      inner.attention(batch);
    }

    @Override
    public void sharedExpert(int layer, RowBatch batch) {
      inner.sharedExpert(layer, batch);
    }

    @Override
    public void lmHead(RowBatch batch) {
      inner.lmHead(batch);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  private static Map<String, int[]> run(ModuleExecutor ex, RuntimeConfig cfg,
      List<int[]> prompts) {
    try (Harness h = new Harness(ex, cfg)) {
      for (int i = 0; i < prompts.size(); i++) {
        SamplingParams p = i % 2 == 0 ? SamplingParams.greedy(3 + i % 5)
            : SamplingParams.seeded(0.8, i, 3 + i % 5);
        h.submit("p" + i, prompts.get(i), p);
      }
      h.runToCompletion();
      return h.tokens();
    }
  }

  @Test
  void hintsRankWaitingModulesAndResidentExpertsRunFirstWithUnchangedTokens() {
    List<int[]> prompts = Harness.prompts(3, 24, 12, TinyMoeExecutor.VOCAB);
    Map<String, int[]> lockStep = run(new TinyMoeExecutor(31, false, 0),
        Harness.config(SchedulingMode.LOCK_STEP), prompts);
    Streaming streaming = new Streaming(2);
    Map<String, int[]> got = run(streaming, Harness.config(SchedulingMode.COROUTINE)
        .withPolicy(SchedulingPolicy.weightAware()), prompts);
    assertThat(got.keySet()).isEqualTo(lockStep.keySet());
    lockStep.forEach((id, t) -> assertThat(got.get(id)).as(id).containsExactly(t));

    assertThat(streaming.hints).isNotEmpty();
    assertThat(streaming.hints).anySatisfy(h -> assertThat(h).hasSizeGreaterThan(1));
    // the plain sweep on the same executor runs absent experts more often
    Streaming plain = new Streaming(2);
    Map<String, int[]> swept = run(plain, Harness.config(SchedulingMode.COROUTINE)
        .withPolicy(SchedulingPolicy.sweep()), prompts);
    assertThat(swept.keySet()).isEqualTo(lockStep.keySet());
    lockStep.forEach((id, t) -> assertThat(swept.get(id)).as(id).containsExactly(t));
    assertThat(streaming.absentRuns).isLessThan(plain.absentRuns);
  }

  @Test
  void withEveryWeightResidentItIsTheSweep() {
    List<int[]> prompts = Harness.prompts(4, 16, 10, TinyMoeExecutor.VOCAB);
    List<ModuleKey> sweep = new ArrayList<>();
    List<ModuleKey> aware = new ArrayList<>();
    for (SchedulingPolicy p : List.of(SchedulingPolicy.sweep(), SchedulingPolicy.weightAware())) {
      try (Harness h = new Harness(new TinyMoeExecutor(31, false, 0),
          Harness.config(SchedulingMode.COROUTINE).withPolicy(p))) {
        for (int i = 0; i < prompts.size(); i++) {
          h.submit("p" + i, prompts.get(i), SamplingParams.greedy(5));
        }
        h.runToCompletion();
        for (Harness.Batch b : h.batches) {
          (p instanceof SchedulingPolicy.Sweep ? sweep : aware).add(b.key());
        }
      }
    }
    assertThat(aware).isEqualTo(sweep);
  }
}
