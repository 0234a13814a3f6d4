package io.batchgen.spark.plugin;

import java.time.Duration;
import java.util.Map;
import org.apache.spark.SparkConf;

/**
 * Startup-only executor settings, resolved once on the driver from the session conf and shipped
 * to executors in the plugin init map, so every executor runs with the same values.
 *
 * @param loadReportInterval how often each executor sends its load to the driver
 * @param registerTimeout    how long an executor waits for the driver to accept its registration
 */
public record ExecutorPluginSettings(Duration loadReportInterval, Duration registerTimeout) {
  static final String LOAD_REPORT_INTERVAL = "spark.batchgen.rebalance.loadReportInterval";
  static final String REGISTER_TIMEOUT = "spark.batchgen.plugin.registerTimeout";

  public ExecutorPluginSettings {
    if (loadReportInterval.isNegative() || loadReportInterval.isZero()) {
      throw new IllegalArgumentException(LOAD_REPORT_INTERVAL + " must be positive, got "
          + loadReportInterval + "; use a duration such as 1s or 500ms");
    }
  }

  static ExecutorPluginSettings fromSparkConf(SparkConf conf) {
    return new ExecutorPluginSettings(
        Duration.ofMillis(conf.getTimeAsMs(LOAD_REPORT_INTERVAL, "1s")),
        Duration.ofMillis(conf.getTimeAsMs(REGISTER_TIMEOUT, "30s")));
  }

  Map<String, String> toInitMap() {
    return Map.of(
        LOAD_REPORT_INTERVAL, Long.toString(loadReportInterval.toMillis()),
        REGISTER_TIMEOUT, Long.toString(registerTimeout.toMillis()));
  }

  static ExecutorPluginSettings fromInitMap(Map<String, String> map) {
    return new ExecutorPluginSettings(
        Duration.ofMillis(Long.parseLong(map.getOrDefault(LOAD_REPORT_INTERVAL, "1000"))),
        Duration.ofMillis(Long.parseLong(map.getOrDefault(REGISTER_TIMEOUT, "30000"))));
  }
}
