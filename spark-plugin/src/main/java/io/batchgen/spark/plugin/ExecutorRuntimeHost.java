package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.Ping;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import io.batchgen.spark.plugin.PluginMessages.Register;
import io.batchgen.spark.plugin.PluginMessages.Welcome;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import io.batchgen.spark.runtime.ExecutorRuntime;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-executor-JVM service that BatchGen tasks share: it knows its executor's identity and
 * device, talks to the driver plugin (registration, load reports), and owns the executor's one
 * {@link ExecutorRuntime} (models and coroutine runtimes), whose load it reports.
 *
 * <p>Started by {@link BatchGenExecutorPlugin#init} before any task runs and closed by the
 * plugin's shutdown (which closes the runtime). Tasks reach it with {@link #get()} from any
 * thread: the one reference from the executor plugin to its tasks, set by init and cleared by
 * shutdown, since Spark gives tasks no handle on the plugin that runs beside them.
 */
public final class ExecutorRuntimeHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorRuntimeHost.class);
  private static final AtomicReference<ExecutorRuntimeHost> CURRENT = new AtomicReference<>();

  private final DriverChannel driver;
  private final String executorId;
  private final long pid = ProcessHandle.current().pid();
  private final String gpuAddress;
  private final Welcome welcome;
  private final ScheduledExecutorService reporter;
  private final AtomicLong reportSequence = new AtomicLong();
  private final ExecutorRuntime runtime;
  private final MigrationAgent migrations;
  private final RunningTasks tasks = new RunningTasks();
  private final long reportWaitMs;

  private ExecutorRuntimeHost(PluginContext ctx, DriverChannel driver,
      ExecutorPluginSettings settings) {
    this.driver = driver;
    this.executorId = ctx.executorID();
    this.gpuAddress = firstGpuAddress(ctx);
    ExecutorCores cores = ExecutorCores.of(ctx);
    if (cores.guessed()) {
      LOG.warn("Executor {} computes on {}", executorId, cores.source());
    } else {
      LOG.info("Executor {} was given {} {}: {}", executorId, cores.count(),
          cores.count() == 1 ? "core" : "cores", cores.source());
    }
    this.welcome = driver.ask(new Register(executorId, localHostName(), pid, cores.count(),
        gpuAddress), Welcome.class);
    this.runtime = new ExecutorRuntime(cores.count(), Runtime.getRuntime().maxMemory(),
        gpuAddress);
    this.migrations = new MigrationAgent(executorId, driver, runtime, settings.leaseTimeout(),
        settings.migration());
    registerMetrics(ctx.metricRegistry());
    this.reporter = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "batchgen-load-report");
      t.setDaemon(true);
      return t;
    });
    long periodMs = settings.loadReportInterval().toMillis();
    this.reportWaitMs = Math.max(1000, 2 * periodMs);
    reporter.scheduleAtFixedRate(this::sendLoadReport, 0, periodMs, TimeUnit.MILLISECONDS);
    reporter.scheduleAtFixedRate(this::sendTaskProgress, periodMs, periodMs,
        TimeUnit.MILLISECONDS);
  }

  /**
   * The executor's figures in Spark's metrics system (sinks, the REST API's executor metrics),
   * under {@code plugin.io.batchgen.spark.BatchGenPlugin.*}: its runtimes' load and its
   * migrations.
   */
  private void registerMetrics(com.codahale.metrics.MetricRegistry registry) {
    registry.register("runtime.queuedSequences",
        (com.codahale.metrics.Gauge<Integer>) () -> runtime.load().queuedSequences());
    registry.register("runtime.activeSequences",
        (com.codahale.metrics.Gauge<Integer>) () -> runtime.load().activeSequences());
    registry.register("runtime.tokensGenerated",
        (com.codahale.metrics.Gauge<Long>) () -> runtime.load().tokensGenerated());
    registry.register("migration.sequencesOut",
        (com.codahale.metrics.Gauge<Long>) () -> migrations.counts().movedOut());
    registry.register("migration.sequencesIn",
        (com.codahale.metrics.Gauge<Long>) () -> migrations.counts().movedIn());
    registry.register("migration.sequencesWithKv",
        (com.codahale.metrics.Gauge<Long>) () -> migrations.counts().withKv());
    registry.register("migration.bytesOut",
        (com.codahale.metrics.Gauge<Long>) () -> migrations.counts().bytesOut());
    registry.register("migration.sequencesTakenBack",
        (com.codahale.metrics.Gauge<Long>) () -> migrations.counts().reclaimed());
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

  /** The executor's runtime: models and the coroutine runtimes that run them. */
  public ExecutorRuntime runtime() {
    return runtime;
  }

  /** The batchgen write tasks running here, whose progress this host reports. */
  public RunningTasks tasks() {
    return tasks;
  }

  /**
   * Sends a load report now and waits for the driver's answer (at most twice the report
   * interval, at least a second). A write task calls this when its rows are done, before it
   * commits, so the job's report sees the work of its last moments: a short job can start and
   * end between two periodic reports. The report goes out on the reporter's thread, so reports
   * stay in order; a report that is not answered in time is given up on, as a periodic one is.
   */
  public void reportLoadNow() {
    Future<?> sent;
    try {
      sent = reporter.submit(this::sendLoadReport);
    } catch (RejectedExecutionException e) {
      return; // closing
    }
    try {
      sent.get(reportWaitMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.debug("Load report from executor {} at a task's end not answered in {} ms: {}",
          executorId, reportWaitMs, e.toString());
    }
  }

  /** Sends what this executor's running write tasks have done, when any run. */
  private void sendTaskProgress() {
    try {
      List<PluginMessages.TaskReport> reports = tasks.reports();
      if (!reports.isEmpty()) {
        driver.send(new PluginMessages.TaskProgress(executorId, reports));
      }
    } catch (java.io.IOException | RuntimeException e) {
      // Progress only: the next report supersedes this one.
      LOG.debug("Task progress from executor {} not sent: {}", executorId, e.toString());
    }
  }

  /**
   * Reports this executor's load and takes the driver's orders in the answer (the plugin RPC only
   * goes executor to driver, so the driver's orders are pulled this way).
   */
  private void sendLoadReport() {
    LoadReport report = null;
    try {
      report = migrations.report(reportSequence.incrementAndGet());
      migrations.onOrders(driver.ask(report, Orders.class));
    } catch (RuntimeException e) {
      // The driver may be busy or going away; the next report supersedes this one.
      if (report != null) {
        migrations.reportFailed(report);
      }
      LOG.debug("Load report from executor {} not answered: {}", executorId, e.toString());
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
    migrations.close();
    runtime.close();
    driver.close();
    CURRENT.compareAndSet(this, null);
  }
}
