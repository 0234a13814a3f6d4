package io.batchgen.spark.progress;

import io.batchgen.core.progress.JobProgress;
import io.batchgen.core.progress.JobSize;
import io.batchgen.core.progress.TaskAttempt;
import io.batchgen.core.progress.TaskCounts;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The progress of one running batchgen write, from its planning ({@code Write.toBatch}) to its
 * commit or abort, and the Spark listener that feeds it what Spark knows:
 *
 * <ul>
 *   <li>an attempt that ended without success (failed, killed, its commit denied) stops counting
 *       at once, as do the attempts of a removed executor;
 *   <li>when planning did not know the row count (a DataFrame other than a Parquet scan), the
 *       records written by the shuffle that feeds the write stage are its rows: Spark inserts that
 *       shuffle to cluster the rows by id, and its map stage finishes before a write task starts.
 * </ul>
 *
 * <p>While the write runs, its Spark jobs carry a description with the job's size (Spark fixes a
 * job's description when the job starts, so the live figures are in the driver log and on the
 * command line). Stages are told apart by the SQL execution the write runs in.
 */
public final class WriteProgress {
  private static final String EXECUTION_ID = "spark.sql.execution.id";
  private static final String JOB_DESCRIPTION = "spark.job.description";

  private final String jobId;
  private final JobProgress progress;
  private final SparkContext sc;
  private final Listener listener;
  private final Thread planningThread = Thread.currentThread();
  private final String previousDescription;
  private final Runnable onEnd;
  private final int tasks;

  WriteProgress(SparkContext sc, String jobId, JobProgress progress, String output, int tasks,
      Runnable onEnd) {
    this.sc = sc;
    this.jobId = jobId;
    this.progress = progress;
    this.onEnd = onEnd;
    this.tasks = tasks;
    progress.tasks(tasks);
    this.previousDescription = sc.getLocalProperty(JOB_DESCRIPTION);
    String mine = describe(progress.size(), tasks, output);
    sc.setJobDescription(previousDescription == null ? mine : previousDescription + " | " + mine);
    this.listener = new Listener(sc.getLocalProperty(EXECUTION_ID));
    sc.addSparkListener(listener);
  }

  /** What the write's Spark jobs are called in the UI: the job's size as planned. */
  static String describe(JobSize size, int tasks, String output) {
    StringBuilder b = new StringBuilder("batchgen write to ").append(output).append(": ");
    if (size.rowsKnown()) {
      b.append(String.format(Locale.ROOT, "%,d rows (%s), ", size.rows(), size.basis()));
    }
    b.append(tasks).append(" tasks");
    if (size.promptTokens() >= 0) {
      b.append(String.format(Locale.ROOT, ", ~%,d prompt tokens", size.promptTokens()));
    }
    if (size.maxNewTokens() >= 0) {
      b.append(", up to ").append(size.maxNewTokens()).append(" new tokens a row");
    }
    return b.toString();
  }

  public String jobId() {
    return jobId;
  }

  public JobProgress progress() {
    return progress;
  }

  /** A running attempt's counts, from its executor's report. */
  void report(String executorId, int stageId, int partition, long attemptId, TaskCounts counts) {
    progress.report(new TaskAttempt(partition, attemptId, executorId), counts);
    learnRowsFrom(stageId);
  }

  private void learnRowsFrom(int writeStage) {
    if (!progress.size().rowsKnown()) {
      listener.inputRows(writeStage).ifPresent(rows ->
          progress.learnRows(rows, "input shuffle records"));
    }
  }

  /** A task committed (Spark calls the write's {@code onDataWriterCommit} once per partition). */
  public void taskCommitted(int partition, TaskCounts counts) {
    progress.taskCommitted(partition, counts);
  }

  /** The write committed ({@code committed}) or was aborted; ends the tracking. Idempotent. */
  public void end(boolean committed) {
    if (committed) {
      progress.committed();
    } else {
      progress.failed();
    }
    sc.removeSparkListener(listener);
    // The description is a local property of the thread that planned the write (which also
    // commits it); give that thread back what it had.
    if (Thread.currentThread() == planningThread) {
      sc.setJobDescription(previousDescription);
    }
    onEnd.run();
  }

  /** Spark's view of the write: its stages, failed attempts, lost executors. */
  private final class Listener extends SparkListener {
    private final String executionId;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final Map<Integer, int[]> parents = new ConcurrentHashMap<>();
    /** Shuffle id of each shuffle map stage. */
    private final Map<Integer, Integer> shuffleOf = new ConcurrentHashMap<>();
    /** Records written, by shuffle id (not stage: a later job reruns a written shuffle's map
     * stage under a new id, and skips it). */
    private final Map<Integer, Long> shuffleRecords = new ConcurrentHashMap<>();

    Listener(String executionId) {
      this.executionId = executionId;
    }

    private boolean mine(java.util.Properties properties) {
      return executionId == null || (properties != null
          && executionId.equals(properties.getProperty(EXECUTION_ID)));
    }

    private void know(StageInfo info) {
      stages.add(info.stageId());
      parents.put(info.stageId(), CollectionConverters.asJava(info.parentIds()).stream()
          .mapToInt(id -> (Integer) id).toArray());
      if (info.shuffleDepId().isDefined()) {
        shuffleOf.put(info.stageId(), (Integer) info.shuffleDepId().get());
      }
    }

    @Override
    public void onJobStart(SparkListenerJobStart start) {
      if (mine(start.properties())) {
        CollectionConverters.asJava(start.stageInfos()).forEach(this::know);
      }
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
      if (mine(submitted.properties())) {
        StageInfo info = submitted.stageInfo();
        know(info);
        // The write's own stage (a result stage, one task per partition) starts once its input
        // shuffle is written; tasks' reports name it too, but a short job may end before any.
        if (info.shuffleDepId().isEmpty() && info.numTasks() == tasks) {
          learnRowsFrom(info.stageId());
        }
      }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted completed) {
      StageInfo info = completed.stageInfo();
      if (stages.contains(info.stageId()) && info.shuffleDepId().isDefined()
          && info.failureReason().isEmpty() && info.taskMetrics() != null) {
        shuffleRecords.put((Integer) info.shuffleDepId().get(),
            info.taskMetrics().shuffleWriteMetrics().recordsWritten());
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (stages.contains(end.stageId()) && !end.taskInfo().successful()) {
        progress.attemptEnded(end.taskInfo().taskId());
      }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
      progress.executorLost(removed.executorId());
    }

    /**
     * The rows the write stage reads: the records its one parent shuffle wrote, once that
     * shuffle's map stage finished. Empty with no parent (the write reads a scan directly) or
     * several (a join), where the records are not the rows.
     */
    OptionalLong inputRows(int writeStage) {
      int[] p = parents.get(writeStage);
      Integer shuffle = p == null || p.length != 1 ? null : shuffleOf.get(p[0]);
      Long records = shuffle == null ? null : shuffleRecords.get(shuffle);
      return records == null ? OptionalLong.empty() : OptionalLong.of(records);
    }
  }
}
