package io.batchgen.core.runtime;

import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ExpertGroups;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.model.NextTokens;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sampling.Detokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Executes a {@link BatchPlan}: gathers the planned rows into the reusable
 * {@link AttentionBatch} or {@link RowBatch}, calls the {@link ModuleExecutor}, scatters the
 * outputs back into the sequences' buffers and resumes each coroutine (which posts its next
 * await). For the LM head it also has each row's next token chosen ({@link NextTokens}).
 * In KV offload mode it pages the planned layer blocks in before attention and out after.
 *
 * <p>A module call that throws is fatal for the runtime (the backend and the KV it was writing
 * are in an unknown state): {@link #run} throws {@link ModuleFailedException}.
 *
 * <p>Not thread-safe: scheduler thread only.
 */
final class Dispatcher {
  /** A module call threw; fatal for the runtime. */
  static final class ModuleFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ModuleFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** What the dispatcher asks of the scheduler. */
  interface Outcomes {
    /** Finishes a sequence with an error (e.g. the backend routed it to a missing expert). */
    void fail(SequenceSlot slot, String message);

    /** A sampling failure for a sequence that is no longer in a step: log it. */
    void deliveryFailed(SequenceSlot slot, RuntimeException e);
  }

  private final ModuleExecutor executor;
  private final ModelShape shape;
  private final ModuleKeys keys;
  private final KvBlockPool pool;
  private final KvAdmission admission;
  private final MetricsRecorder metrics;
  private final Detokenizer detokenizer;
  private final boolean offload;
  private final int hidden;
  private final int topK;
  private final int kvDim;
  private final int[] eos;
  private final NextTokens nextTokens = new NextTokens();
  private final AttentionBatch attention = new AttentionBatch();
  private final RowBatch rowBatch = new RowBatch();
  private final ExpertGroups groups = new ExpertGroups();
  private ModuleBatchObserver observer;

  Dispatcher(ModuleExecutor executor, ModuleKeys keys, KvBlockPool pool, KvAdmission admission,
      MetricsRecorder metrics, Detokenizer detokenizer, boolean offload) {
    this.executor = executor;
    this.shape = executor.shape();
    this.keys = keys;
    this.pool = pool;
    this.admission = admission;
    this.metrics = metrics;
    this.detokenizer = detokenizer;
    this.offload = offload;
    this.hidden = shape.hiddenSize();
    this.topK = shape.topK();
    this.kvDim = shape.numKvHeads() * shape.headDim();
    this.eos = shape.eosTokenIds();
  }

  void setObserver(ModuleBatchObserver observer) {
    this.observer = observer;
  }

  /** Runs {@code plan}; see the class comment for failures. */
  void run(BatchPlan plan, Outcomes outcomes) {
    switch (plan.key.kind()) {
      case ATTENTION -> runAttention(plan, outcomes);
      case EXPERT, SHARED_EXPERT -> runRowWise(plan);
      case LM_HEAD -> runLmHead(plan, outcomes);
    }
  }

  private void runAttention(BatchPlan plan, Outcomes outcomes) {
    ModuleKey key = plan.key;
    int layer = key.layer();
    int n = plan.size;
    if (offload) {
      for (int i = 0; i < n; i++) {
        SequenceSlot s = plan.slots[i];
        long t0 = System.nanoTime();
        pool.loadLayer(plan.pages[i], s.hostK[layer], s.hostV[layer], s.seq.position());
        admission.observeCopy(8L * s.seq.position() * kvDim, System.nanoTime() - t0);
      }
    }
    attention.reset(layer, plan.totalRows, hidden, topK, pool.store());
    float[] h = attention.hidden();
    int off = 0;
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = plan.slots[i].seq;
      int r = s.stepRows();
      System.arraycopy(s.hidden, 0, h, off * hidden, r * hidden);
      attention.addSegment(off, r, s.position(), plan.pages[i]);
      off += r;
    }
    if (observer != null) {
      List<ModuleBatchObserver.Row> list = new ArrayList<>(plan.totalRows);
      for (int i = 0; i < n; i++) {
        SequenceCoroutine s = plan.slots[i].seq;
        for (int r = 0; r < s.stepRows(); r++) {
          list.add(new ModuleBatchObserver.Row(s.id, s.position() + r, 0));
        }
      }
      observer.onBatch(key, list);
    }
    long t0 = System.nanoTime();
    try {
      executor.attention(attention);
    } catch (RuntimeException e) {
      releaseLayerTables(plan);
      throw failed(plan, e);
    }
    if (offload) {
      for (int i = 0; i < n; i++) {
        SequenceSlot s = plan.slots[i];
        pool.saveLayer(plan.pages[i], s.hostK[layer], s.hostV[layer], s.seq.position(),
            s.seq.position() + s.seq.stepRows());
      }
      releaseLayerTables(plan);
    }
    metrics.batch(ModuleKind.ATTENTION, plan.totalRows, plan.waitedNanos,
        System.nanoTime() - t0);
    float[] ffn = attention.ffnInput();
    int[] experts = attention.topExperts();
    float[] weights = attention.topWeights();
    off = 0;
    for (int i = 0; i < n; i++) {
      SequenceSlot slot = plan.slots[i];
      SequenceCoroutine s = slot.seq;
      int r = s.stepRows();
      System.arraycopy(h, off * hidden, s.hidden, 0, r * hidden);
      System.arraycopy(ffn, off * hidden, s.ffnInput, 0, r * hidden);
      System.arraycopy(experts, off * topK, s.topExperts, 0, r * topK);
      System.arraycopy(weights, off * topK, s.topWeights, 0, r * topK);
      off += r;
      String bad = checkRouting(s, r);
      if (bad != null) {
        outcomes.fail(slot, bad);
      } else {
        s.resume(ModuleKind.ATTENTION, 0, 0, keys, slot);
      }
    }
  }

  private void releaseLayerTables(BatchPlan plan) {
    for (int i = 0; i < plan.size; i++) {
      SequenceSlot s = plan.slots[i];
      if (s.layerTable != null) {
        pool.releaseLayer(s.layerTable);
        s.layerTable = null;
      }
    }
  }

  private String checkRouting(SequenceCoroutine s, int rows) {
    for (int i = 0; i < rows * topK; i++) {
      int e = s.topExperts[i];
      if (e < 0 || e >= shape.numExperts()) {
        return "executor " + executor.describe() + " routed a token of sequence [" + s.id
            + "] to expert " + e + " but the model has " + shape.numExperts();
      }
    }
    return null;
  }

  private void observeRows(BatchPlan plan) {
    if (observer != null) {
      List<ModuleBatchObserver.Row> list = new ArrayList<>(plan.size);
      for (int i = 0; i < plan.size; i++) {
        SequenceCoroutine s = plan.slots[i].seq;
        list.add(new ModuleBatchObserver.Row(s.id, s.stepStart() + plan.rows[i], plan.ranks[i]));
      }
      observer.onBatch(plan.key, list);
    }
  }

  private void runRowWise(BatchPlan plan) {
    if (plan.grouped) {
      runExpertGroups(plan);
      return;
    }
    ModuleKey key = plan.key;
    int n = plan.size;
    rowBatch.reset(n, hidden, hidden);
    float[] in = rowBatch.input();
    for (int i = 0; i < n; i++) {
      System.arraycopy(plan.slots[i].seq.ffnInput, plan.rows[i] * hidden, in, i * hidden,
          hidden);
    }
    observeRows(plan);
    boolean shared = key.kind() == ModuleKind.SHARED_EXPERT;
    long t0 = System.nanoTime();
    try {
      if (shared) {
        executor.sharedExpert(key.layer(), rowBatch);
      } else {
        executor.expert(key.layer(), key.expert(), rowBatch);
      }
    } catch (RuntimeException e) {
      throw failed(plan, e);
    }
    metrics.batch(key.kind(), n, plan.waitedNanos, System.nanoTime() - t0);
    float[] out = rowBatch.output();
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = plan.slots[i].seq;
      if (shared) {
        System.arraycopy(out, i * hidden, s.sharedOut, plan.rows[i] * hidden, hidden);
      } else {
        System.arraycopy(out, i * hidden, s.expertOut,
            (plan.rows[i] * topK + plan.ranks[i]) * hidden, hidden);
      }
    }
    for (int i = 0; i < n; i++) {
      SequenceSlot slot = plan.slots[i];
      if (slot.place == SequenceSlot.Place.IN_STEP) {
        slot.seq.resume(key.kind(), plan.rows[i], plan.ranks[i], keys, slot);
      }
    }
  }

  /**
   * Every expert of a layer with rows in the plan, in one {@link ModuleExecutor#experts} call;
   * outputs go where one call per expert would put them, and each expert's rows count as one
   * expert batch in the metrics (the call's time split by rows).
   */
  private void runExpertGroups(BatchPlan plan) {
    int layer = plan.key.layer();
    int n = plan.size;
    groups.reset(n, hidden);
    for (int i = 0; i < n; ) {
      int j = i;
      while (j < n && plan.experts[j] == plan.experts[i]) {
        j++;
      }
      int first = groups.addGroup(plan.experts[i], j - i);
      for (int r = i; r < j; r++) {
        System.arraycopy(plan.slots[r].seq.ffnInput, plan.rows[r] * hidden, groups.input(),
            (first + r - i) * hidden, hidden);
      }
      i = j;
    }
    if (observer != null) {
      for (int g = 0, i = 0; g < groups.groups(); i += groups.groupRows(g), g++) {
        List<ModuleBatchObserver.Row> list = new ArrayList<>(groups.groupRows(g));
        for (int r = i; r < i + groups.groupRows(g); r++) {
          SequenceCoroutine s = plan.slots[r].seq;
          list.add(new ModuleBatchObserver.Row(s.id, s.stepStart() + plan.rows[r],
              plan.ranks[r]));
        }
        observer.onBatch(ModuleKey.expert(layer, groups.groupExpert(g)), list);
      }
    }
    long t0 = System.nanoTime();
    try {
      executor.experts(layer, groups);
    } catch (RuntimeException e) {
      throw failed(plan, e);
    }
    long took = System.nanoTime() - t0;
    for (int g = 0; g < groups.groups(); g++) {
      metrics.batch(ModuleKind.EXPERT, groups.groupRows(g), plan.waitedNanos
          * groups.groupRows(g) / n, took * groups.groupRows(g) / n);
    }
    float[] out = groups.output();
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = plan.slots[i].seq;
      System.arraycopy(out, i * hidden, s.expertOut,
          (plan.rows[i] * topK + plan.ranks[i]) * hidden, hidden);
    }
    for (int i = 0; i < n; i++) {
      SequenceSlot slot = plan.slots[i];
      if (slot.place == SequenceSlot.Place.IN_STEP) {
        slot.seq.resume(ModuleKind.EXPERT, plan.rows[i], plan.ranks[i], keys, slot);
      }
    }
  }

  private void runLmHead(BatchPlan plan, Outcomes outcomes) {
    int vocab = shape.vocabSize();
    int n = plan.size;
    rowBatch.reset(n, hidden, vocab);
    float[] in = rowBatch.input();
    for (int i = 0; i < n; i++) {
      System.arraycopy(plan.slots[i].seq.hidden, plan.rows[i] * hidden, in, i * hidden, hidden);
    }
    observeRows(plan);
    nextTokens.reset(n);
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = plan.slots[i].seq;
      nextTokens.set(i, s.params, s.generatedCount());
    }
    long t0 = System.nanoTime();
    try {
      executor.lmHeadNextTokens(rowBatch, nextTokens);
    } catch (RuntimeException e) {
      throw failed(plan, e);
    }
    metrics.batch(ModuleKind.LM_HEAD, n, plan.waitedNanos, System.nanoTime() - t0);
    for (int i = 0; i < n; i++) {
      SequenceSlot slot = plan.slots[i];
      SequenceCoroutine s = slot.seq;
      try {
        if (nextTokens.failure(i) != null) {
          throw nextTokens.failure(i);
        }
        int token = nextTokens.token(i);
        metrics.generated();
        s.resumeWithToken(token, eos, shape.maxPositions(), detokenizer, slot);
      } catch (RuntimeException e) {
        if (slot.place == SequenceSlot.Place.IN_STEP) {
          outcomes.fail(slot, "sampling sequence [" + s.id + "] failed: " + e);
        } else {
          outcomes.deliveryFailed(slot, e);
        }
      }
    }
  }

  private ModuleFailedException failed(BatchPlan plan, RuntimeException e) {
    return new ModuleFailedException("module " + plan.key + " failed on " + executor.describe()
        + " in a batch of " + plan.totalRows + " rows: " + e, e);
  }
}
