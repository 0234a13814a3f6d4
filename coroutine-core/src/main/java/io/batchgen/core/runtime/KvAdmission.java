package io.batchgen.core.runtime;

import io.batchgen.core.kv.HostKvTier;
import io.batchgen.core.kv.KvBlockPool;
import io.batchgen.core.kv.KvLayout;
import io.batchgen.core.model.ModelShape;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.TreeSet;

/**
 * Admission and preemption, beside the KV accounting they decide on: which sequences hold KV and
 * may start a step, who is parked (KV copied to the host tier) or sent back to recompute when
 * memory runs short, and the measured cost model that chooses between the two.
 *
 * <p>Waiting sequences are admitted in the configured {@link AdmissionOrder}. Once admitted they
 * are served by age: an older sequence may take KV blocks from younger ones that are between
 * steps (preemption), never the reverse, so the oldest always progresses and nobody starves.
 * In KV offload mode every sequence's KV lives in host arrays reserved for its full length at
 * admission, and only one layer of one attention batch is on the device at a time.
 *
 * <p>Not thread-safe: scheduler thread only.
 */
final class KvAdmission {
  private static final Comparator<SequenceSlot> BY_AGE = Comparator.comparingLong(s -> s.order);
  /** Largest generation budget left first; stable while a sequence waits (it generates nothing). */
  private static final Comparator<SequenceSlot> LONGEST_FIRST = Comparator
      .comparingInt((SequenceSlot s) -> -s.seq.budgetLeft()).thenComparing(BY_AGE);

  /** What admission asks of the scheduler. */
  interface Steps {
    /** Starts the step of {@code rows} tokens; the slot is in place {@code IN_STEP}. */
    void begin(SequenceSlot slot, int rows);

    /** Finishes {@code slot} with an error it cannot recover from (too big for the pool). */
    void fail(SequenceSlot slot, String message);
  }

  private final RuntimeConfig config;
  private final ModelShape shape;
  private final int kvDim;
  private final boolean offload;
  private final KvBlockPool pool;
  private final HostKvTier host;
  private final MetricsRecorder metrics;
  /** Re-counted when a preemption sends a sequence back to recompute (its position resets). */
  private final LiveWork work;

  /** Waiting for admission, the next to admit first. */
  final TreeSet<SequenceSlot> waiting;
  final TreeSet<SequenceSlot> parked = new TreeSet<>(BY_AGE);
  final TreeSet<SequenceSlot> ready = new TreeSet<>(BY_AGE);
  /** Sequences holding KV (ready or in a step). */
  private int holding;
  /** Sequences in a step. */
  private int inStep;
  /** Token positions processed by finished steps (the recompute cost model's denominator). */
  private long stepTokens;
  private double copyBytesPerNano;

  KvAdmission(RuntimeConfig config, ModelShape shape, KvBlockPool pool, HostKvTier host,
      MetricsRecorder metrics, LiveWork work) {
    this.config = config;
    this.shape = shape;
    this.kvDim = shape.numKvHeads() * shape.headDim();
    this.offload = config.kvOffload();
    this.pool = pool;
    this.host = host;
    this.metrics = metrics;
    this.work = work;
    this.copyBytesPerNano = config.hostCopyBytesPerSecond() / 1e9;
    this.waiting = new TreeSet<>(config.admissionOrder() == AdmissionOrder.LONGEST_FIRST
        ? LONGEST_FIRST : BY_AGE);
  }

  int holding() {
    return holding;
  }

  int inStep() {
    return inStep;
  }

  // ---------------------------------------------------------------- entering and leaving

  /** A new sequence waits for admission. */
  void enqueue(SequenceSlot s) {
    s.place = SequenceSlot.Place.WAITING;
    waiting.add(s);
  }

  /**
   * A sequence restored from a snapshot: with KV, it waits parked (its KV in the host tier) if the
   * tier has room, else in the queue (offload mode: its KV is loaded at admission; otherwise it is
   * recomputed).
   */
  void enqueueRestored(SequenceSlot s, float[] kv, int position) {
    long bytes = kv != null ? 4L * kv.length : 0;
    if (offload) {
      if (kv != null && position > 0) {
        s.seq.setPosition(position);
        s.parkedKv = kv; // loaded into the host arrays at admission
      }
      enqueue(s);
    } else if (kv != null && position > 0 && host.tryReserve(bytes)) {
      s.seq.setPosition(position);
      s.parkedKv = kv;
      s.parkedBytes = bytes;
      s.seq.status = SequenceStatus.PARKED;
      s.place = SequenceSlot.Place.PARKED;
      parked.add(s);
    } else {
      enqueue(s);
    }
  }

  /** Takes {@code s} out of whatever it is in and frees its memory. */
  void remove(SequenceSlot s) {
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
        s.seq.abortStep();
        inStep--;
        holding--;
      }
      case NONE -> {
      }
    }
    pool.release(s.kv);
    releaseHost(s);
    s.place = SequenceSlot.Place.NONE;
    s.seq.dropBuffers();
  }

  /** Abandons the step of {@code s} (a snapshot is taken between steps); it is ready again. */
  void abortStep(SequenceSlot s) {
    if (s.place == SequenceSlot.Place.IN_STEP) {
      s.seq.abortStep();
      inStep--;
      s.place = SequenceSlot.Place.READY;
      ready.add(s);
    }
  }

  /**
   * A step ended. Returns true when the sequence finished (it left: KV freed), false when it is
   * ready for its next step.
   */
  boolean stepDone(SequenceSlot s) {
    inStep--;
    stepTokens += s.seq.stepRows();
    if (s.seq.status == SequenceStatus.PREFILL) {
      metrics.prefill(s.seq.stepRows());
    }
    if (s.seq.status == SequenceStatus.FINISHED) {
      s.place = SequenceSlot.Place.NONE;
      holding--;
      pool.release(s.kv);
      releaseHost(s);
      return true;
    }
    s.place = SequenceSlot.Place.READY;
    ready.add(s);
    return false;
  }

  /** KV offload mode: frees the host reservation and arrays. */
  private void releaseHost(SequenceSlot s) {
    if (s.hostReserved > 0) {
      host.release(s.hostReserved);
      s.hostReserved = 0;
    }
    s.dropHostKv();
  }

  // ---------------------------------------------------------------- admission

  /** Admits what fits and starts every step that can start now. */
  void startSteps(Steps steps) {
    if (config.mode() == SchedulingMode.LOCK_STEP && inStep > 0) {
      return; // lock-step: the whole running set finishes its step before the next starts
    }
    if (offload) {
      admitOffloaded();
      startOffloaded(steps);
      return;
    }
    startReady(steps);
    if (ready.isEmpty()) {
      unparkAndAdmit(steps);
      startReady(steps);
    }
  }

  /** KV offload mode: admission reserves host bytes for the full length; no preemption. */
  private void admitOffloaded() {
    while (!waiting.isEmpty() && holding < config.maxRunningSequences()) {
      SequenceSlot w = waiting.first();
      long bytes = hostBytes(w);
      if (!host.tryReserve(bytes)) {
        return;
      }
      waiting.remove(w);
      w.hostReserved = bytes;
      int maxLen = w.seq.maxLength(shape.maxPositions());
      if (w.parkedKv != null) {
        w.loadHostKv(w.parkedKv, shape.numLayers(), kvDim, maxLen);
        w.parkedKv = null;
      }
      w.place = SequenceSlot.Place.READY;
      ready.add(w);
      holding++;
    }
  }

  private void startOffloaded(Steps steps) {
    for (SequenceSlot s : new ArrayList<>(ready)) {
      int rows = s.seq.nextStepRows(config.prefillChunkTokens());
      s.ensureHostKv(shape.numLayers(), kvDim, s.seq.position() + rows,
          s.seq.maxLength(shape.maxPositions()));
      begin(s, rows, steps);
    }
  }

  private void begin(SequenceSlot s, int rows, Steps steps) {
    ready.remove(s);
    s.place = SequenceSlot.Place.IN_STEP;
    inStep++;
    if (s.firstRunNanos < 0) {
      s.firstRunNanos = System.nanoTime();
    }
    steps.begin(s, rows);
  }

  private void startReady(Steps steps) {
    for (SequenceSlot s : new ArrayList<>(ready)) {
      if (s.place != SequenceSlot.Place.READY) {
        continue; // preempted as a victim earlier in this loop
      }
      int rows = s.seq.nextStepRows(config.prefillChunkTokens());
      int need = pool.additionalBlocks(s.kv, s.seq.position() + rows);
      if (need > pool.freeBlocks()) {
        reclaimFromYounger(s, need);
      }
      if (pool.ensure(s.kv, s.seq.position() + rows)) {
        begin(s, rows, steps);
      } else if (inStep == 0 && s == ready.first()) {
        // Nothing runs and the oldest cannot grow even with every younger sequence preempted.
        steps.fail(s, "sequence [" + s.id() + "] needs "
            + pool.totalBlocksFor(s.seq.position() + rows) + " KV blocks for "
            + (s.seq.position() + rows) + " positions but the pool holds " + pool.totalBlocks()
            + "; raise the KV cache budget or lower max new tokens");
      }
    }
  }

  /** Preempts the youngest between-step sequences younger than {@code s} until it fits. */
  private void reclaimFromYounger(SequenceSlot s, int need) {
    int reclaimable = 0;
    for (SequenceSlot r : ready.tailSet(s, false)) {
      reclaimable += r.kv.totalBlocks();
    }
    if (need > pool.freeBlocks() + reclaimable) {
      return; // preempting would not be enough; wait for running sequences instead
    }
    while (need > pool.freeBlocks()) {
      SequenceSlot victim = ready.last();
      if (victim == s) {
        return;
      }
      preempt(victim);
    }
  }

  private void unparkAndAdmit(Steps steps) {
    int chunk = config.prefillChunkTokens();
    while (!parked.isEmpty() && holding < config.maxRunningSequences()) {
      SequenceSlot p = parked.first();
      int need = pool.totalBlocksFor(p.seq.position() + p.seq.nextStepRows(chunk));
      if (need + headroom() > pool.freeBlocks()) {
        if (holding == 0 && need > pool.totalBlocks()) {
          steps.fail(p, "sequence [" + p.id() + "] needs " + need + " KV blocks but the pool"
              + " holds " + pool.totalBlocks() + "; raise the KV cache budget");
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
      SequenceSlot w = waiting.first();
      int need = pool.totalBlocksFor(w.seq.position() + w.seq.nextStepRows(chunk));
      if (need + headroom() > pool.freeBlocks()) {
        if (holding == 0 && need > pool.totalBlocks()) {
          steps.fail(w, "sequence [" + w.id() + "] needs " + need + " KV blocks but the pool"
              + " holds " + pool.totalBlocks() + "; raise the KV cache budget");
          continue;
        }
        return;
      }
      waiting.remove(w);
      w.place = SequenceSlot.Place.READY;
      ready.add(w);
      holding++;
    }
  }

  /** Blocks kept free for running sequences to grow: one per layer each. */
  private int headroom() {
    return holding * shape.numLayers();
  }

  private void unpark(SequenceSlot p) {
    parked.remove(p);
    if (!pool.ensure(p.kv, p.seq.position())) {
      throw new IllegalStateException("KV pool lost blocks while unparking [" + p.id() + "]");
    }
    long t0 = System.nanoTime();
    pool.copyIn(p.kv, p.seq.position(), p.parkedKv);
    observeCopy(p.parkedBytes, System.nanoTime() - t0);
    host.release(p.parkedBytes);
    p.parkedKv = null;
    p.parkedBytes = 0;
    p.place = SequenceSlot.Place.READY;
    ready.add(p);
    holding++;
  }

  // ---------------------------------------------------------------- preemption

  private void preempt(SequenceSlot v) {
    ready.remove(v);
    holding--;
    v.preemptions++;
    v.seq.dropBuffers();
    int pos = v.seq.position();
    long bytes = 4L * KvLayout.floats(shape.numLayers(), pos, kvDim);
    boolean park = pos > 0 && switch (config.preemption()) {
      case PARK -> true;
      case RECOMPUTE -> false;
      case AUTO -> parkCostNanos(bytes) <= recomputeCostNanos(pos);
    };
    if (pos == 0) {
      pool.release(v.kv); // nothing cached yet: simply back to the queue
      v.seq.status = SequenceStatus.QUEUED;
      enqueue(v);
    } else if (park && host.tryReserve(bytes)) {
      long t0 = System.nanoTime();
      v.parkedKv = pool.copyOut(v.kv, pos);
      observeCopy(bytes, System.nanoTime() - t0);
      v.parkedBytes = bytes;
      pool.release(v.kv);
      v.seq.status = SequenceStatus.PARKED;
      v.place = SequenceSlot.Place.PARKED;
      parked.add(v);
      metrics.parked();
    } else {
      pool.release(v.kv);
      v.seq.resetPosition();
      work.update(v);
      v.seq.status = SequenceStatus.QUEUED;
      enqueue(v);
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

  /** Feeds the copy-speed estimate of the cost model with one measured copy. */
  void observeCopy(long bytes, long nanos) {
    if (bytes > 0 && nanos > 0) {
      copyBytesPerNano = 0.8 * copyBytesPerNano + 0.2 * ((double) bytes / nanos);
    }
  }

  /** KV offload mode: host bytes of a sequence at its full length. */
  long hostBytes(SequenceSlot s) {
    return 8L * shape.numLayers() * s.seq.maxLength(shape.maxPositions()) * kvDim;
  }

  void publishGauges() {
    metrics.gauges(pool.usedBlocks(), pool.totalBlocks(), pool.peakUsedBlocks(), host.usedBytes(),
        waiting.size(), holding, parked.size());
  }
}
