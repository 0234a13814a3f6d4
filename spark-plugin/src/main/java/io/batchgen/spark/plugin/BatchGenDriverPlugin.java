package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.FetchChunk;
import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.Message;
import io.batchgen.spark.plugin.PluginMessages.MoveDone;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.Ping;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import io.batchgen.spark.plugin.PluginMessages.Register;
import io.batchgen.spark.plugin.PluginMessages.StartFailed;
import io.batchgen.spark.plugin.PluginMessages.StateChunk;
import io.batchgen.spark.plugin.PluginMessages.TaskProgress;
import io.batchgen.spark.plugin.PluginMessages.TaskReport;
import io.batchgen.spark.plugin.PluginMessages.Welcome;
import io.batchgen.spark.progress.ProgressBoard;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of the BatchGen plugin: keeps the registry of executors and their load reports and
 * the {@link ProgressBoard} of running writes (fed by the executors' task reports),
 * runs the {@link Rebalancer} and the {@link MigrationCoordinator} that moves sequences between
 * executors (orders go out in the answers to load reports), drops executors Spark removed or that
 * stopped reporting, resolves startup-only configuration once and ships it to every executor
 * through the plugin init map, and fails the application's jobs when executors cannot start the
 * plugin ({@link PluginStartGuard}).
 *
 * <p>Everything it receives and answers is {@link PluginWire} bytes, exceptions included: a
 * failure in {@link #receive} reaches the executor as a plain {@link IllegalArgumentException}
 * carrying the message, never as a class of ours the executor could not load.
 *
 * <p>Lifecycle: Spark calls {@link #init} while the SparkContext starts, {@link #receive} from its
 * RPC threads (concurrently), {@link #shutdown} when the context stops. One instance per driver
 * JVM is reachable through {@link #active()} while the context lives.
 */
public final class BatchGenDriverPlugin implements DriverPlugin {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenDriverPlugin.class);
  private static final AtomicReference<BatchGenDriverPlugin> ACTIVE = new AtomicReference<>();

  private final Map<String, ExecutorInfo> executors = new ConcurrentHashMap<>();
  private final long pid = ProcessHandle.current().pid();
  /** Executors' loads over time, for the job reports (2048 samples an executor at most). */
  private final JobTelemetry telemetry = new JobTelemetry(2048);
  private ProgressBoard board;
  private ProgressReporter progress;
  private PluginStartGuard startGuard;
  private MigrationCoordinator migrations;
  private Rebalancer rebalancer;

  /** The driver plugin of the running SparkContext in this JVM, if any. */
  public static Optional<BatchGenDriverPlugin> active() {
    return Optional.ofNullable(ACTIVE.get());
  }

  @Override
  public Map<String, String> init(SparkContext sc, PluginContext ctx) {
    ExecutorPluginSettings settings = ExecutorPluginSettings.fromSparkConf(sc.getConf());
    board = new ProgressBoard(settings.progressInterval());
    progress = new ProgressReporter(executors::values, board,
        settings.progressInterval().toMillis());
    startGuard = new PluginStartGuard(sc, settings);
    sc.addSparkListener(startGuard);
    Rebalancer.Settings rebalance = Rebalancer.Settings.fromSparkConf(sc.getConf());
    migrations = new MigrationCoordinator(rebalance.policy(), rebalance.bufferBytes());
    rebalancer = new Rebalancer(rebalance, migrations, executors::remove);
    sc.addSparkListener(new org.apache.spark.scheduler.SparkListener() {
      @Override
      public void onExecutorRemoved(
          org.apache.spark.scheduler.SparkListenerExecutorRemoved removed) {
        executors.remove(removed.executorId());
        migrations.executorLost(removed.executorId());
      }
    });
    ACTIVE.set(this);
    LOG.info("BatchGen driver plugin started (pid {}), executor settings {}", pid, settings);
    return settings.toInitMap();
  }

  @Override
  public Object receive(Object message) {
    try {
      Message reply = handle(PluginWire.decode(message));
      return reply == null ? null : PluginWire.encode(reply);
    } catch (RuntimeException e) {
      // Spark sends this exception back to the executor, whose RPC layer knows only JDK classes.
      LOG.warn("BatchGen driver plugin refused a message: {}", e.toString());
      throw new IllegalArgumentException("BatchGen driver plugin: " + e.getMessage());
    }
  }

  private Message handle(Message message) {
    if (message instanceof Register r) {
      executors.put(r.executorId(), new ExecutorInfo(r, null, 0));
      startGuard.registered(r.executorId());
      LOG.info("Executor {} registered: host {}, pid {}, cores {}, gpu {}", r.executorId(),
          r.host(), r.pid(), r.cores(), r.gpuAddress() == null ? "none" : r.gpuAddress());
      return new Welcome(pid, executors.size());
    }
    if (message instanceof LoadReport report) {
      if (executors.computeIfPresent(report.executorId(),
          (id, info) -> info.withReport(report)) == null) {
        return Orders.NONE; // lost (or never registered): nothing is routed to it
      }
      telemetry.record(report, System.currentTimeMillis());
      return migrations.onReport(report);
    }
    if (message instanceof TaskProgress p) {
      for (TaskReport t : p.tasks()) {
        board.report(p.executorId(), t.jobId(), t.stageId(), t.partition(), t.attemptId(),
            t.counts());
      }
      return null;
    }
    if (message instanceof StateChunk chunk) {
      return migrations.onUpload(chunk);
    }
    if (message instanceof FetchChunk fetch) {
      return migrations.onFetch(fetch);
    }
    if (message instanceof MoveDone done) {
      migrations.onMoveDone(done);
      return null;
    }
    if (message instanceof Ping) {
      return new Pong(pid, executors.size());
    }
    if (message instanceof StartFailed f) {
      LOG.error("BatchGen could not start on executor {} ({}): {}", f.executorId(), f.host(),
          f.cause());
      executors.remove(f.executorId()); // registered, then failed its start after all
      startGuard.startFailed(f.executorId(), f.host(), f.cause());
      return null;
    }
    throw new IllegalArgumentException("BatchGen driver plugin does not handle "
        + message.getClass().getSimpleName() + " messages");
  }

  /** The progress of this application's batchgen writes. */
  public ProgressBoard progress() {
    return board;
  }

  /** A snapshot of the registered executors by executor id. */
  public Map<String, ExecutorInfo> executors() {
    return Map.copyOf(executors);
  }

  /**
   * Why this application's jobs are being failed, when executors could not start the plugin;
   * empty while all is well.
   */
  public Optional<String> startFailure() {
    return Optional.ofNullable(startGuard == null ? null : startGuard.abortReason());
  }

  /** Sequences that moved to another executor and started there so far. */
  public long migratedSequences() {
    return migrations == null ? 0 : migrations.movedSequences();
  }

  /** The executors' loads over time (job reports). */
  public JobTelemetry telemetry() {
    return telemetry;
  }

  /** Every move so far and where it stands (diagnostics, tests, benchmarks). */
  public java.util.List<MoveStatus> moves() {
    return migrations == null ? java.util.List.of() : migrations.status();
  }

  @Override
  public void shutdown() {
    if (rebalancer != null) {
      rebalancer.close();
    }
    if (progress != null) {
      progress.close();
    }
    if (startGuard != null) {
      startGuard.close();
    }
    ACTIVE.compareAndSet(this, null);
  }
}
