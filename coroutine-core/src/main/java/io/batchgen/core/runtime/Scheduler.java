package io.batchgen.core.runtime;

import io.batchgen.core.kv.HostKvTier;
import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-threaded heart of the runtime. It owns the live sequences (each a
 * {@link SequenceCoroutine} in its {@link SequenceSlot}) and the wait queue of every module, and
 * each {@link #runOnce()} is three steps with one owner each:
 * <ol>
 *   <li>{@link KvAdmission} admits what fits and starts the steps that can start (preempting
 *       younger sequences when the KV pool is short);</li>
 *   <li>{@link BatchPlanner} writes the next module batch into a {@link BatchPlan}: a value;</li>
 *   <li>{@link Dispatcher} executes the plan against the {@link ModuleExecutor} and resumes the
 *       coroutines, which post their next awaits back into the queues.</li>
 * </ol>
 * Submit, cancel, snapshot and restore change the live set between those steps. One call of
 * {@link #runOnce()} dispatches at most one module batch, so tests can drive it deterministically
 * without threads.
 *
 * <p>Not thread-safe: {@link SequenceRuntime} confines it to its scheduler thread.
 */
final class Scheduler implements SequenceSlot.Queues, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  private final ModuleExecutor executor;
  private final RuntimeConfig config;
  private final ModelShape shape;
  private final ModuleKeys keys;
  private final WaitQueue[] queues;
  private final KvBlockPool pool;
  private final HostKvTier hostTier;
  private final MetricsRecorder metrics;
  private final KvAdmission admission;
  private final BatchPlanner planner;
  private final Dispatcher dispatcher;
  private final BatchPlan plan = new BatchPlan();
  private final int kvDim;
  private final boolean offload;
  /** The executor streams weights: tell it what waits after every plan. */
  private final boolean streams;
  private final Map<String, SequenceSlot> live = new HashMap<>();
  /** The live sequences' work gauges, kept as totals: publishing them costs no pass over live. */
  private final LiveWork work;
  private long nextOrder;

  private final KvAdmission.Steps steps = new KvAdmission.Steps() {
    @Override
    public void begin(SequenceSlot slot, int rows) {
      slot.seq.beginStep(rows, executor, keys, slot);
    }

    @Override
    public void fail(SequenceSlot slot, String message) {
      failSequence(slot, FinishReason.ERROR, message);
    }
  };

  private final Dispatcher.Outcomes outcomes = new Dispatcher.Outcomes() {
    @Override
    public void fail(SequenceSlot slot, String message) {
      failSequence(slot, FinishReason.ERROR, message);
    }

    @Override
    public void deliveryFailed(SequenceSlot slot, RuntimeException e) {
      LOG.warn("Result delivery for sequence [{}] failed", slot.id(), e);
    }
  };

  Scheduler(ModuleExecutor executor, RuntimeConfig config, Detokenizer detokenizer,
      MetricsRecorder metrics) {
    this.executor = executor;
    this.config = config;
    this.shape = executor.shape();
    this.metrics = metrics;
    this.keys = new ModuleKeys(shape);
    this.queues = new WaitQueue[keys.count()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new WaitQueue(i);
    }
    SchedulingPolicy policy = config.mode() == SchedulingMode.LOCK_STEP
        ? SchedulingPolicy.modelOrder() : config.policy().fresh();
    this.kvDim = shape.numKvHeads() * shape.headDim();
    this.offload = config.kvOffload();
    long perBlock = executor.kvBytesPerBlock(config.kvBlockSize());
    long blocks = config.kvBudgetBytes() / perBlock;
    if (blocks < shape.numLayers()) {
      throw new IllegalArgumentException("The KV cache budget of " + config.kvBudgetBytes()
          + " bytes holds " + blocks + " KV blocks of " + perBlock + " bytes, fewer than one"
          + " block per layer (" + shape.numLayers() + "); raise the KV cache budget");
    }
    this.pool = new KvBlockPool(executor.createKvStore((int) Math.min(blocks, 1 << 24),
        config.kvBlockSize()), shape.numLayers(), kvDim);
    HostKvTier host = new HostKvTier(config.hostKvBudgetBytes());
    this.work = new LiveWork(shape.maxPositions());
    this.admission = new KvAdmission(config, shape, pool, host, metrics, work);
    this.streams = executor.streamsWeights();
    this.planner = new BatchPlanner(config, keys, queues, policy, pool,
        streams ? executor::resident : k -> true);
    planner.groupExperts(executor.groupsExperts() && shape.numExperts() > 1);
    this.dispatcher = new Dispatcher(executor, keys, pool, admission, metrics, detokenizer,
        offload);
    this.hostTier = host;
    publishGauges();
  }

  void setObserver(ModuleBatchObserver observer) {
    dispatcher.setObserver(observer);
  }

  KvBlockPool pool() {
    return pool;
  }

  boolean hasLiveSequences() {
    return !live.isEmpty();
  }

  int liveSequences() {
    return live.size();
  }

  /** The live sequence with {@code id}, or null (tests and diagnostics). */
  SequenceCoroutine find(String id) {
    SequenceSlot s = live.get(id);
    return s == null ? null : s.seq;
  }

  // ---------------------------------------------------------------- the loop

  /**
   * Starts the steps that can start, then plans and runs one module batch. Returns false when
   * there was nothing to run (no live sequence can make progress right now).
   */
  boolean runOnce() {
    if (!planNext()) {
      publishGauges();
      return false;
    }
    dispatcher.run(plan, outcomes);
    planner.advance();
    publishGauges();
    return true;
  }

  /** Modules named to a weight-streaming executor after each plan. */
  private static final int PREFETCH_HINTS = 32;

  /**
   * Admission, then the next plan; false when no module has rows waiting. A weight-streaming
   * executor then hears the planned module, then those with the most rows still waiting, so it
   * keeps the first and loads the others while this batch runs.
   */
  private boolean planNext() {
    admission.startSteps(steps);
    boolean planned = planner.plan(plan, System.nanoTime());
    if (planned && streams) {
      List<ModuleKey> next = new ArrayList<>(PREFETCH_HINTS + 1);
      next.add(plan.key);
      for (ModuleKey k : planner.waitingByRows(PREFETCH_HINTS)) {
        if (!k.equals(plan.key)) {
          next.add(k);
        }
      }
      executor.prefetch(next);
    }
    return planned;
  }

  /**
   * Plans the next batch without running it (tests): what {@link #runOnce()} would dispatch now.
   * The planned rows leave their queues, so a test that looks must also {@link #runPlanned()}.
   */
  PlannedBatch planForTest() {
    return planNext() ? plan.describe() : null;
  }

  /** Runs the batch {@link #planForTest()} returned (tests). */
  void runPlanned() {
    dispatcher.run(plan, outcomes);
    planner.advance();
    publishGauges();
  }

  @Override
  public void await(SequenceSlot slot, int keyOrder, int row, int rank) {
    queues[keyOrder].add(slot, row, rank, planner.tick(), System.nanoTime());
  }

  @Override
  public void stepDone(SequenceSlot slot) {
    if (admission.stepDone(slot)) {
      live.remove(slot.id());
      work.remove(slot);
      deliver(slot);
    } else {
      work.update(slot);
    }
  }

  // ---------------------------------------------------------------- admission and lifecycle

  /** Queues a new sequence. Problems with the request finish it with an error result. */
  void submit(GenerationRequest request, ResultListener listener, long nowNanos) {
    SequenceSlot s = newSlot(new SequenceCoroutine(request.id(), request.promptTokensShared(),
        request.promptLength(), request.sampling(), shape), listener, nowNanos);
    String problem = validate(request.id(), s.seq.tokens());
    if (problem == null && offload) {
      problem = validateOffload(s);
    }
    if (problem == null && live.containsKey(request.id())) {
      problem = "a sequence with id [" + request.id() + "] is already running in this runtime;"
          + " request ids must be unique";
    }
    if (problem != null) {
      s.seq.fail(FinishReason.ERROR, problem);
      deliver(s);
      return;
    }
    live.put(s.id(), s);
    work.add(s);
    admission.enqueue(s);
    publishGauges();
  }

  private SequenceSlot newSlot(SequenceCoroutine seq, ResultListener listener, long nowNanos) {
    return new SequenceSlot(seq, listener, nextOrder++, shape.numLayers(), nowNanos, this);
  }

  private String validateOffload(SequenceSlot s) {
    int maxLen = s.seq.maxLength(shape.maxPositions());
    if (pool.blocksFor(maxLen) > pool.totalBlocks()) {
      return "request [" + s.id() + "] may reach " + maxLen + " positions, "
          + pool.blocksFor(maxLen) + " KV blocks for one layer, but the pool holds "
          + pool.totalBlocks() + "; raise the KV cache budget or lower max new tokens";
    }
    if (admission.hostBytes(s) > hostTier.budgetBytes()) {
      return "request [" + s.id() + "] needs " + admission.hostBytes(s) + " bytes of host KV but"
          + " the host KV budget is " + hostTier.budgetBytes() + "; raise the host KV budget";
    }
    return null;
  }

  private String validate(String id, int[] tokens) {
    for (int t : tokens) {
      if (t < 0 || t >= shape.vocabSize()) {
        return "request [" + id + "] has token id " + t + " outside the model's vocabulary of "
            + shape.vocabSize();
      }
    }
    if (tokens.length >= shape.maxPositions()) {
      return "request [" + id + "] has " + tokens.length + " prompt tokens but the model supports "
          + shape.maxPositions() + " positions in all; shorten the prompt";
    }
    int need = pool.totalBlocksFor(Math.min(tokens.length, config.prefillChunkTokens()) + 1);
    if (!offload && need > pool.totalBlocks()) {
      return "request [" + id + "] needs " + need + " KV blocks for its first step but the pool"
          + " holds " + pool.totalBlocks() + "; raise the KV cache budget";
    }
    return null;
  }

  /** Cancels a live sequence; its listener gets a {@link FinishReason#CANCELLED} result. */
  boolean cancel(String id) {
    SequenceSlot s = live.get(id);
    if (s == null) {
      return false;
    }
    failSequence(s, FinishReason.CANCELLED, null);
    publishGauges();
    return true;
  }

  /** Finishes every live sequence with {@code reason}. */
  void finishAll(FinishReason reason, String message) {
    for (SequenceSlot s : new ArrayList<>(live.values())) {
      failSequence(s, reason, message);
    }
  }

  /**
   * Captures a live sequence between steps (abandoning its current step). With {@code detach}
   * it leaves this runtime without a result (it is being migrated); otherwise it goes on here.
   * Without {@code includeKv} the snapshot asks the destination to recompute.
   */
  SequenceSnapshot snapshot(String id, boolean detach, boolean includeKv) {
    SequenceSlot s = live.get(id);
    if (s == null) {
      throw new IllegalArgumentException("No live sequence [" + id + "] in this runtime; it may"
          + " have finished or been migrated already");
    }
    admission.abortStep(s);
    float[] kv = null;
    int position = 0;
    if (includeKv && s.seq.position() > 0) {
      if (offload) {
        kv = s.parkedKv != null ? s.parkedKv.clone() : s.hostKvLayout(shape.numLayers(), kvDim);
      } else if (s.place == SequenceSlot.Place.READY) {
        kv = pool.copyOut(s.kv, s.seq.position());
      } else if (s.place == SequenceSlot.Place.PARKED) {
        kv = s.parkedKv.clone();
      }
      position = kv == null ? 0 : s.seq.position();
    }
    SequenceSnapshot snap = new SequenceSnapshot(s.id(), s.seq.tokens(), s.seq.promptLength,
        s.seq.params, position, kv, shape.numLayers(), kvDim, shape.vocabSize(), s.preemptions);
    if (detach) {
      remove(s);
    }
    publishGauges();
    return snap;
  }

  /**
   * Detaches up to {@code max} sequences for migration, cheapest to move first: not yet started
   * (see {@link #queuedToMove}), then parked, then running (youngest first).
   */
  List<SequenceSnapshot> detachForMigration(int max, boolean includeKv) {
    return detachForMigration(max, true, includeKv);
  }

  /**
   * As {@link #detachForMigration(int, boolean)}; with {@code startedToo} false only sequences
   * that have not started (no KV cached) are taken.
   */
  List<SequenceSnapshot> detachForMigration(int max, boolean startedToo, boolean includeKv) {
    return detachForMigration(max, startedToo, includeKv, id -> true);
  }

  /** As above, taking only sequences whose id {@code movable} accepts. */
  List<SequenceSnapshot> detachForMigration(int max, boolean startedToo, boolean includeKv,
      java.util.function.Predicate<String> movable) {
    return detachForMigration(max, 0, startedToo, includeKv, movable);
  }

  /**
   * As above, stopping once the picked sequences carry {@code maxWork} tokens of remaining work
   * (positions to prefill plus new tokens expected, {@link #expectedWork}); 0 for no limit.
   */
  List<SequenceSnapshot> detachForMigration(int max, long maxWork, boolean startedToo,
      boolean includeKv, java.util.function.Predicate<String> movable) {
    Picker picker = new Picker(max, maxWork);
    for (SequenceSlot s : queuedToMove()) {
      if ((startedToo || s.seq.position() == 0) && movable.test(s.id())) {
        picker.offer(s);
      }
    }
    List<SequenceSlot> picked = picker.picked;
    if (!startedToo) {
      List<SequenceSnapshot> out = new ArrayList<>(picked.size());
      for (SequenceSlot s : picked) {
        out.add(snapshot(s.id(), true, false));
      }
      return out;
    }
    for (SequenceSlot s : admission.parked.descendingSet()) {
      if (movable.test(s.id())) {
        picker.offer(s);
      }
    }
    if (!picker.full()) {
      List<SequenceSlot> running = new ArrayList<>();
      for (SequenceSlot s : live.values()) {
        if ((s.place == SequenceSlot.Place.READY || s.place == SequenceSlot.Place.IN_STEP)
            && movable.test(s.id())) {
          running.add(s);
        }
      }
      running.sort((a, b) -> Long.compare(b.order, a.order));
      for (SequenceSlot s : running) {
        picker.offer(s);
      }
    }
    List<SequenceSnapshot> out = new ArrayList<>(picked.size());
    for (SequenceSlot s : picked) {
      out.add(snapshot(s.id(), true, includeKv));
    }
    return out;
  }

  /** Takes sequences in the order offered until it holds {@code max} or {@code maxWork}. */
  private final class Picker {
    final List<SequenceSlot> picked = new ArrayList<>();
    private final int max;
    private final long maxWork;
    private final double used = usedShare();
    private long work;

    Picker(int max, long maxWork) {
      this.max = max;
      this.maxWork = maxWork;
    }

    boolean full() {
      return picked.size() >= max || (maxWork > 0 && work >= maxWork);
    }

    void offer(SequenceSlot s) {
      if (!full()) {
        picked.add(s);
        work += expectedWork(s.seq, used);
      }
    }
  }

  /**
   * The share of its bound on new tokens that the sequences that stopped here used; 1 before
   * any did (as {@code LoadEstimator} counts a live sequence's expected tokens).
   */
  private double usedShare() {
    RuntimeMetrics m = metrics.snapshot();
    return m.completedBound() == 0 ? 1 : (double) m.completedGenerated() / m.completedBound();
  }

  /** Positions {@code s} has to prefill plus the new tokens it is expected to generate. */
  private long expectedWork(SequenceCoroutine s, double used) {
    int bound = tokenBound(s);
    long left = Math.max(0, bound - s.generatedCount());
    long expected = Math.max(Math.min(left, 1), Math.min(left,
        Math.round(used * bound) - s.generatedCount()));
    return s.numTokens() - s.position() + expected;
  }

  /**
   * Queued sequences in the order they leave for another executor, where they start sooner than
   * here. First come, first served: the youngest (they would start here last). Longest first: the
   * longest (they bound when the job can end, so they must start soonest; the short ones that
   * stay fill this executor's batches at the end). Measured with the cluster simulation of
   * {@code bench rebalance} (8 gpu-like executors): moving the shortest first took 85.3 s, the
   * longest first 72.0 s, the bound being 60.9 s.
   */
  private Iterable<SequenceSlot> queuedToMove() {
    return config.admissionOrder() == AdmissionOrder.LONGEST_FIRST ? admission.waiting
        : admission.waiting.descendingSet();
  }

  /** Adds a sequence from another runtime's snapshot. */
  void restore(SequenceSnapshot snap, ResultListener listener, long nowNanos) {
    if (snap.numLayers() != shape.numLayers() || snap.kvDim() != kvDim
        || snap.vocabSize() != shape.vocabSize()) {
      throw new IllegalArgumentException("Snapshot [" + snap.id() + "] is from a model with "
          + snap.numLayers() + " layers, kvDim " + snap.kvDim() + ", vocab " + snap.vocabSize()
          + " but this runtime runs " + shape + "; restore it on the same model");
    }
    if (live.containsKey(snap.id())) {
      throw new IllegalArgumentException("A sequence with id [" + snap.id() + "] is already live"
          + " in this runtime");
    }
    SequenceSlot s = newSlot(new SequenceCoroutine(snap.id(), snap.tokens(), snap.promptLength(),
        snap.sampling(), shape), listener, nowNanos);
    s.preemptions = snap.preemptions();
    live.put(s.id(), s);
    admission.enqueueRestored(s, snap.hasKv() ? snap.kv() : null, snap.position());
    work.add(s); // with the position the restore gave it
    publishGauges();
  }

  // ---------------------------------------------------------------- leaving

  /** Takes {@code s} out of the runtime, frees its memory, and delivers its result. */
  private void failSequence(SequenceSlot s, FinishReason reason, String message) {
    remove(s);
    s.seq.fail(reason, message);
    deliver(s);
  }

  /** Takes {@code s} out of the runtime and frees its memory; no result is delivered. */
  private void remove(SequenceSlot s) {
    admission.remove(s);
    live.remove(s.id(), s);
    work.remove(s);
  }

  private void deliver(SequenceSlot s) {
    metrics.finished();
    SequenceCoroutine q = s.seq;
    if (q.finishReason == FinishReason.STOP || q.finishReason == FinishReason.LENGTH) {
      metrics.completed(q.generatedCount(), tokenBound(q));
    }
    try {
      s.listener.onResult(s.result(System.nanoTime()));
    } catch (RuntimeException e) {
      LOG.warn("Result listener for sequence [{}] threw; result dropped", s.id(), e);
    }
  }

  /** Publishes the KV and queue gauges and the live sequences' work (see RuntimeMetrics). */
  private void publishGauges() {
    admission.publishGauges();
    work.publish(metrics);
  }

  /** Tokens {@code s} may generate in all: its max new tokens, within the model's context. */
  private int tokenBound(SequenceCoroutine s) {
    return work.tokenBound(s);
  }

  /** The live sequences (tests: to recount what the gauges keep as totals). */
  Iterable<SequenceSlot> liveSlots() {
    return live.values();
  }

  @Override
  public void close() {
    pool.close();
  }
}
