package io.batchgen.it;

import org.apache.spark.sql.SparkSession;

/**
 * Starts Spark sessions on {@code local-cluster[N,cores,memMb]}: real executor JVMs started from
 * the Maven test classpath. The environment it needs (SPARK_HOME with an empty jars/,
 * SPARK_SCALA_VERSION, SPARK_LOCAL_IP) is set by the failsafe configuration of this module.
 */
final class LocalCluster {
  private LocalCluster() {
  }

  static SparkSession.Builder builder(String appName, int executors, int cores, int memoryMb) {
    String executorJavaOptions = System.getProperty("batchgen.it.executorJavaOptions", "");
    return SparkSession.builder()
        .appName(appName)
        .master("local-cluster[" + executors + "," + cores + "," + memoryMb + "]")
        .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
        .config("spark.executor.extraJavaOptions", executorJavaOptions)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin");
  }
}
