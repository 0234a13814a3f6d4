package io.batchgen.cli;

import io.batchgen.spark.BatchGenJob;
import org.apache.spark.sql.SparkSession;

/**
 * Spark sessions for the command-line tools: local (or a given master) with the plugin. A
 * {@code local-cluster[N,c,m]} master gets what it needs to start executor JVMs from this JVM's
 * classpath ({@link LocalClusterConf}).
 */
final class LocalSession {
  private LocalSession() {
  }

  static SparkSession start(String appName, String master) {
    SparkSession.Builder builder = SparkSession.builder()
        .appName(appName)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8");
    if (LocalClusterConf.isLocalCluster(master)) {
      LocalClusterConf.configure(builder, master);
    } else {
      builder.master(master);
    }
    SparkSession spark = BatchGenJob.withPlugin(builder).getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    return spark;
  }
}
