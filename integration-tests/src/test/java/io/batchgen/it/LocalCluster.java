package io.batchgen.it;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import io.batchgen.cli.LocalClusterConf;
import java.time.Duration;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.awaitility.Awaitility;

/**
 * Starts Spark sessions on {@code local-cluster[N,cores,memMb]}: real executor JVMs started from
 * the Maven test classpath, configured by the product's {@link LocalClusterConf}. The environment
 * it needs (SPARK_HOME with an empty jars/, SPARK_SCALA_VERSION, SPARK_LOCAL_IP) is set by the
 * failsafe configuration of this module.
 */
final class LocalCluster {
  private LocalCluster() {
  }

  static SparkSession.Builder builder(String appName, int executors, int cores, int memoryMb) {
    String executorJavaOptions = System.getProperty("batchgen.it.executorJavaOptions", "");
    return LocalClusterConf.configure(SparkSession.builder().appName(appName),
            LocalClusterConf.master(executors, cores, memoryMb))
        // The project's flags plus the tests' quiet logging.
        .config("spark.executor.extraJavaOptions", executorJavaOptions)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin");
  }

  /**
   * Waits until {@code n} executor plugins have registered with the driver plugin of this JVM and
   * each has sent a load report, so that tasks submitted next can land on every executor.
   */
  static Map<String, ExecutorInfo> awaitExecutors(int n) {
    return Awaitility.await("BatchGen executor plugins registering").atMost(Duration.ofMinutes(2))
        .until(() -> BatchGenDriverPlugin.active().orElseThrow().executors(),
            m -> m.values().stream().filter(i -> i.lastReport() != null).count() >= n);
  }
}
