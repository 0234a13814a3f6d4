package io.batchgen.spark.sql;

import io.batchgen.spark.config.ResolvedConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import scala.jdk.javaapi.CollectionConverters;

/** Resolves DataFrame options against the active session's {@code spark.batchgen.*} conf. */
final class SessionOptions {
  private SessionOptions() {
  }

  static ResolvedConfig resolve(Map<String, String> options) {
    Map<String, String> session = new HashMap<>();
    SparkSession spark = SparkSession.active();
    for (Map.Entry<String, String> e : CollectionConverters.asJava(spark.conf().getAll())
        .entrySet()) {
      if (e.getKey().startsWith("spark.batchgen.")) {
        session.put(e.getKey(), e.getValue());
      }
    }
    return ResolvedConfig.resolve(options, session);
  }

  /** Partitions to use: the option when positive, else the session's default parallelism. */
  static int partitions(JobOptions options) {
    return options.numPartitions() > 0 ? options.numPartitions()
        : SparkSession.active().sparkContext().defaultParallelism();
  }
}
