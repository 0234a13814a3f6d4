package io.batchgen.spark;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.BatchGenExecutorPlugin;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * The class Spark loads by name ({@code spark.plugins=io.batchgen.spark.BatchGenPlugin}). A thin
 * shell: the driver side ({@link BatchGenDriverPlugin}) tracks executors and hosts the rebalancer;
 * the executor side ({@link BatchGenExecutorPlugin}) hosts the one BatchGen runtime of its JVM,
 * which every task on that executor shares.
 */
public final class BatchGenPlugin implements SparkPlugin {

  @Override
  public DriverPlugin driverPlugin() {
    return new BatchGenDriverPlugin();
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new BatchGenExecutorPlugin();
  }
}
