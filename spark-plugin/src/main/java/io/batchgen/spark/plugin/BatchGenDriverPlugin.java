package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.Ping;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import io.batchgen.spark.plugin.PluginMessages.Register;
import io.batchgen.spark.plugin.PluginMessages.Welcome;
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
 * Driver side of the BatchGen plugin: keeps the registry of executors and their load reports
 * (the rebalancer's input) and resolves startup-only configuration once, shipping it to every
 * executor through the plugin init map.
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
  private ProgressReporter progress;

  /** The driver plugin of the running SparkContext in this JVM, if any. */
  public static Optional<BatchGenDriverPlugin> active() {
    return Optional.ofNullable(ACTIVE.get());
  }

  @Override
  public Map<String, String> init(SparkContext sc, PluginContext ctx) {
    ExecutorPluginSettings settings = ExecutorPluginSettings.fromSparkConf(sc.getConf());
    progress = new ProgressReporter(executors::values, settings.progressInterval().toMillis());
    ACTIVE.set(this);
    LOG.info("BatchGen driver plugin started (pid {}), executor settings {}", pid, settings);
    return settings.toInitMap();
  }

  @Override
  public Object receive(Object message) {
    if (message instanceof Register r) {
      executors.put(r.executorId(), new ExecutorInfo(r, null, 0));
      LOG.info("Executor {} registered: host {}, pid {}, cores {}, gpu {}", r.executorId(),
          r.host(), r.pid(), r.cores(), r.gpuAddress() == null ? "none" : r.gpuAddress());
      return new Welcome(pid, executors.size());
    }
    if (message instanceof LoadReport report) {
      executors.computeIfPresent(report.executorId(), (id, info) -> info.withReport(report));
      return null;
    }
    if (message instanceof Ping) {
      return new Pong(pid, executors.size());
    }
    throw new IllegalArgumentException("BatchGen driver plugin got an unknown message type "
        + (message == null ? "null" : message.getClass().getName())
        + "; driver and executors must run the same BatchGen version");
  }

  /** A snapshot of the registered executors by executor id. */
  public Map<String, ExecutorInfo> executors() {
    return Map.copyOf(executors);
  }

  @Override
  public void shutdown() {
    if (progress != null) {
      progress.close();
    }
    ACTIVE.compareAndSet(this, null);
  }
}
