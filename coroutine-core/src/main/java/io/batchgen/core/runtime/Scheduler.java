package io.batchgen.core.runtime;

import io.batchgen.core.kv.HostKvTier;
import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.kv.KvLayout;
import io.batchgen.core.model.AttentionBatch;
import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.model.RowBatch;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.sampling.Sampler;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-threaded heart of the runtime: admission, KV paging, the wait queue per module, the
 * choice of the next module batch, gathering rows into the reusable batches and scattering the
 * results back into the sequence coroutines.
 *
 * <p>One call of {@link #runOnce()} starts whatever steps can start and dispatches at most one
 * module batch, so tests can drive it deterministically without threads. Sequences are served
 * by age: an older sequence may take KV blocks from younger ones that are between steps
 * (preemption), never the reverse, so the oldest always progresses and nobody starves.
 *
 * <p>Not thread-safe: {@link SequenceRuntime} confines it to its scheduler thread.
 */
final class Scheduler implements AwaitSink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);
  private static final Comparator<SequenceCoroutine> BY_AGE =
      Comparator.comparingLong(s -> s.order);

  private final ModuleExecutor executor;
  private final RuntimeConfig config;
  private final ModelShape shape;
  private final Detokenizer detokenizer;
  private final ModuleKeys keys;
  private final WaitQueue[] queues;
  private final KvBlockPool pool;
  private final HostKvTier host;
  private final MetricsRecorder metrics;
  private final Sampler sampler = new Sampler();
  private final SchedulingPolicy policy;
  private final int[] eos;
  private final int hidden;
  private final int topK;
  private final int kvDim;
  private final boolean offload;
  private ModuleBatchObserver observer;

  private final Map<String, SequenceCoroutine> live = new HashMap<>();
  private final TreeSet<SequenceCoroutine> waiting = new TreeSet<>(BY_AGE);
  private final TreeSet<SequenceCoroutine> parked = new TreeSet<>(BY_AGE);
  private final TreeSet<SequenceCoroutine> ready = new TreeSet<>(BY_AGE);
  private int holding;
  private int inStep;
  private long tick;
  private long nextOrder;

  private final AttentionBatch attention = new AttentionBatch();
  private final RowBatch rowBatch = new RowBatch();
  private SequenceCoroutine[] batchSeqs = new SequenceCoroutine[64];
  private int[] batchRows = new int[64];
  private int[] batchRanks = new int[64];
  private final View view;

  private long stepTokens;
  private double copyBytesPerNano;

  Scheduler(ModuleExecutor executor, RuntimeConfig config, Detokenizer detokenizer,
      MetricsRecorder metrics) {
    this.executor = executor;
    this.config = config;
    this.shape = executor.shape();
    this.detokenizer = detokenizer;
    this.metrics = metrics;
    this.keys = new ModuleKeys(shape);
    this.queues = new WaitQueue[keys.count()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new WaitQueue(i);
    }
    this.policy = config.mode() == SchedulingMode.LOCK_STEP ? SchedulingPolicy.modelOrder()
        : config.policy().fresh();
    this.eos = shape.eosTokenIds();
    this.hidden = shape.hiddenSize();
    this.topK = shape.topK();
    this.kvDim = shape.numKvHeads() * shape.headDim();
    this.offload = config.kvOffload();
    long perBlock = executor.kvBytesPerBlock(config.kvBlockSize());
    long blocks = config.kvBudgetBytes() / perBlock;
    if (blocks < shape.numLayers()) {
      throw new IllegalArgumentException("Runtime config 'kvBudgetBytes' = "
          + config.kvBudgetBytes() + " holds " + blocks + " KV blocks of " + perBlock
          + " bytes, fewer than one block per layer (" + shape.numLayers()
          + "); raise kvBudgetBytes");
    }
    this.pool = new KvBlockPool(executor.createKvStore((int) Math.min(blocks, 1 << 24),
        config.kvBlockSize()), shape.numLayers(), kvDim);
    this.host = new HostKvTier(config.hostKvBudgetBytes());
    this.copyBytesPerNano = config.hostCopyBytesPerSecond() / 1e9;
    this.view = new View();
    publishGauges();
  }

  void setObserver(ModuleBatchObserver observer) {
    this.observer = observer;
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
    return live.get(id);
  }

  // ---------------------------------------------------------------- admission and lifecycle

  /** Queues a new sequence. Problems with the request finish it with an error result. */
  void submit(GenerationRequest request, ResultListener listener, long nowNanos) {
    SequenceCoroutine s = new SequenceCoroutine(request.id(), request.promptTokensShared(),
        request.promptLength(), request.sampling(), listener, nextOrder++, shape, nowNanos);
    String problem = validate(request.id(), s.tokens());
    if (problem == null && offload) {
      problem = validateOffload(s);
    }
    if (problem == null && live.containsKey(request.id())) {
      problem = "a sequence with id [" + request.id() + "] is already running in this runtime;"
          + " request ids must be unique";
    }
    if (problem != null) {
      s.fail(FinishReason.ERROR, problem);
      deliver(s);
      return;
    }
    live.put(s.id, s);
    s.place = SequenceCoroutine.Place.WAITING;
    waiting.add(s);
    publishGauges();
  }

  private String validateOffload(SequenceCoroutine s) {
    int maxLen = s.maxLength(shape.maxPositions());
    if (pool.blocksFor(maxLen) > pool.totalBlocks()) {
      return "request [" + s.id + "] may reach " + maxLen + " positions, " + pool.blocksFor(maxLen)
          + " KV blocks for one layer, but the pool holds " + pool.totalBlocks()
          + "; raise kvBudgetBytes or lower maxNewTokens";
    }
    if (hostBytes(s) > host.budgetBytes()) {
      return "request [" + s.id + "] needs " + hostBytes(s) + " bytes of host KV but"
          + " hostKvBudgetBytes is " + host.budgetBytes() + "; raise hostKvBudgetBytes";
    }
    return null;
  }

  /** KV offload mode: host bytes of a sequence at its full length. */
  private long hostBytes(SequenceCoroutine s) {
    return 8L * shape.numLayers() * s.maxLength(shape.maxPositions()) * kvDim;
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
          + " holds " + pool.totalBlocks() + "; raise kvBudgetBytes or lower prefillChunkTokens";
    }
    return null;
  }

  /** Cancels a live sequence; its listener gets a {@link FinishReason#CANCELLED} result. */
  boolean cancel(String id) {
    SequenceCoroutine s = live.get(id);
    if (s == null) {
      return false;
    }
    failSequence(s, FinishReason.CANCELLED, null);
    return true;
  }

  /** Finishes every live sequence with {@code reason}. */
  void finishAll(FinishReason reason, String message) {
    for (SequenceCoroutine s : new ArrayList<>(live.values())) {
      failSequence(s, reason, message);
    }
  }

  /**
   * Captures a live sequence between steps (abandoning its current step). With {@code detach}
   * it leaves this runtime without a result (it is being migrated); otherwise it goes on here.
   * Without {@code includeKv} the snapshot asks the destination to recompute.
   */
  SequenceSnapshot snapshot(String id, boolean detach, boolean includeKv) {
    SequenceCoroutine s = live.get(id);
    if (s == null) {
      throw new IllegalArgumentException("No live sequence [" + id + "] in this runtime; it may"
          + " have finished or been migrated already");
    }
    if (s.place == SequenceCoroutine.Place.IN_STEP) {
      s.abortStep();
      inStep--;
      s.place = SequenceCoroutine.Place.READY;
      ready.add(s);
    }
    float[] kv = null;
    int position = 0;
    if (includeKv && s.position() > 0) {
      if (offload) {
        kv = s.parkedKv != null ? s.parkedKv.clone() : s.hostKvLayout(shape.numLayers(), kvDim);
      } else if (s.place == SequenceCoroutine.Place.READY) {
        kv = pool.copyOut(s.kv, s.position());
      } else if (s.place == SequenceCoroutine.Place.PARKED) {
        kv = s.parkedKv.clone();
      }
      position = kv == null ? 0 : s.position();
    }
    SequenceSnapshot snap = new SequenceSnapshot(s.id, s.tokens(), s.promptLength, s.params,
        position, kv, shape.numLayers(), kvDim, shape.vocabSize(), s.preemptions);
    if (detach) {
      remove(s);
    }
    publishGauges();
    return snap;
  }

  /**
   * Detaches up to {@code max} sequences for migration, cheapest to move first: not yet started
   * (youngest first), then parked, then running (youngest first).
   */
  List<SequenceSnapshot> detachForMigration(int max, boolean includeKv) {
    List<SequenceCoroutine> picked = new ArrayList<>();
    for (SequenceCoroutine s : waiting.descendingSet()) {
      if (picked.size() < max) {
        picked.add(s);
      }
    }
    for (SequenceCoroutine s : parked.descendingSet()) {
      if (picked.size() < max) {
        picked.add(s);
      }
    }
    if (picked.size() < max) {
      List<SequenceCoroutine> running = new ArrayList<>();
      for (SequenceCoroutine s : live.values()) {
        if (s.place == SequenceCoroutine.Place.READY
            || s.place == SequenceCoroutine.Place.IN_STEP) {
          running.add(s);
        }
      }
      running.sort(BY_AGE.reversed());
      for (SequenceCoroutine s : running) {
        if (picked.size() < max) {
          picked.add(s);
        }
      }
    }
    List<SequenceSnapshot> out = new ArrayList<>(picked.size());
    for (SequenceCoroutine s : picked) {
      out.add(snapshot(s.id, true, includeKv));
    }
    return out;
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
    SequenceCoroutine s = new SequenceCoroutine(snap.id(), snap.tokens(), snap.promptLength(),
        snap.sampling(), listener, nextOrder++, shape, nowNanos);
    s.preemptions = snap.preemptions();
    live.put(s.id, s);
    long bytes = snap.hasKv() ? 4L * snap.kv().length : 0;
    if (offload) {
      if (snap.hasKv() && snap.position() > 0) {
        s.setPosition(snap.position());
        s.parkedKv = snap.kv(); // loaded into the host arrays at admission
      }
      s.place = SequenceCoroutine.Place.WAITING;
      waiting.add(s);
    } else if (snap.hasKv() && snap.position() > 0 && host.tryReserve(bytes)) {
      s.setPosition(snap.position());
      s.parkedKv = snap.kv();
      s.parkedBytes = bytes;
      s.status = SequenceStatus.PARKED;
      s.place = SequenceCoroutine.Place.PARKED;
      parked.add(s);
    } else {
      s.place = SequenceCoroutine.Place.WAITING;
      waiting.add(s);
    }
    publishGauges();
  }

  // ---------------------------------------------------------------- the loop

  /**
   * Starts the steps that can start, then runs one module batch. Returns false when there was
   * nothing to run (no live sequence can make progress right now).
   */
  boolean runOnce() {
    startSteps();
    int q = chooseQueue();
    if (q < 0) {
      publishGauges();
      return false;
    }
    runBatch(queues[q]);
    tick++;
    publishGauges();
    return true;
  }

  private void startSteps() {
    if (config.mode() == SchedulingMode.LOCK_STEP && inStep > 0) {
      return; // lock-step: the whole running set finishes its step before the next starts
    }
    if (offload) {
      admitOffloaded();
      startOffloaded();
      return;
    }
    startReady();
    if (ready.isEmpty()) {
      unparkAndAdmit();
      startReady();
    }
  }

  /** KV offload mode: admission reserves host bytes for the full length; no preemption. */
  private void admitOffloaded() {
    while (!waiting.isEmpty() && holding < config.maxRunningSequences()) {
      SequenceCoroutine w = waiting.first();
      long bytes = hostBytes(w);
      if (!host.tryReserve(bytes)) {
        return;
      }
      waiting.remove(w);
      w.hostReserved = bytes;
      int maxLen = w.maxLength(shape.maxPositions());
      if (w.parkedKv != null) {
        w.loadHostKv(w.parkedKv, shape.numLayers(), kvDim, maxLen);
        w.parkedKv = null;
      }
      w.place = SequenceCoroutine.Place.READY;
      ready.add(w);
      holding++;
    }
  }

  private void startOffloaded() {
    for (SequenceCoroutine s : new ArrayList<>(ready)) {
      int rows = s.nextStepRows(config.prefillChunkTokens());
      s.ensureHostKv(shape.numLayers(), kvDim, s.position() + rows,
          s.maxLength(shape.maxPositions()));
      ready.remove(s);
      s.place = SequenceCoroutine.Place.IN_STEP;
      inStep++;
      if (s.firstRunNanos < 0) {
        s.firstRunNanos = System.nanoTime();
      }
      s.beginStep(rows, executor, keys, this);
    }
  }

  private void startReady() {
    for (SequenceCoroutine s : new ArrayList<>(ready)) {
      if (s.place != SequenceCoroutine.Place.READY) {
        continue; // preempted as a victim earlier in this loop
      }
      int rows = s.nextStepRows(config.prefillChunkTokens());
      int need = pool.additionalBlocks(s.kv, s.position() + rows);
      if (need > pool.freeBlocks()) {
        reclaimFromYounger(s, need);
      }
      if (pool.ensure(s.kv, s.position() + rows)) {
        ready.remove(s);
        s.place = SequenceCoroutine.Place.IN_STEP;
        inStep++;
        if (s.firstRunNanos < 0) {
          s.firstRunNanos = System.nanoTime();
        }
        s.beginStep(rows, executor, keys, this);
      } else if (inStep == 0 && s == ready.first()) {
        // Nothing runs and the oldest cannot grow even with every younger sequence preempted.
        failSequence(s, FinishReason.ERROR, "sequence [" + s.id + "] needs "
            + pool.totalBlocksFor(s.position() + rows) + " KV blocks for " + (s.position() + rows)
            + " positions but the pool holds " + pool.totalBlocks()
            + "; raise kvBudgetBytes or lower maxNewTokens");
      }
    }
  }

  /** Preempts the youngest between-step sequences younger than {@code s} until it fits. */
  private void reclaimFromYounger(SequenceCoroutine s, int need) {
    int reclaimable = 0;
    for (SequenceCoroutine r : ready.tailSet(s, false)) {
      reclaimable += r.kv.totalBlocks();
    }
    if (need > pool.freeBlocks() + reclaimable) {
      return; // preempting would not be enough; wait for running sequences instead
    }
    while (need > pool.freeBlocks()) {
      SequenceCoroutine victim = ready.last();
      if (victim == s) {
        return;
      }
      preempt(victim);
    }
  }

  private void unparkAndAdmit() {
    int chunk = config.prefillChunkTokens();
    while (!parked.isEmpty() && holding < config.maxRunningSequences()) {
      SequenceCoroutine p = parked.first();
      int need = pool.totalBlocksFor(p.position() + p.nextStepRows(chunk));
      if (need + headroom() > pool.freeBlocks()) {
        if (holding == 0 && need > pool.totalBlocks()) {
          failSequence(p, FinishReason.ERROR, "sequence [" + p.id + "] needs " + need
              + " KV blocks but the pool holds " + pool.totalBlocks() + "; raise kvBudgetBytes");
          continue;
        }
        return;
      }
      unpark(p);
    }
    if (!parked.isEmpty()) {
      return; // parked sequences go first
    }
    while (!waiting.isEmpty() && holding < config.maxRunningSequences()) {
      SequenceCoroutine w = waiting.first();
      int need = pool.totalBlocksFor(w.position() + w.nextStepRows(chunk));
      if (need + headroom() > pool.freeBlocks()) {
        if (holding == 0 && need > pool.totalBlocks()) {
          failSequence(w, FinishReason.ERROR, "sequence [" + w.id + "] needs " + need
              + " KV blocks but the pool holds " + pool.totalBlocks() + "; raise kvBudgetBytes");
          continue;
        }
        return;
      }
      waiting.remove(w);
      w.place = SequenceCoroutine.Place.READY;
      ready.add(w);
      holding++;
    }
  }

  /** Blocks kept free for running sequences to grow: one per layer each. */
  private int headroom() {
    return holding * shape.numLayers();
  }

  private void unpark(SequenceCoroutine p) {
    parked.remove(p);
    if (!pool.ensure(p.kv, p.position())) {
      throw new IllegalStateException("KV pool lost blocks while unparking [" + p.id + "]");
    }
    long t0 = System.nanoTime();
    pool.copyIn(p.kv, p.position(), p.parkedKv);
    observeCopy(p.parkedBytes, System.nanoTime() - t0);
    host.release(p.parkedBytes);
    p.parkedKv = null;
    p.parkedBytes = 0;
    p.place = SequenceCoroutine.Place.READY;
    ready.add(p);
    holding++;
  }

  private void preempt(SequenceCoroutine v) {
    ready.remove(v);
    holding--;
    v.preemptions++;
    v.dropBuffers();
    int pos = v.position();
    long bytes = 4L * KvLayout.floats(shape.numLayers(), pos, kvDim);
    boolean park = pos > 0 && switch (config.preemption()) {
      case PARK -> true;
      case RECOMPUTE -> false;
      case AUTO -> parkCostNanos(bytes) <= recomputeCostNanos(pos);
    };
    if (pos == 0) {
      pool.release(v.kv); // nothing cached yet: simply back to the queue
      v.status = SequenceStatus.QUEUED;
      v.place = SequenceCoroutine.Place.WAITING;
      waiting.add(v);
    } else if (park && host.tryReserve(bytes)) {
      long t0 = System.nanoTime();
      v.parkedKv = pool.copyOut(v.kv, pos);
      observeCopy(bytes, System.nanoTime() - t0);
      v.parkedBytes = bytes;
      pool.release(v.kv);
      v.status = SequenceStatus.PARKED;
      v.place = SequenceCoroutine.Place.PARKED;
      parked.add(v);
      metrics.parked();
    } else {
      pool.release(v.kv);
      v.resetPosition();
      v.status = SequenceStatus.QUEUED;
      v.place = SequenceCoroutine.Place.WAITING;
      waiting.add(v);
      metrics.recomputed();
    }
  }

  /** Copy out now and back in later. */
  private double parkCostNanos(long bytes) {
    return 2.0 * bytes / copyBytesPerNano;
  }

  /** Measured module time per processed token, times the positions to redo. */
  private double recomputeCostNanos(int positions) {
    if (stepTokens == 0) {
      return Double.POSITIVE_INFINITY;
    }
    return (double) metrics.totalModuleNanos() / stepTokens * positions;
  }

  private void observeCopy(long bytes, long nanos) {
    if (bytes > 0 && nanos > 0) {
      copyBytesPerNano = 0.8 * copyBytesPerNano + 0.2 * ((double) bytes / nanos);
    }
  }

  // ---------------------------------------------------------------- coroutine callbacks

  @Override
  public void await(int keyOrder, SequenceCoroutine seq, int row, int rank) {
    queues[keyOrder].add(seq, row, rank, tick, System.nanoTime());
  }

  @Override
  public void stepDone(SequenceCoroutine s) {
    inStep--;
    stepTokens += s.stepRows();
    if (s.status == SequenceStatus.PREFILL) {
      metrics.prefill(s.stepRows());
    }
    if (s.status == SequenceStatus.FINISHED) {
      s.place = SequenceCoroutine.Place.NONE;
      holding--;
      pool.release(s.kv);
      releaseHost(s);
      live.remove(s.id);
      deliver(s);
    } else {
      s.place = SequenceCoroutine.Place.READY;
      ready.add(s);
    }
  }

  // ---------------------------------------------------------------- choosing and running batches

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

  private void runBatch(WaitQueue q) {
    ModuleKey key = keys.byOrder(q.order);
    switch (key.kind()) {
      case ATTENTION -> runAttention(q, key);
      case EXPERT, SHARED_EXPERT -> runRowWise(q, key);
      case LM_HEAD -> runLmHead(q, key);
    }
  }

  private void ensureBatchArrays(int n) {
    if (batchSeqs.length < n) {
      int cap = Math.max(n, batchSeqs.length * 2);
      batchSeqs = java.util.Arrays.copyOf(batchSeqs, cap);
      batchRows = java.util.Arrays.copyOf(batchRows, cap);
      batchRanks = java.util.Arrays.copyOf(batchRanks, cap);
    }
  }

  private void runAttention(WaitQueue q, ModuleKey key) {
    int layer = key.layer();
    int n = 0;
    int rows = 0;
    long context = 0;
    long now = System.nanoTime();
    long waited = 0;
    while (q.skipStale()) {
      SequenceCoroutine s = q.headSeq();
      int r = s.stepRows();
      int c = s.position() + r;
      if (n > 0 && (rows + r > config.maxAttentionRows()
          || context + c > config.maxAttentionContextTokens())) {
        break;
      }
      if (offload) {
        // The device pool bounds the batch: this layer's KV of every segment must fit at once.
        s.layerTable = pool.allocateLayer(pool.blocksFor(c));
        if (s.layerTable == null) {
          if (n == 0) {
            throw new IllegalStateException("KV pool has " + pool.freeBlocks()
                + " free blocks but one layer of [" + s.id + "] needs " + pool.blocksFor(c));
          }
          break;
        }
        long t0 = System.nanoTime();
        pool.loadLayer(s.layerTable, s.hostK[layer], s.hostV[layer], s.position());
        observeCopy(8L * s.position() * kvDim, System.nanoTime() - t0);
      }
      waited += now - q.headNanos();
      q.pop();
      ensureBatchArrays(n + 1);
      batchSeqs[n++] = s;
      rows += r;
      context += c;
    }
    attention.reset(layer, rows, hidden, topK, pool.store());
    float[] h = attention.hidden();
    int off = 0;
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
      int r = s.stepRows();
      System.arraycopy(s.hidden, 0, h, off * hidden, r * hidden);
      attention.addSegment(off, r, s.position(), offload ? s.layerTable : s.kv.table(layer));
      off += r;
    }
    if (observer != null) {
      List<ModuleBatchObserver.Row> list = new ArrayList<>(rows);
      for (int i = 0; i < n; i++) {
        SequenceCoroutine s = batchSeqs[i];
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
      releaseLayerTables(n);
      failBatch(n, key, e);
      return;
    }
    if (offload) {
      for (int i = 0; i < n; i++) {
        SequenceCoroutine s = batchSeqs[i];
        pool.saveLayer(s.layerTable, s.hostK[layer], s.hostV[layer], s.position(),
            s.position() + s.stepRows());
      }
      releaseLayerTables(n);
    }
    metrics.batch(ModuleKind.ATTENTION, rows, waited, System.nanoTime() - t0);
    float[] ffn = attention.ffnInput();
    int[] experts = attention.topExperts();
    float[] weights = attention.topWeights();
    off = 0;
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
      int r = s.stepRows();
      System.arraycopy(h, off * hidden, s.hidden, 0, r * hidden);
      System.arraycopy(ffn, off * hidden, s.ffnInput, 0, r * hidden);
      System.arraycopy(experts, off * topK, s.topExperts, 0, r * topK);
      System.arraycopy(weights, off * topK, s.topWeights, 0, r * topK);
      off += r;
      String bad = checkRouting(s, r);
      if (bad != null) {
        failSequence(s, FinishReason.ERROR, bad);
      } else {
        s.resume(ModuleKind.ATTENTION, 0, 0, keys, this);
      }
      batchSeqs[i] = null;
    }
  }

  private void releaseLayerTables(int n) {
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
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

  private int gatherRows(WaitQueue q, int limit, long now, long[] waited) {
    int n = 0;
    while (n < limit && q.skipStale()) {
      ensureBatchArrays(n + 1);
      batchSeqs[n] = q.headSeq();
      batchRows[n] = q.headRow();
      batchRanks[n] = q.headRank();
      waited[0] += now - q.headNanos();
      q.pop();
      n++;
    }
    return n;
  }

  private final long[] waitedScratch = new long[1];

  private void observeRows(ModuleKey key, int n) {
    if (observer != null) {
      List<ModuleBatchObserver.Row> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(new ModuleBatchObserver.Row(batchSeqs[i].id,
            batchSeqs[i].stepStart() + batchRows[i], batchRanks[i]));
      }
      observer.onBatch(key, list);
    }
  }

  private void runRowWise(WaitQueue q, ModuleKey key) {
    waitedScratch[0] = 0;
    int n = gatherRows(q, config.maxExpertRows(), System.nanoTime(), waitedScratch);
    rowBatch.reset(n, hidden, hidden);
    float[] in = rowBatch.input();
    for (int i = 0; i < n; i++) {
      System.arraycopy(batchSeqs[i].ffnInput, batchRows[i] * hidden, in, i * hidden, hidden);
    }
    observeRows(key, n);
    boolean shared = key.kind() == ModuleKind.SHARED_EXPERT;
    long t0 = System.nanoTime();
    try {
      if (shared) {
        executor.sharedExpert(key.layer(), rowBatch);
      } else {
        executor.expert(key.layer(), key.expert(), rowBatch);
      }
    } catch (RuntimeException e) {
      failBatch(n, key, e);
      return;
    }
    metrics.batch(key.kind(), n, waitedScratch[0], System.nanoTime() - t0);
    float[] out = rowBatch.output();
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
      if (shared) {
        System.arraycopy(out, i * hidden, s.sharedOut, batchRows[i] * hidden, hidden);
      } else {
        System.arraycopy(out, i * hidden, s.expertOut,
            (batchRows[i] * topK + batchRanks[i]) * hidden, hidden);
      }
    }
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
      batchSeqs[i] = null;
      if (s.place == SequenceCoroutine.Place.IN_STEP) {
        s.resume(key.kind(), batchRows[i], batchRanks[i], keys, this);
      }
    }
  }

  private void runLmHead(WaitQueue q, ModuleKey key) {
    waitedScratch[0] = 0;
    int vocab = shape.vocabSize();
    int n = gatherRows(q, config.maxLmHeadRows(), System.nanoTime(), waitedScratch);
    rowBatch.reset(n, hidden, vocab);
    float[] in = rowBatch.input();
    for (int i = 0; i < n; i++) {
      System.arraycopy(batchSeqs[i].hidden, batchRows[i] * hidden, in, i * hidden, hidden);
    }
    observeRows(key, n);
    long t0 = System.nanoTime();
    try {
      executor.lmHead(rowBatch);
    } catch (RuntimeException e) {
      failBatch(n, key, e);
      return;
    }
    metrics.batch(ModuleKind.LM_HEAD, n, waitedScratch[0], System.nanoTime() - t0);
    float[] logits = rowBatch.output();
    for (int i = 0; i < n; i++) {
      SequenceCoroutine s = batchSeqs[i];
      batchSeqs[i] = null;
      try {
        int token = sampler.sample(logits, i * vocab, vocab, s.params, s.generatedCount());
        metrics.generated();
        s.resumeWithToken(token, eos, shape.maxPositions(), detokenizer, this);
      } catch (RuntimeException e) {
        if (s.place == SequenceCoroutine.Place.IN_STEP) {
          failSequence(s, FinishReason.ERROR, "sampling sequence [" + s.id + "] failed: " + e);
        } else {
          LOG.warn("Result delivery for sequence [{}] failed", s.id, e);
        }
      }
    }
  }

  /**
   * A module call threw: the backend (and the KV it was writing) is in an unknown state, so the
   * whole runtime fails rather than only this batch's sequences, whose rows are not at fault.
   * Callers see a {@link RuntimeFailedException}; their owner starts a fresh runtime.
   */
  private void failBatch(int n, ModuleKey key, RuntimeException e) {
    for (int i = 0; i < n; i++) {
      batchSeqs[i] = null;
    }
    throw new ModuleFailedException("module " + key + " failed on " + executor.describe()
        + " in a batch of " + n + " rows: " + e, e);
  }

  /** A module call threw; fatal for the runtime (see {@link #failBatch}). */
  static final class ModuleFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ModuleFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Takes {@code s} out of whatever it is in, frees its memory, and delivers its result. */
  private void failSequence(SequenceCoroutine s, FinishReason reason, String message) {
    remove(s);
    s.fail(reason, message);
    deliver(s);
  }

  /** Takes {@code s} out of the runtime and frees its memory; no result is delivered. */
  private void remove(SequenceCoroutine s) {
    switch (s.place) {
      case WAITING -> waiting.remove(s);
      case PARKED -> {
        parked.remove(s);
        host.release(s.parkedBytes);
        s.parkedKv = null;
        s.parkedBytes = 0;
      }
      case READY -> {
        ready.remove(s);
        holding--;
      }
      case IN_STEP -> {
        s.abortStep();
        inStep--;
        holding--;
      }
      case NONE -> {
      }
    }
    pool.release(s.kv);
    releaseHost(s);
    s.place = SequenceCoroutine.Place.NONE;
    s.dropBuffers();
    live.remove(s.id, s);
  }

  /** KV offload mode: frees the host reservation and arrays. */
  private void releaseHost(SequenceCoroutine s) {
    if (s.hostReserved > 0) {
      host.release(s.hostReserved);
      s.hostReserved = 0;
    }
    s.dropHostKv();
  }

  private void deliver(SequenceCoroutine s) {
    metrics.finished();
    try {
      s.listener.onResult(s.result(System.nanoTime()));
    } catch (RuntimeException e) {
      LOG.warn("Result listener for sequence [{}] threw; result dropped", s.id, e);
    }
  }

  private void publishGauges() {
    metrics.gauges(pool.usedBlocks(), pool.totalBlocks(), pool.peakUsedBlocks(), host.usedBytes(),
        waiting.size(), holding, parked.size());
  }

  @Override
  public void close() {
    pool.close();
  }

  /** The policy's view over the non-empty queues, rebuilt for every choice without allocation. */
  private final class View implements QueueView {
    private WaitQueue[] queue = new WaitQueue[16];
    private int size;

    int add(WaitQueue q) {
      if (size == queue.length) {
        queue = java.util.Arrays.copyOf(queue, size * 2);
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
  }
}
