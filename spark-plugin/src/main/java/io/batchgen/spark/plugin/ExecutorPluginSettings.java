package io.batchgen.spark.plugin;

import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * Startup-only plugin settings, resolved once on the driver from the session conf; the executor
 * part is shipped to executors in the plugin init map, so every executor runs with the same
 * values.
 *
 * @param loadReportInterval  how often each executor sends its load to the driver
 * @param progressInterval    how often the driver logs its progress line while work runs
 * @param registrationTimeout how long an executor plugin may take to register with the driver
 * @param maxStartFailures    failed executor plugin starts before the driver fails the jobs; 0
 *                            never
 * @param vectorApiRequired   whether executors must have the Vector API module (every backend
 *                            but {@code reference} computes with it)
 * @param leaseTimeout        how long an executor waits for sequences it moved elsewhere before
 *                            it runs them again itself
 * @param migration           how an executor sends the state of sequences it moves
 */
public record ExecutorPluginSettings(Duration loadReportInterval, Duration progressInterval,
    Duration registrationTimeout, int maxStartFailures, boolean vectorApiRequired,
    Duration leaseTimeout, MigrationAgent.Upload migration) {
  private static final String LOAD_REPORT_INTERVAL = BatchGenConfig.LOAD_REPORT_INTERVAL_MS.key();
  private static final String REGISTRATION_TIMEOUT = BatchGenConfig.REGISTRATION_TIMEOUT_MS.key();
  private static final String VECTOR_API_REQUIRED = "vectorApiRequired";
  private static final String LEASE_TIMEOUT = BatchGenConfig.REBALANCE_LEASE_MS.key();
  private static final String CHUNK_SIZE = BatchGenConfig.REBALANCE_CHUNK_BYTES.key();
  private static final String UPLOAD_RATE = BatchGenConfig.REBALANCE_UPLOAD_RATE.key();

  public ExecutorPluginSettings {
    requirePositive(loadReportInterval, LOAD_REPORT_INTERVAL);
    requirePositive(registrationTimeout, REGISTRATION_TIMEOUT);
  }

  private static void requirePositive(Duration d, String key) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be positive, got " + d
          + "; use a duration such as 1s or 500ms");
    }
  }

  static ExecutorPluginSettings fromSparkConf(SparkConf conf) {
    Map<String, String> batchgen = new HashMap<>();
    for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.batchgen.")) {
      batchgen.put("spark.batchgen." + kv._1(), kv._2());
    }
    ResolvedConfig resolved = ResolvedConfig.resolve(Map.of(), batchgen);
    return new ExecutorPluginSettings(
        Duration.ofMillis(resolved.get(BatchGenConfig.LOAD_REPORT_INTERVAL_MS)),
        Duration.ofMillis(resolved.get(BatchGenConfig.PROGRESS_INTERVAL_MS)),
        Duration.ofMillis(resolved.get(BatchGenConfig.REGISTRATION_TIMEOUT_MS)),
        resolved.get(BatchGenConfig.MAX_START_FAILURES),
        !"reference".equals(resolved.get(BatchGenConfig.BACKEND)),
        Duration.ofMillis(resolved.get(BatchGenConfig.REBALANCE_LEASE_MS)),
        new MigrationAgent.Upload(resolved.get(BatchGenConfig.REBALANCE_CHUNK_BYTES).intValue(),
            resolved.get(BatchGenConfig.REBALANCE_UPLOAD_RATE)));
  }

  /** What executors need, as the plugin init map (strings only: it crosses to executors). */
  Map<String, String> toInitMap() {
    return Map.of(LOAD_REPORT_INTERVAL, Long.toString(loadReportInterval.toMillis()),
        REGISTRATION_TIMEOUT, Long.toString(registrationTimeout.toMillis()),
        VECTOR_API_REQUIRED, Boolean.toString(vectorApiRequired),
        LEASE_TIMEOUT, Long.toString(leaseTimeout.toMillis()),
        CHUNK_SIZE, Integer.toString(migration.chunkBytes()),
        UPLOAD_RATE, Long.toString(migration.maxBytesPerSecond()));
  }

  static ExecutorPluginSettings fromInitMap(Map<String, String> map) {
    return new ExecutorPluginSettings(
        Duration.ofMillis(Long.parseLong(map.getOrDefault(LOAD_REPORT_INTERVAL, "1000"))),
        Duration.ofSeconds(10),
        Duration.ofMillis(Long.parseLong(map.getOrDefault(REGISTRATION_TIMEOUT, "30000"))),
        0,
        Boolean.parseBoolean(map.getOrDefault(VECTOR_API_REQUIRED, "true")),
        Duration.ofMillis(Long.parseLong(map.getOrDefault(LEASE_TIMEOUT, "600000"))),
        new MigrationAgent.Upload(
            Integer.parseInt(map.getOrDefault(CHUNK_SIZE, Integer.toString(4 << 20))),
            Long.parseLong(map.getOrDefault(UPLOAD_RATE, "0"))));
  }
}
