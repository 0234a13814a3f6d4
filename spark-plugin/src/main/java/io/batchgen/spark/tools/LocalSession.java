package io.batchgen.spark.tools;

import io.batchgen.spark.BatchGenJob;
import org.apache.spark.sql.SparkSession;

/** Spark sessions for the command-line tools: local (or a given master) with the plugin. */
final class LocalSession {
  private LocalSession() {
  }

  static SparkSession start(String appName, String master) {
    SparkSession spark = BatchGenJob.withPlugin(SparkSession.builder()
        .appName(appName)
        .master(master)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8"))
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    return spark;
  }
}
