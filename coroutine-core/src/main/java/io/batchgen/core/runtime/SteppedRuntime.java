package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.List;
import java.util.function.Predicate;

/**
 * The sequence runtime's scheduler driven step by step on the caller's thread, with no thread of
 * its own: for simulations that run many runtimes in one thread under a virtual clock (the
 * cluster simulation of {@code bin/batchgen bench rebalance}) and for deterministic tests. It
 * runs exactly the admission, planning and dispatch code that {@link SequenceRuntime} runs;
 * results reach each sequence's listener on the caller's thread, inside {@link #runOnce()},
 * {@link #submit} (a refused request) or {@link #cancel}.
 *
 * <p>Not thread-safe: one thread owns it.
 */
public final class SteppedRuntime implements AutoCloseable {
  private final MetricsRecorder metrics = new MetricsRecorder();
  private final Scheduler scheduler;

  /** See {@link SequenceRuntime#SequenceRuntime(ModuleExecutor, RuntimeConfig, Detokenizer)}. */
  public SteppedRuntime(ModuleExecutor executor, RuntimeConfig config, Detokenizer detokenizer) {
    this.scheduler = new Scheduler(executor, config, detokenizer, metrics);
  }

  /** Queues {@code request}; problems with it finish it at once with an error result. */
  public void submit(GenerationRequest request, ResultListener listener, long nowNanos) {
    scheduler.submit(request, listener, nowNanos);
  }

  /** Admits, plans and runs one module batch; false when nothing could run. */
  public boolean runOnce() {
    return scheduler.runOnce();
  }

  public boolean hasLiveSequences() {
    return scheduler.hasLiveSequences();
  }

  public boolean cancel(String id) {
    return scheduler.cancel(id);
  }

  /** See {@link SequenceRuntime#detachForMigration(int, boolean, boolean)}. */
  public List<SequenceSnapshot> detachForMigration(int max, boolean startedToo,
      boolean includeKv) {
    return scheduler.detachForMigration(max, startedToo, includeKv);
  }

  /** See {@link SequenceRuntime#detachForMigration(int, boolean, boolean, Predicate)}. */
  public List<SequenceSnapshot> detachForMigration(int max, boolean startedToo,
      boolean includeKv, Predicate<String> movable) {
    return scheduler.detachForMigration(max, startedToo, includeKv, movable);
  }

  /** See {@link SequenceRuntime#detachForMigration(int, long, boolean, boolean, Predicate)}. */
  public List<SequenceSnapshot> detachForMigration(int max, long maxWork, boolean startedToo,
      boolean includeKv, Predicate<String> movable) {
    return scheduler.detachForMigration(max, maxWork, startedToo, includeKv, movable);
  }

  /** See {@link SequenceRuntime#restore}. */
  public void restore(SequenceSnapshot snapshot, ResultListener listener, long nowNanos) {
    scheduler.restore(snapshot, listener, nowNanos);
  }

  public RuntimeMetrics metrics() {
    return metrics.snapshot();
  }

  @Override
  public void close() {
    scheduler.finishAll(FinishReason.CANCELLED, "runtime shut down");
    scheduler.close();
  }
}
