package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.ResultListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which task of this executor owns a sequence: tasks submit sequences with ids
 * {@code scope + "/" + rowId} and register their result listener under their scope for as long
 * as they run. A sequence that migrated to another executor comes back here by its id; when its
 * task is gone (failed, killed, retried elsewhere) there is no route and the result is dropped:
 * Spark's retry of that task produces the row again.
 *
 * <p>Thread-safe.
 */
public final class TaskRoutes {
  private final Map<String, ResultListener> byScope = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> migrated = new ConcurrentHashMap<>();

  /** A task's results from elsewhere go to {@code listener} until {@link #unregister}. */
  public void register(String scope, ResultListener listener) {
    byScope.put(scope, listener);
    migrated.put(scope, new AtomicLong());
  }

  public void unregister(String scope) {
    byScope.remove(scope);
    migrated.remove(scope);
  }

  /** The listener owning {@code sequenceId}, or null when its task is gone. */
  public ResultListener route(String sequenceId) {
    int slash = sequenceId.indexOf('/');
    return slash < 0 ? null : byScope.get(sequenceId.substring(0, slash));
  }

  /** Counts a sequence of {@code sequenceId}'s task that moved to another executor. */
  public void countMigrated(String sequenceId) {
    int slash = sequenceId.indexOf('/');
    AtomicLong n = slash < 0 ? null : migrated.get(sequenceId.substring(0, slash));
    if (n != null) {
      n.incrementAndGet();
    }
  }

  /** Sequences of the task with {@code scope} that moved to another executor so far. */
  public long migrated(String scope) {
    AtomicLong n = migrated.get(scope);
    return n == null ? 0 : n.get();
  }
}
