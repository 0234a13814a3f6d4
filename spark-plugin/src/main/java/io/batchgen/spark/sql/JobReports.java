package io.batchgen.spark.sql;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.JobTelemetry;
import io.batchgen.spark.plugin.MoveStatus;
import io.batchgen.spark.report.JobReport;
import io.batchgen.spark.report.JobReportHtml;
import io.batchgen.spark.runtime.EngineVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers a committing write job's report on the driver: the job's totals and its tasks' commit
 * messages, with the executors' load samples and the rebalancer's moves from the driver plugin
 * of this JVM ({@link BatchGenDriverPlugin#telemetry()}, {@link BatchGenDriverPlugin#moves()}).
 */
final class JobReports {
  private static final Logger LOG = LoggerFactory.getLogger(JobReports.class);

  /** When a job started, as its report needs it: the wall clock and the last move's id. */
  record Start(long millis, long lastMoveId) implements java.io.Serializable {
    /** Now, in this driver. */
    static Start now() {
      long last = BatchGenDriverPlugin.active().map(p -> p.moves().stream()
          .mapToLong(MoveStatus::moveId).max().orElse(0)).orElse(0L);
      return new Start(System.currentTimeMillis(), last);
    }
  }

  private JobReports() {
  }

  /**
   * The report page, or null when it cannot be made (logged; a report never fails a job).
   *
   * @param totals the job's rows, failed, skipped, prompt and generated tokens
   */
  static byte[] render(ResultTable table, JobOptions options, boolean overwrite, Start start,
      List<TaskCommit> commits, long[] totals) {
    try {
      long end = System.currentTimeMillis();
      JobReport.Job job = new JobReport.Job(table.jobId(), table.out().toString(),
          options.engine().modelPath(), overwrite ? "overwrite" : "append", EngineVersion.get(),
          start.millis(), end, totals[0], totals[1], totals[2], totals[3], totals[4]);
      Map<String, Long> reasons = new LinkedHashMap<>();
      List<String> errors = new ArrayList<>();
      List<JobReport.Partition> partitions = new ArrayList<>();
      long stop = 0;
      long length = 0;
      for (TaskCommit c : commits) {
        stop += c.stopRows();
        length += c.lengthRows();
        errors.addAll(c.sampleErrors());
        partitions.add(new JobReport.Partition(c.partition(), c.executor(), c.seconds(),
            c.rows(), c.failedRows(), c.generatedTokens()));
      }
      reasons.put("stop", stop);
      reasons.put("length", length);
      reasons.put("error", totals[1]);
      Optional<BatchGenDriverPlugin> plugin = BatchGenDriverPlugin.active();
      Map<String, List<JobTelemetry.Sample>> samples = plugin.map(p -> p.telemetry()
          .window(start.millis(), end)).orElse(Map.of());
      List<MoveStatus> moves = plugin.map(p -> p.moves().stream()
          .filter(m -> m.moveId() > start.lastMoveId()).toList()).orElse(List.of());
      return JobReportHtml.render(new JobReport(job, reasons, errors, partitions, samples,
          moves)).getBytes(StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      LOG.warn("Could not make the report of batchgen job {}: {}", table.jobId(), e.toString(),
          e);
      return null;
    }
  }
}
