package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.ResultListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which task of this executor owns a sequence, and whether that sequence may move: tasks submit
 * sequences with ids {@code scope + "/" + rowId} and register under their scope for as long as
 * they run. A sequence that migrated to another executor comes back here by its id; when its task
 * is gone (failed, killed, retried elsewhere) there is no route and the result is dropped: Spark's
 * retry of that task produces the row again.
 *
 * <p>A task of a job with option {@code rebalance=false} registers as not movable: none of its
 * sequences is detached for a move ({@link #movable}), and the load report counts them with the
 * sequences that stay ({@link #pinned}), so the driver's policy does not order a move of them.
 * Its executor may still run sequences moved in from other jobs' tasks.
 *
 * <p>Thread-safe.
 */
public final class TaskRoutes {
  private final Map<String, Route> byScope = new ConcurrentHashMap<>();

  /**
   * One running task: where results of its sequences go, in which runtime they run, whether
   * they may move to other executors, and its counts: sequences submitted, finished (their
   * results taken) and moved so far.
   */
  public static final class Route {
    private final ResultListener listener;
    private final ModelRuntime runtime;
    private final boolean movable;
    private final AtomicLong migrated = new AtomicLong();
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong finished = new AtomicLong();
    /** {@link #finished} at the previous {@link TaskRoutes#pinned} call (the reporter's). */
    private volatile long finishedAtLastReport;

    private Route(ResultListener listener, ModelRuntime runtime, boolean movable) {
      this.listener = listener;
      this.runtime = runtime;
      this.movable = movable;
    }

    /** The task is about to submit a sequence to its runtime (called by the task's thread). */
    public void submitted() {
      submitted.incrementAndGet();
    }

    /** The task took the result of one of its sequences (called by the task's thread). */
    public void finished() {
      finished.incrementAndGet();
    }
  }

  /**
   * A task's results from elsewhere go to {@code listener} until {@link #unregister}.
   *
   * @param runtime the runtime the task submits its sequences to
   * @param movable false when the task's job opted out of rebalancing: its sequences stay here
   * @return the route, to which the task reports the sequences it submits and finishes
   */
  public Route register(String scope, ModelRuntime runtime, ResultListener listener,
      boolean movable) {
    Route r = new Route(listener, runtime, movable);
    byScope.put(scope, r);
    return r;
  }

  public void unregister(String scope) {
    byScope.remove(scope);
  }

  /** The listener owning {@code sequenceId}, or null when its task is gone. */
  public ResultListener route(String sequenceId) {
    Route r = of(sequenceId);
    return r == null ? null : r.listener;
  }

  /**
   * Whether {@code sequenceId} may move to another executor: a task here owns it (one hosted for
   * another executor stays: its owner holds the lease) and its job allows moves.
   */
  public boolean movable(String sequenceId) {
    Route r = of(sequenceId);
    return r != null && r.movable;
  }

  /**
   * Sequences in {@code runtime} that stay because their job opted out of rebalancing, for the
   * load report that has just read the runtime's metrics: what those tasks submitted so far, less
   * what they had finished (taken the results of) at the previous call. The runtime publishes its
   * sequence gauges after each module batch, so a sequence finished within the batch still counts
   * there until the batch ends; finished sequences are therefore subtracted one report late. The
   * count is then never below what the metrics hold of those jobs unless one module batch outlasts
   * a report interval (and even then no sequence of theirs moves: {@link #movable} is exact). It
   * may be more by the results taken since the last report.
   *
   * <p>Called by the load reporter only, once per report and runtime, after it read the metrics.
   */
  public int pinned(ModelRuntime runtime) {
    long n = 0;
    for (Route r : byScope.values()) {
      if (!r.movable && r.runtime == runtime) {
        n += r.submitted.get() - r.finishedAtLastReport;
        r.finishedAtLastReport = r.finished.get();
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, Math.max(0, n));
  }

  /** Counts a sequence of {@code sequenceId}'s task that moved to another executor. */
  public void countMigrated(String sequenceId) {
    Route r = of(sequenceId);
    if (r != null) {
      r.migrated.incrementAndGet();
    }
  }

  /** Sequences of the task with {@code scope} that moved to another executor so far. */
  public long migrated(String scope) {
    Route r = byScope.get(scope);
    return r == null ? 0 : r.migrated.get();
  }

  private Route of(String sequenceId) {
    int slash = sequenceId.indexOf('/');
    return slash < 0 ? null : byScope.get(sequenceId.substring(0, slash));
  }
}
