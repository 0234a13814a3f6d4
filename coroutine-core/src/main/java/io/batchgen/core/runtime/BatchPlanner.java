package io.batchgen.core.runtime;

import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.model.ModuleKey;
import java.util.Arrays;

/**
 * Decides the next module batch and writes it into a {@link BatchPlan}: the
 * {@link SchedulingPolicy} picks the module among the non-empty wait queues (overridden for a
 * queue whose oldest row starves), then rows are taken from the front of that queue (oldest
 * first) up to the module kind's limits. Attention batches are bounded by rows and by context
 * tokens; in KV offload mode also by the device blocks this layer's KV needs, which the planner
 * reserves ({@code KvBlockPool.allocateLayer}) and the dispatcher fills and frees.
 *
 * <p>Planning changes only the wait queues (rows taken) and, in offload mode, the pool's layer
 * reservations; it calls no backend. Not thread-safe: scheduler thread only.
 */
final class BatchPlanner {
  private final RuntimeConfig config;
  private final ModuleKeys keys;
  private final WaitQueue[] queues;
  private final SchedulingPolicy policy;
  private final KvBlockPool pool;
  private final boolean offload;
  private final java.util.function.Predicate<ModuleKey> resident;
  private final View view = new View();
  private long tick;

  BatchPlanner(RuntimeConfig config, ModuleKeys keys, WaitQueue[] queues, SchedulingPolicy policy,
      KvBlockPool pool) {
    this(config, keys, queues, policy, pool, k -> true);
  }

  /** {@code resident} says whether a module's weights are in memory (the executor's hint). */
  BatchPlanner(RuntimeConfig config, ModuleKeys keys, WaitQueue[] queues, SchedulingPolicy policy,
      KvBlockPool pool, java.util.function.Predicate<ModuleKey> resident) {
    this.resident = resident;
    this.config = config;
    this.keys = keys;
    this.queues = queues;
    this.policy = policy;
    this.pool = pool;
    this.offload = config.kvOffload();
  }

  /** Batches dispatched so far: the logical clock of the wait queues. */
  long tick() {
    return tick;
  }

  /** Counts one dispatched batch. */
  void advance() {
    tick++;
  }

  /**
   * Plans the next batch into {@code plan}.
   *
   * @return false when no row waits (then {@code plan} is unchanged)
   */
  boolean plan(BatchPlan plan, long nowNanos) {
    int q = chooseQueue();
    if (q < 0) {
      return false;
    }
    WaitQueue queue = queues[q];
    ModuleKey key = keys.byOrder(queue.order);
    plan.reset(key);
    switch (key.kind()) {
      case ATTENTION -> planAttention(queue, key.layer(), plan, nowNanos);
      case EXPERT, SHARED_EXPERT -> planRows(queue, config.maxExpertRows(), plan, nowNanos);
      case LM_HEAD -> planRows(queue, config.maxLmHeadRows(), plan, nowNanos);
    }
    return true;
  }

  private int chooseQueue() {
    view.size = 0;
    long oldest = Long.MAX_VALUE;
    int oldestIdx = -1;
    for (WaitQueue q : queues) {
      if (!q.isEmpty() && q.skipStale()) {
        int i = view.add(q);
        if (q.headTick() < oldest) {
          oldest = q.headTick();
          oldestIdx = i;
        }
      }
    }
    if (view.size == 0) {
      return -1;
    }
    // One full sweep over every module is normal waiting, not starvation.
    if (tick - oldest > config.starvationLimitBatches() + queues.length) {
      return view.queue[oldestIdx].order;
    }
    int choice = policy.choose(view);
    if (choice < 0 || choice >= view.size) {
      throw new IllegalStateException("Scheduling policy chose queue " + choice + " of "
          + view.size);
    }
    return view.queue[choice].order;
  }

  private void planAttention(WaitQueue q, int layer, BatchPlan plan, long now) {
    while (q.skipStale()) {
      SequenceSlot s = q.headSeq();
      int r = s.seq.stepRows();
      int c = s.seq.position() + r;
      if (plan.size > 0 && (plan.totalRows + r > config.maxAttentionRows()
          || plan.contextTokens + c > config.maxAttentionContextTokens())) {
        break;
      }
      int[] blocks;
      if (offload) {
        // The device pool bounds the batch: this layer's KV of every segment must fit at once.
        blocks = pool.allocateLayer(pool.blocksFor(c));
        if (blocks == null) {
          if (plan.size == 0) {
            throw new IllegalStateException("KV pool has " + pool.freeBlocks()
                + " free blocks but one layer of [" + s.id() + "] needs " + pool.blocksFor(c));
          }
          break;
        }
        s.layerTable = blocks;
      } else {
        blocks = s.kv.table(layer);
      }
      plan.waitedNanos += now - q.headNanos();
      q.pop();
      plan.add(s, 0, 0, blocks);
      plan.totalRows += r;
      plan.contextTokens += c;
    }
  }

  private void planRows(WaitQueue q, int limit, BatchPlan plan, long now) {
    while (plan.size < limit && q.skipStale()) {
      plan.add(q.headSeq(), q.headRow(), q.headRank(), null);
      plan.waitedNanos += now - q.headNanos();
      q.pop();
    }
    plan.totalRows = plan.size;
  }

  /** The policy's view over the non-empty queues, rebuilt for every choice without allocation. */
  private final class View implements QueueView {
    private WaitQueue[] queue = new WaitQueue[16];
    private int size;

    int add(WaitQueue q) {
      if (size == queue.length) {
        queue = Arrays.copyOf(queue, size * 2);
      }
      queue[size] = q;
      return size++;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public ModuleKey key(int i) {
      return keys.byOrder(queue[i].order);
    }

    @Override
    public int rows(int i) {
      return queue[i].size();
    }

    @Override
    public long oldestTick(int i) {
      return queue[i].headTick();
    }

    @Override
    public long nowTick() {
      return tick;
    }

    @Override
    public double kvUtilization() {
      return (double) pool.usedBlocks() / pool.totalBlocks();
    }

    @Override
    public int modelOrder(int i) {
      return queue[i].order;
    }

    @Override
    public boolean resident(int i) {
      return resident.test(key(i));
    }
  }

  /**
   * The modules with rows waiting, most rows first (model order on ties), at most {@code max}:
   * what a weight-streaming executor should have in memory next.
   */
  java.util.List<ModuleKey> waitingByRows(int max) {
    java.util.List<WaitQueue> waiting = new java.util.ArrayList<>();
    for (WaitQueue q : queues) {
      if (!q.isEmpty()) {
        waiting.add(q);
      }
    }
    waiting.sort((a, b) -> a.size() != b.size() ? Integer.compare(b.size(), a.size())
        : Integer.compare(a.order, b.order));
    java.util.List<ModuleKey> out = new java.util.ArrayList<>(Math.min(max, waiting.size()));
    for (int i = 0; i < waiting.size() && i < max; i++) {
      out.add(keys.byOrder(waiting.get(i).order));
    }
    return out;
  }
}
