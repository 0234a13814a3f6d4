package io.batchgen.spark.plugin;

import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * Startup-only executor settings, resolved once on the driver from the session conf and shipped
 * to executors in the plugin init map, so every executor runs with the same values.
 *
 * @param loadReportInterval how often each executor sends its load to the driver
 * @param progressInterval   how often the driver logs its progress line while work runs
 */
public record ExecutorPluginSettings(Duration loadReportInterval, Duration progressInterval) {
  private static final String LOAD_REPORT_INTERVAL = BatchGenConfig.LOAD_REPORT_INTERVAL_MS.key();

  public ExecutorPluginSettings {
    if (loadReportInterval.isNegative() || loadReportInterval.isZero()) {
      throw new IllegalArgumentException(LOAD_REPORT_INTERVAL + " must be positive, got "
          + loadReportInterval + "; use a duration such as 1s or 500ms");
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
        Duration.ofMillis(resolved.get(BatchGenConfig.PROGRESS_INTERVAL_MS)));
  }

  Map<String, String> toInitMap() {
    return Map.of(LOAD_REPORT_INTERVAL, Long.toString(loadReportInterval.toMillis()));
  }

  static ExecutorPluginSettings fromInitMap(Map<String, String> map) {
    return new ExecutorPluginSettings(
        Duration.ofMillis(Long.parseLong(map.getOrDefault(LOAD_REPORT_INTERVAL, "1000"))),
        Duration.ofSeconds(10));
  }
}
