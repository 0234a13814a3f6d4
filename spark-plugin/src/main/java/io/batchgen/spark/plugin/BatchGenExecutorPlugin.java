package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.StartFailed;
import java.util.Map;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of the BatchGen plugin: checks that this JVM can run BatchGen, then starts its
 * {@link ExecutorRuntimeHost}, which registers with the driver and reports load, and which every
 * task on the executor reaches through {@link ExecutorRuntimeHost#get()}.
 *
 * <p>Lifecycle: Spark calls {@link #init} once when the executor starts (before any task), and
 * {@link #shutdown} when it stops. A failure in init fails the executor's start: the plugin
 * first tells the driver plugin why ({@link StartFailed}, best effort and bounded), so that the
 * driver can fail the application's jobs with that cause once too many executors failed, instead
 * of the cluster manager relaunching executors forever (see {@link PluginStartGuard}).
 */
public final class BatchGenExecutorPlugin implements ExecutorPlugin {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenExecutorPlugin.class);
  static final String VECTOR_MODULE = "jdk.incubator.vector";
  /** How long a failing executor waits for the driver to take its cause before it exits. */
  private static final java.time.Duration REPORT_TIMEOUT = java.time.Duration.ofSeconds(10);

  private ExecutorRuntimeHost host;

  @Override
  public void init(PluginContext ctx, Map<String, String> extraConf) {
    ExecutorPluginSettings settings = ExecutorPluginSettings.fromInitMap(extraConf);
    DriverChannel driver = new DriverChannel(ctx, settings.registrationTimeout());
    try {
      checkJvm(settings, ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent());
      host = ExecutorRuntimeHost.start(ctx, driver, settings);
    } catch (RuntimeException e) {
      reportStartFailure(ctx, driver, e);
      driver.close();
      throw e;
    }
  }

  /**
   * Fails when this JVM cannot run BatchGen's compute backends, naming the setting that fixes it.
   *
   * @param vectorModulePresent whether {@code jdk.incubator.vector} is in the JVM's boot layer
   */
  static void checkJvm(ExecutorPluginSettings settings, boolean vectorModulePresent) {
    if (settings.vectorApiRequired() && !vectorModulePresent) {
      throw new IllegalStateException("BatchGen executor plugin cannot start: this executor JVM "
          + "lacks the Java Vector API module that BatchGen's cpu backend computes with. Add "
          + "--add-modules=" + VECTOR_MODULE + " to spark.executor.extraJavaOptions (and to "
          + "spark.driver.extraJavaOptions), or set spark.batchgen.engine.backend=reference.");
    }
  }

  private static void reportStartFailure(PluginContext ctx, DriverChannel driver,
      RuntimeException e) {
    String cause = e.getMessage() == null ? e.toString() : e.getMessage();
    LOG.error("BatchGen executor plugin failed to start on executor {}: {}", ctx.executorID(),
        cause);
    try {
      driver.askForAck(new StartFailed(ctx.executorID(), ExecutorRuntimeHost.localHostName(),
          cause), REPORT_TIMEOUT);
    } catch (RuntimeException unreachable) {
      // The driver may be what failed; Spark's executor-removed event still reaches it.
      LOG.warn("Could not tell the driver plugin why executor {} failed to start: {}",
          ctx.executorID(), unreachable.getMessage());
    }
  }

  /** Stops reporting, then closes this executor's runtimes (cancelling unfinished sequences). */
  @Override
  public void shutdown() {
    if (host != null) {
      host.close();
    }
  }
}
