package io.batchgen.spark.plugin;

import io.batchgen.spark.config.BatchGenConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails the application's jobs, with the cause, when executors cannot start the BatchGen plugin.
 *
 * <p>Without it, an executor whose plugin fails exits, and a standalone Master (or YARN, or
 * Kubernetes) launches another one, which fails the same way, forever: Spark's own retry limit
 * never trips because each new executor reaches RUNNING first. The guard learns of executors from
 * Spark's listener events, of registrations and reported causes from the driver plugin, and of
 * missed registration deadlines from a once-a-second check. When {@code maxStartFailures}
 * executors have failed (see {@link PluginStartWatch}) it
 * <ul>
 *   <li>cancels every running job, and every job started later, with a reason that names the
 *       causes and the settings involved, so the caller sees them as the job's failure;
 *   <li>asks the cluster manager for zero executors, so no more are launched to fail.
 * </ul>
 *
 * <p>Threads: listener callbacks on Spark's listener bus thread, {@link #registered} and
 * {@link #startFailed} on RPC threads, the deadline check on its own daemon thread; all state is
 * behind this object's monitor.
 */
final class PluginStartGuard extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PluginStartGuard.class);

  private final SparkContext sc;
  private final PluginStartWatch watch;
  private final LongSupplier clock;
  private final Set<Integer> activeJobs = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;
  private volatile String abortReason;
  private volatile boolean ending;

  PluginStartGuard(SparkContext sc, ExecutorPluginSettings settings) {
    this.sc = sc;
    this.clock = System::nanoTime;
    this.watch = new PluginStartWatch(settings.maxStartFailures(),
        settings.registrationTimeout().toNanos(), BatchGenConfig.REGISTRATION_TIMEOUT_MS.key());
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "batchgen-plugin-start-guard");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::check, 1, 1, TimeUnit.SECONDS);
  }

  /** The reason jobs are failed with, once the guard has given up; null before. */
  String abortReason() {
    return abortReason;
  }

  void registered(String executorId) {
    synchronized (this) {
      watch.registered(executorId);
    }
  }

  void startFailed(String executorId, String host, String cause) {
    synchronized (this) {
      watch.startFailed(executorId, host, cause);
    }
    check();
  }

  @Override
  public void onExecutorAdded(SparkListenerExecutorAdded event) {
    synchronized (this) {
      watch.executorAdded(event.executorId(), event.executorInfo().executorHost(),
          clock.getAsLong());
    }
    check();
  }

  @Override
  public void onExecutorRemoved(SparkListenerExecutorRemoved event) {
    if (ending) {
      return; // executors stopped with the application are no failed starts
    }
    synchronized (this) {
      watch.executorRemoved(event.executorId(), event.reason());
    }
    check();
  }

  @Override
  public void onJobStart(SparkListenerJobStart event) {
    activeJobs.add(event.jobId());
    String reason = abortReason;
    if (reason != null) {
      sc.cancelJob(event.jobId(), reason);
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd event) {
    activeJobs.remove(event.jobId());
  }

  @Override
  public void onApplicationEnd(SparkListenerApplicationEnd event) {
    ending = true;
  }

  private void check() {
    if (ending) {
      return;
    }
    List<PluginStartWatch.Failure> failures;
    synchronized (this) {
      failures = watch.check(clock.getAsLong()).orElse(null);
    }
    if (failures != null) {
      String reason = reason(failures);
      abortReason = reason;
      // Off the listener bus and RPC threads: asking the cluster manager blocks.
      timer.execute(() -> giveUp(reason));
    }
  }

  private void giveUp(String reason) {
    LOG.error("{}", reason);
    for (Integer job : activeJobs) {
      sc.cancelJob(job, reason);
    }
    try {
      // Stop the cluster manager from launching executors that would fail the same way.
      sc.requestTotalExecutors(0, 0, scala.collection.immutable.Map$.MODULE$.empty());
    } catch (RuntimeException e) {
      LOG.warn("Could not ask the cluster manager to stop launching executors: {}", e.toString());
    }
  }

  /** The reason the jobs fail with: the causes, grouped, and the settings involved. */
  static String reason(List<PluginStartWatch.Failure> failures) {
    Map<String, List<String>> byCause = new LinkedHashMap<>();
    for (PluginStartWatch.Failure f : failures) {
      byCause.computeIfAbsent(f.cause(), k -> new java.util.ArrayList<>())
          .add(f.executorId() + " on " + f.host());
    }
    String causes = byCause.entrySet().stream()
        .map(e -> "executor " + String.join(", executor ", e.getValue()) + ": " + e.getKey())
        .collect(Collectors.joining("; "));
    return "because BatchGen could not start on " + failures.size() + " executor"
        + (failures.size() == 1 ? "" : "s") + ", so this application's jobs are failed "
        + "instead of waiting for executors that fail the same way (limit: "
        + BatchGenConfig.MAX_START_FAILURES.key() + "). " + causes;
  }

  @Override
  public void close() {
    ending = true;
    timer.shutdownNow();
  }
}
