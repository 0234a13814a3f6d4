package io.batchgen.spark.plugin;

import io.batchgen.spark.runtime.ExecutorRuntimes;
import java.util.Map;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;

/**
 * Executor side of the BatchGen plugin: starts this JVM's {@link ExecutorRuntimeHost}, which
 * registers with the driver and reports load, and which every task on the executor reaches
 * through {@link ExecutorRuntimeHost#get()}.
 *
 * <p>Lifecycle: Spark calls {@link #init} once when the executor starts (before any task), and
 * {@link #shutdown} when it stops. A failure in init fails the executor's start, which Spark
 * reports and retries elsewhere.
 */
public final class BatchGenExecutorPlugin implements ExecutorPlugin {
  private ExecutorRuntimeHost host;

  @Override
  public void init(PluginContext ctx, Map<String, String> extraConf) {
    host = ExecutorRuntimeHost.start(ctx, ExecutorPluginSettings.fromInitMap(extraConf));
    host.setLoadSource(new ExecutorRuntimeHost.LoadSource() {
      @Override
      public int queuedSequences() {
        return ExecutorRuntimes.queuedSequences();
      }

      @Override
      public int activeSequences() {
        return ExecutorRuntimes.activeSequences();
      }

      @Override
      public long tokensGenerated() {
        return ExecutorRuntimes.tokensGenerated();
      }

      @Override
      public long tokensRemaining() {
        return ExecutorRuntimes.tokensRemaining();
      }
    });
  }

  /** Stops reporting, then closes this executor's runtimes (cancelling unfinished sequences). */
  @Override
  public void shutdown() {
    if (host != null) {
      host.close();
    }
    ExecutorRuntimes.closeAll();
  }
}
