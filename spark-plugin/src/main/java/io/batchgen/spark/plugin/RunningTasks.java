package io.batchgen.spark.plugin;

import io.batchgen.core.progress.TaskTally;
import io.batchgen.spark.plugin.PluginMessages.TaskReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The batchgen write tasks running on this executor and their tallies, which the executor's
 * reporter sends to the driver for the jobs' progress. Owned by the {@link ExecutorRuntimeHost};
 * a task registers when it starts and closes its registration when it ends, on its own thread.
 */
public final class RunningTasks {
  /** Which task attempt a tally belongs to; see {@link TaskReport}. */
  public record Key(String jobId, int stageId, int partition, long attemptId) {
  }

  /** A task's registration; closing it (idempotent) ends the task's reports. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  private final Map<Key, TaskTally> tasks = new ConcurrentHashMap<>();

  /** Reports {@code tally} under {@code key} until the returned registration is closed. */
  public Registration register(Key key, TaskTally tally) {
    tasks.put(key, tally);
    return () -> tasks.remove(key, tally);
  }

  /** What every registered task has done so far. */
  List<TaskReport> reports() {
    List<TaskReport> out = new ArrayList<>();
    tasks.forEach((k, t) -> out.add(new TaskReport(k.jobId(), k.stageId(), k.partition(),
        k.attemptId(), t.counts())));
    return out;
  }
}
