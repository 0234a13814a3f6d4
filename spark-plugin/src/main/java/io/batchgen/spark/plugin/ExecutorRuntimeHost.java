package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.Ping;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import io.batchgen.spark.plugin.PluginMessages.Register;
import io.batchgen.spark.plugin.PluginMessages.Welcome;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-executor-JVM service that BatchGen tasks share: it knows its executor's identity and
 * device, talks to the driver plugin, and (as later layers add them) hosts the one runtime of the
 * executor.
 *
 * <p>Started by {@link BatchGenExecutorPlugin#init} before any task runs; tasks reach it with
 * {@link #get()} from any thread; closed by the plugin's shutdown.
 */
public final class ExecutorRuntimeHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorRuntimeHost.class);
  private static final AtomicReference<ExecutorRuntimeHost> CURRENT = new AtomicReference<>();

  /** What an executor reports as its load; supplied by the runtime once one is running. */
  public interface LoadSource {
    int queuedSequences();

    int activeSequences();

    long tokensGenerated();

    long tokensRemaining();
  }

  private static final LoadSource IDLE = new LoadSource() {
    @Override
    public int queuedSequences() {
      return 0;
    }

    @Override
    public int activeSequences() {
      return 0;
    }

    @Override
    public long tokensGenerated() {
      return 0;
    }

    @Override
    public long tokensRemaining() {
      return 0;
    }
  };

  private final DriverChannel driver;
  private final String executorId;
  private final long pid = ProcessHandle.current().pid();
  private final String gpuAddress;
  private final Welcome welcome;
  private final ScheduledExecutorService reporter;
  private final AtomicLong reportSequence = new AtomicLong();
  private volatile LoadSource loadSource = IDLE;

  private ExecutorRuntimeHost(PluginContext ctx, DriverChannel driver,
      ExecutorPluginSettings settings) {
    this.driver = driver;
    this.executorId = ctx.executorID();
    this.gpuAddress = firstGpuAddress(ctx);
    this.welcome = driver.ask(new Register(executorId, localHostName(), pid,
        Runtime.getRuntime().availableProcessors(), gpuAddress), Welcome.class);
    this.reporter = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "batchgen-load-report");
      t.setDaemon(true);
      return t;
    });
    long periodMs = settings.loadReportInterval().toMillis();
    reporter.scheduleAtFixedRate(this::sendLoadReport, 0, periodMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Registers this executor with the driver plugin (bounded by the channel's timeout) and starts
   * its load reports.
   *
   * @throws IllegalStateException naming the executor and the cause when registration fails
   */
  static ExecutorRuntimeHost start(PluginContext ctx, DriverChannel driver,
      ExecutorPluginSettings settings) {
    ExecutorRuntimeHost host;
    try {
      host = new ExecutorRuntimeHost(ctx, driver, settings);
    } catch (RuntimeException e) {
      throw new IllegalStateException("BatchGen executor plugin could not register executor "
          + ctx.executorID() + " with the driver: " + e.getMessage(), e);
    }
    ExecutorRuntimeHost previous = CURRENT.getAndSet(host);
    if (previous != null) {
      previous.close();
    }
    LOG.info("BatchGen executor host {} started (pid {}, gpu {})", host.executorId, host.pid,
        host.gpuAddress == null ? "none" : host.gpuAddress);
    return host;
  }

  /**
   * The host of this executor JVM.
   *
   * @throws IllegalStateException when the BatchGen plugin is not running in this JVM
   */
  public static ExecutorRuntimeHost get() {
    ExecutorRuntimeHost host = CURRENT.get();
    if (host == null) {
      throw new IllegalStateException("The BatchGen plugin is not running on this executor. Set "
          + "spark.plugins=io.batchgen.spark.BatchGenPlugin when creating the Spark session "
          + "(it cannot be added to a running session).");
    }
    return host;
  }

  public String executorId() {
    return executorId;
  }

  public long pid() {
    return pid;
  }

  /** The GPU address Spark's resource scheduling gave this executor, or null when none. */
  public String gpuAddress() {
    return gpuAddress;
  }

  /** The driver's answer to this executor's registration. */
  public Welcome welcome() {
    return welcome;
  }

  /** Round trip to the driver plugin; blocks up to spark.batchgen.plugin.registrationTimeout. */
  public Pong pingDriver() {
    try {
      return driver.ask(new Ping(executorId, pid), Pong.class);
    } catch (RuntimeException e) {
      throw new IllegalStateException("BatchGen executor " + executorId
          + " could not reach the driver plugin: " + e.getMessage(), e);
    }
  }

  /** Installs what this executor reports as its load (the runtime, once one runs here). */
  public void setLoadSource(LoadSource source) {
    this.loadSource = source == null ? IDLE : source;
  }

  private void sendLoadReport() {
    try {
      LoadSource s = loadSource;
      driver.send(new LoadReport(executorId, reportSequence.incrementAndGet(), s.queuedSequences(),
          s.activeSequences(), s.tokensGenerated(), s.tokensRemaining()));
    } catch (java.io.IOException | RuntimeException e) {
      // The driver may be going away; a missed report is harmless, the next one supersedes it.
      LOG.debug("Load report from executor {} not sent: {}", executorId, e.toString());
    }
  }

  // PluginContext.hostname() reads the executor's RPC server address, which a client-mode
  // executor does not have (it NPEs), so ask the OS.
  static String localHostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "unknown";
    }
  }

  private static String firstGpuAddress(PluginContext ctx) {
    ResourceInformation gpu = ctx.resources().get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return null;
    }
    return gpu.addresses()[0];
  }

  @Override
  public void close() {
    reporter.shutdownNow();
    driver.close();
    CURRENT.compareAndSet(this, null);
  }
}
