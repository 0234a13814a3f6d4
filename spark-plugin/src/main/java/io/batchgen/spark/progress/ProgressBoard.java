package io.batchgen.spark.progress;

import io.batchgen.core.progress.JobProgress;
import io.batchgen.core.progress.JobSize;
import io.batchgen.core.progress.TaskCounts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.SparkContext;

/**
 * The driver's registry of running batchgen writes and their progress. Owned by the driver
 * plugin (created in its init, reachable through {@code BatchGenDriverPlugin.active()}).
 *
 * <p>A caller that knows its input before it writes (the {@code BatchGenJob}: Parquet footers)
 * {@linkplain #plan plans} the job's progress and sets the returned key as the SparkContext
 * local property {@link #PLAN_PROPERTY} around the write; the write, planned on that thread,
 * takes the planned progress over. Any other write starts with what the write itself knows (its
 * task count). Thread-safe.
 */
public final class ProgressBoard {
  /** Local property naming the planned progress a write on this thread takes over. */
  public static final String PLAN_PROPERTY = "batchgen.progress.plan";

  private final Duration interval;
  private final Map<String, JobProgress> planned = new ConcurrentHashMap<>();
  private final Map<String, WriteProgress> running = new ConcurrentHashMap<>();
  private final Queue<JobProgress> ended = new ConcurrentLinkedQueue<>();
  private volatile JobProgress last;

  /** @param interval how often progress is shown as plain lines (the driver log, non-terminals) */
  public ProgressBoard(Duration interval) {
    this.interval = interval;
  }

  public Duration interval() {
    return interval;
  }

  /**
   * Plans a job's progress under {@code key} before its write starts. The caller removes the
   * plan with {@link #unplan} once the write has ended (a write that fails before it starts
   * never takes it over).
   */
  public JobProgress plan(String key, String name, JobSize size) {
    JobProgress p = new JobProgress(name, size);
    planned.put(key, p);
    return p;
  }

  public void unplan(String key) {
    planned.remove(key);
  }

  /**
   * A write is about to run as {@code tasks} tasks: its progress (planned on this thread, or
   * new) is tracked until {@link WriteProgress#end}.
   */
  public WriteProgress begin(SparkContext sc, String jobId, String output, int tasks) {
    String key = sc.getLocalProperty(PLAN_PROPERTY);
    JobProgress p = key == null ? null : planned.remove(key);
    if (p == null) {
      p = new JobProgress("batchgen write " + jobId, JobSize.UNKNOWN);
    }
    JobProgress progress = p;
    WriteProgress w = new WriteProgress(sc, jobId, progress, output, tasks, () -> {
      if (running.remove(jobId) != null) {
        ended.add(progress);
        last = progress;
      }
    });
    running.put(jobId, w);
    return w;
  }

  /** A running task attempt's counts, from an executor's report; unknown jobs are ignored. */
  public void report(String executorId, String jobId, int stageId, int partition, long attemptId,
      TaskCounts counts) {
    WriteProgress w = running.get(jobId);
    if (w != null) {
      w.report(executorId, stageId, partition, attemptId, counts);
    }
  }

  /** The writes running now. */
  public List<JobProgress> running() {
    List<JobProgress> out = new ArrayList<>();
    running.values().forEach(w -> out.add(w.progress()));
    return out;
  }

  /** The write that ended last, if any (how did my last write go?). */
  public Optional<JobProgress> lastEnded() {
    return Optional.ofNullable(last);
  }

  /** The writes that ended since the last call (each returned once), for a final line. */
  public List<JobProgress> takeEnded() {
    List<JobProgress> out = new ArrayList<>();
    for (JobProgress p; (p = ended.poll()) != null; ) {
      out.add(p);
    }
    return out;
  }
}
