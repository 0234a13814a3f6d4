package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.testing.TinyMoeExecutor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The planner on hand-built wait queues, with no backend call: which module it picks, which rows
 * it takes, and which KV blocks each attention entry uses.
 */
class BatchPlannerTest {
  private static final int BLOCK = 4;
  private final TinyMoeExecutor executor = new TinyMoeExecutor(1, false);
  private final ModelShape shape = executor.shape();
  private final ModuleKeys keys = new ModuleKeys(shape);
  private final WaitQueue[] queues = new WaitQueue[keys.count()];
  private KvBlockPool pool;
  private BatchPlanner planner;
  private long order;

  private final SequenceSlot.Queues sink = new SequenceSlot.Queues() {
    @Override
    public void await(SequenceSlot slot, int keyOrder, int row, int rank) {
      queues[keyOrder].add(slot, row, rank, planner.tick(), 0);
    }

    @Override
    public void stepDone(SequenceSlot slot) {
    }
  };

  private void setUp(RuntimeConfig config, int poolBlocks) {
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new WaitQueue(i);
    }
    pool = new KvBlockPool(executor.createKvStore(poolBlocks, BLOCK), shape.numLayers(),
        shape.numKvHeads() * shape.headDim());
    SchedulingPolicy policy = config.mode() == SchedulingMode.LOCK_STEP
        ? SchedulingPolicy.modelOrder() : config.policy().fresh();
    planner = new BatchPlanner(config, keys, queues, policy, pool);
  }

  @AfterEach
  void close() {
    if (pool != null) {
      pool.close();
    }
  }

  private static RuntimeConfig limits(int attentionRows, int attentionContext, int expertRows) {
    return RuntimeConfig.defaults().withKv(BLOCK, 1L << 24, 1L << 24)
        .withBatchLimits(16, attentionRows, attentionContext, expertRows, 64);
  }

  /**
   * A sequence with {@code cached} positions in the KV cache starting a step of {@code rows}
   * tokens: it holds the blocks for them and awaits attention of layer 0.
   */
  private SequenceSlot stepping(String id, int cached, int rows, boolean offload) {
    int[] tokens = new int[cached + rows];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = 1 + i % (TinyMoeExecutor.VOCAB - 1);
    }
    SequenceCoroutine seq = new SequenceCoroutine(id, tokens, tokens.length,
        SamplingParams.greedy(4), shape);
    seq.setPosition(cached);
    SequenceSlot slot = new SequenceSlot(seq, r -> { }, order++, shape.numLayers(), 0, sink);
    if (offload) {
      slot.ensureHostKv(shape.numLayers(), shape.numKvHeads() * shape.headDim(), cached + rows,
          cached + rows);
    } else {
      assertThat(pool.ensure(slot.kv, cached + rows)).isTrue();
    }
    slot.place = SequenceSlot.Place.IN_STEP;
    seq.beginStep(rows, executor, keys, slot);
    return slot;
  }

  private PlannedBatch plan() {
    BatchPlan plan = new BatchPlan();
    assertThat(planner.plan(plan, 0)).isTrue();
    return plan.describe();
  }

  private static List<Integer> blocks(SequenceSlot s, int layer) {
    return java.util.Arrays.stream(s.kv.table(layer)).boxed().toList();
  }

  @Test
  void attentionTakesTheOldestSequencesUpToTheRowLimitWithTheirBlockTables() {
    setUp(limits(24, 4096, 64), 256);
    SequenceSlot a = stepping("a", 0, 10, false);
    SequenceSlot b = stepping("b", 6, 10, false);
    SequenceSlot c = stepping("c", 0, 10, false); // 30 rows would pass the limit of 24

    PlannedBatch first = plan();
    assertThat(first.module()).isEqualTo(ModuleKey.attention(0));
    assertThat(first.entries()).containsExactly(
        new PlannedBatch.Entry("a", 0, 10, 0, blocks(a, 0)),
        new PlannedBatch.Entry("b", 6, 10, 0, blocks(b, 0)));
    assertThat(blocks(a, 0)).hasSize(3);   // 10 positions in blocks of 4
    assertThat(blocks(b, 0)).hasSize(4);   // 16 positions
    assertThat(first.totalRows()).isEqualTo(20);

    PlannedBatch second = plan();
    assertThat(second.entries()).containsExactly(
        new PlannedBatch.Entry("c", 0, 10, 0, blocks(c, 0)));
  }

  @Test
  void attentionStopsAtTheContextLimitButAlwaysTakesOneSequence() {
    setUp(limits(256, 40, 64), 256);
    stepping("long", 60, 1, false);   // 61 context tokens: over the limit, taken alone
    stepping("short", 8, 1, false);

    assertThat(plan().entries()).extracting(PlannedBatch.Entry::sequenceId)
        .containsExactly("long");
    assertThat(plan().entries()).extracting(PlannedBatch.Entry::sequenceId)
        .containsExactly("short");
  }

  @Test
  void offloadReservesThisLayersDeviceBlocksAndStopsWhenThePoolIsShort() {
    setUp(limits(256, 4096, 64).withKvOffload(true), 5);
    stepping("a", 8, 1, true);   // 9 positions: 3 blocks
    stepping("b", 4, 1, true);   // 5 positions: 2 blocks
    stepping("c", 0, 1, true);   // 1 block: the pool of 5 is full

    PlannedBatch first = plan();
    assertThat(first.entries()).extracting(PlannedBatch.Entry::sequenceId)
        .containsExactly("a", "b");
    assertThat(first.entries().get(0).kvBlocks()).hasSize(3);
    assertThat(first.entries().get(1).kvBlocks()).hasSize(2);
    assertThat(first.entries().stream().flatMap(e -> e.kvBlocks().stream()).distinct())
        .hasSize(5);
    assertThat(pool.freeBlocks()).isZero();
  }

  @Test
  void expertBatchesTakeRowsAcrossSequencesWithTheirRanksUpToTheLimit() {
    setUp(limits(256, 4096, 3), 256);
    SequenceSlot a = stepping("a", 0, 2, false);
    SequenceSlot b = stepping("b", 0, 1, false);
    for (WaitQueue q : queues) {   // leave only the hand-built expert queue
      while (q.skipStale()) {
        q.pop();
      }
    }
    int expert = keys.expert(1, 2);
    queues[expert].add(a, 0, 1, 0, 0);
    queues[expert].add(b, 0, 0, 0, 0);
    queues[expert].add(a, 1, 0, 0, 0);
    queues[expert].add(b, 0, 1, 0, 0);

    PlannedBatch first = plan();
    assertThat(first.module()).isEqualTo(ModuleKey.expert(1, 2));
    assertThat(first.entries()).containsExactly(
        new PlannedBatch.Entry("a", 0, 1, 1, List.of()),
        new PlannedBatch.Entry("b", 0, 1, 0, List.of()),
        new PlannedBatch.Entry("a", 1, 1, 0, List.of()));
    assertThat(plan().entries()).containsExactly(new PlannedBatch.Entry("b", 0, 1, 1,
        List.of()));
  }

  @Test
  void thePolicyPicksTheModuleAndAStarvingQueueOverridesIt() {
    setUp(limits(256, 4096, 64).withPolicy(SchedulingPolicy.largestBatch())
        .withStarvationLimitBatches(2), 256);
    SequenceSlot a = stepping("a", 0, 4, false);
    for (WaitQueue q : queues) {
      while (q.skipStale()) {
        q.pop();
      }
    }
    // Expert (0, 1) has one row waiting since tick 0; expert (0, 3) gets three new rows.
    queues[keys.expert(0, 1)].add(a, 0, 0, 0, 0);
    for (int r = 1; r < 4; r++) {
      queues[keys.expert(0, 3)].add(a, r, 0, 0, 0);
    }
    assertThat(plan().module()).isEqualTo(ModuleKey.expert(0, 3)); // the largest batch
    for (int i = 0; i <= 2 + queues.length; i++) {
      planner.advance(); // batches elsewhere while expert (0, 1) keeps waiting
    }
    queues[keys.expert(0, 3)].add(a, 1, 1, planner.tick(), 0);
    queues[keys.expert(0, 3)].add(a, 2, 1, planner.tick(), 0);
    assertThat(plan().module()).as("starvation guard").isEqualTo(ModuleKey.expert(0, 1));
  }

  @Test
  void rowsOfAnAbandonedStepAreSkipped() {
    setUp(limits(256, 4096, 64), 256);
    SequenceSlot gone = stepping("gone", 0, 3, false);
    stepping("kept", 0, 2, false);
    gone.seq.abortStep(); // e.g. preempted or snapshotted: its queued await is stale

    assertThat(plan().entries()).extracting(PlannedBatch.Entry::sequenceId)
        .containsExactly("kept");
    assertThat(planner.plan(new BatchPlan(), 0)).isFalse();
  }
}
