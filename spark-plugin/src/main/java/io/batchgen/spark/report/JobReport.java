package io.batchgen.spark.report;

import io.batchgen.spark.plugin.JobTelemetry;
import io.batchgen.spark.plugin.MoveStatus;
import java.util.List;
import java.util.Map;

/**
 * What one batchgen job's report shows, gathered by the driver when the job commits: the job's
 * counts, what its write tasks reported (finish reasons, error samples, each partition's time),
 * the executors' load samples during the job ({@link JobTelemetry}) and the moves the rebalancer
 * made meanwhile. Rendered by {@link JobReportHtml}.
 *
 * @param job           the job's identity and totals
 * @param finishReasons rows by finish reason ({@code stop}, {@code length}, {@code error})
 * @param sampleErrors  some failed rows' errors (a few per task), no prompt text
 * @param partitions    each committed write task
 * @param telemetry     per executor, its samples during the job (the first may precede it)
 * @param moves         the moves ordered during the job
 */
public record JobReport(Job job, Map<String, Long> finishReasons, List<String> sampleErrors,
    List<Partition> partitions, Map<String, List<JobTelemetry.Sample>> telemetry,
    List<MoveStatus> moves) {

  public JobReport {
    finishReasons = Map.copyOf(finishReasons);
    sampleErrors = List.copyOf(sampleErrors);
    partitions = List.copyOf(partitions);
    telemetry = Map.copyOf(telemetry);
    moves = List.copyOf(moves);
  }

  /**
   * The job: where it wrote, with which model, when, and its totals.
   *
   * @param startMillis   when the write was planned (wall clock)
   * @param endMillis     when it committed
   * @param skippedRows   input rows an earlier run had finished (resume)
   */
  public record Job(String jobId, String output, String model, String mode,
      String engineVersion, long startMillis, long endMillis, long rows, long failedRows,
      long skippedRows, long promptTokens, long generatedTokens) {

    /** Seconds from planning to commit. */
    public double seconds() {
      return Math.max(0, endMillis - startMillis) / 1000.0;
    }
  }

  /**
   * One committed write task.
   *
   * @param seconds the task's time from its first row to its commit
   */
  public record Partition(int partition, String executor, double seconds, long rows,
      long failedRows, long generatedTokens) {
  }
}
