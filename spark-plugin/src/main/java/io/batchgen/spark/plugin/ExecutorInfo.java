package io.batchgen.spark.plugin;

/**
 * What the driver knows of one executor: its registration and its latest load report.
 *
 * @param lastReport null until the first report arrives
 */
public record ExecutorInfo(PluginMessages.Register registration, PluginMessages.LoadReport lastReport,
    long reportsReceived) {

  ExecutorInfo withReport(PluginMessages.LoadReport report) {
    if (lastReport != null && report.sequence() <= lastReport.sequence()) {
      return this;
    }
    return new ExecutorInfo(registration, report, reportsReceived + 1);
  }
}
