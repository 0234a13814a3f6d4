package io.batchgen.spark.plugin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The driver's account of executor plugin starts, as plain state: which executors Spark added,
 * which registered with the driver plugin, and which failed to start (with the cause they sent,
 * Spark's removal reason, or a missed registration deadline). Decides when the application must
 * give up: once {@code maxFailures} executors failed to start their plugin.
 *
 * <p>Events may arrive in any order (Spark's listener bus and the plugin RPC are separate
 * threads): a registration may precede the executor-added event, a cause may precede or follow the
 * removal. Times are caller-supplied nanoseconds, so the logic is tested without a clock. Not
 * thread-safe; {@link PluginStartGuard} serialises calls.
 */
final class PluginStartWatch {
  /** What the driver knows about one executor's plugin start. */
  private static final class Start {
    String host = "unknown host";
    long addedNanos = -1;
    boolean registered;
    boolean removed;
    String cause;
    boolean failed;
  }

  /** One failed start, for the abort message. */
  record Failure(String executorId, String host, String cause) {
  }

  private final int maxFailures;
  private final long registrationTimeoutNanos;
  private final String timeoutSetting;
  private final Map<String, Start> starts = new LinkedHashMap<>();
  private final List<String> failed = new ArrayList<>();
  private boolean givenUp;

  /**
   * @param maxFailures              failed starts that make the application give up; 0 never
   * @param registrationTimeoutNanos how long after being added an executor may take to register
   * @param timeoutSetting           the setting to name when a registration deadline passes
   */
  PluginStartWatch(int maxFailures, long registrationTimeoutNanos, String timeoutSetting) {
    this.maxFailures = maxFailures;
    this.registrationTimeoutNanos = registrationTimeoutNanos;
    this.timeoutSetting = timeoutSetting;
  }

  void executorAdded(String id, String host, long nowNanos) {
    Start s = start(id);
    s.host = host; // Spark's name for the host wins over the executor's own
    s.addedNanos = nowNanos;
  }

  void registered(String id) {
    start(id).registered = true;
  }

  /** The executor's own report of why its plugin could not start. */
  void startFailed(String id, String host, String cause) {
    Start s = start(id);
    if (s.addedNanos < 0) {
      s.host = host;
    }
    s.cause = cause;
    fail(id, s);
  }

  /** Spark removed the executor; before registration this is a failed start. */
  void executorRemoved(String id, String reason) {
    Start s = start(id);
    s.removed = true;
    if (!s.registered) {
      if (s.cause == null) {
        s.cause = "the executor exited before its BatchGen plugin registered with the driver "
            + "(Spark says: " + reason + "); see the executor's stderr";
      }
      fail(id, s);
    }
  }

  /**
   * Marks executors past their registration deadline as failed, then tells whether the
   * application must give up. Answers the failures only once: later calls return empty.
   */
  Optional<List<Failure>> check(long nowNanos) {
    for (Map.Entry<String, Start> e : starts.entrySet()) {
      Start s = e.getValue();
      if (!s.registered && !s.removed && !s.failed && s.addedNanos >= 0
          && nowNanos - s.addedNanos > registrationTimeoutNanos) {
        s.cause = "its BatchGen plugin did not register with the driver within "
            + registrationTimeoutNanos / 1_000_000_000L + " s of the executor starting ("
            + timeoutSetting + "); see the executor's stderr";
        fail(e.getKey(), s);
      }
    }
    if (givenUp || maxFailures <= 0 || failed.size() < maxFailures) {
      return Optional.empty();
    }
    givenUp = true;
    List<Failure> out = new ArrayList<>();
    for (String id : failed) {
      Start s = starts.get(id);
      out.add(new Failure(id, s.host, s.cause));
    }
    return Optional.of(out);
  }

  int failureCount() {
    return failed.size();
  }

  private void fail(String id, Start s) {
    if (!s.failed) {
      s.failed = true;
      failed.add(id);
    }
  }

  private Start start(String id) {
    return starts.computeIfAbsent(id, k -> new Start());
  }
}
