package io.batchgen.spark.plugin;

import io.batchgen.core.progress.JobProgress;
import io.batchgen.core.progress.ProgressLine;
import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.spark.progress.ProgressBoard;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's progress log: every {@code spark.batchgen.progress.interval}, one line per running
 * batchgen write with the whole job's progress ({@link ProgressLine}: rows done of the total,
 * failed rows, tokens/s, elapsed, ETA) plus its tasks and the work left in tokens, and a last
 * line when a write ends. Executors busy with work no write tracks (a batchgen read) get the
 * executors' own line instead (tokens generated, rate, sequences running and queued). Either line
 * ends with the migrations so far, when sequences moved. Silent while idle.
 */
final class ProgressReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

  private final Supplier<Collection<ExecutorInfo>> executors;
  private final ProgressBoard board;
  private final ScheduledExecutorService timer;
  private long lastTokens = -1;
  private long lastNanos;

  ProgressReporter(Supplier<Collection<ExecutorInfo>> executors, ProgressBoard board,
      long periodMs) {
    this.executors = executors;
    this.board = board;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "batchgen-progress");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::tick, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  private void tick() {
    long tokens = 0;
    long remaining = 0;
    int active = 0;
    int queued = 0;
    long moved = 0;
    long withKv = 0;
    long bytes = 0;
    long reclaimed = 0;
    StringBuilder perExecutor = new StringBuilder();
    for (ExecutorInfo e : executors.get()) {
      PluginMessages.LoadReport r = e.lastReport();
      if (r != null) {
        tokens += r.tokensGenerated();
        remaining += r.tokensRemaining();
        active += r.activeSequences();
        queued += r.queuedSequences();
        PluginMessages.MigrationCounts m = r.migration();
        moved += m.movedOut();
        withKv += m.withKv();
        bytes += m.bytesOut();
        reclaimed += m.reclaimed();
        if (m.movedOut() + m.movedIn() > 0) {
          perExecutor.append(perExecutor.length() == 0 ? "" : ", ").append(r.executorId())
              .append(": ").append(m.movedOut()).append(" out/").append(m.movedIn())
              .append(" in");
        }
      }
    }
    long now = System.nanoTime();
    double rate = lastTokens < 0 ? 0
        : Math.max(0, tokens - lastTokens) / Math.max(1e-9, (now - lastNanos) / 1e9);
    lastTokens = tokens;
    lastNanos = now;
    String migrations = moved == 0 ? "" : String.format("; %,d sequences moved (%,d with KV, %,d"
        + " without, %,d KiB; %,d taken back) [%s]", moved, withKv, moved - withKv,
        bytes / 1024, reclaimed, perExecutor);
    for (JobProgress job : board.takeEnded()) {
      LOG.info(jobLine(job.snapshot()) + migrations);
    }
    List<JobProgress> jobs = board.running();
    for (JobProgress job : jobs) {
      LOG.info(jobLine(job.snapshot()) + migrations);
    }
    if (jobs.isEmpty() && active + queued > 0) {
      LOG.info(line(tokens, rate, active, queued, remaining) + migrations);
    }
  }

  /** A write's line: the whole job's figures, then its tasks and the work left. */
  static String jobLine(ProgressSnapshot s) {
    StringBuilder b = new StringBuilder(ProgressLine.format(s));
    b.append("; ").append(s.tasksDone()).append('/').append(s.tasks() > 0 ? s.tasks() : "?")
        .append(" tasks committed");
    if (s.rowsTotal() >= 0) {
      b.append(", rows from ").append(s.totalBasis());
    }
    if (s.tokensLeft() > 0) {
      b.append(String.format(Locale.ROOT, ", ~%,d tokens of work left", s.tokensLeft()));
    }
    return b.toString();
  }

  /**
   * The executors' line, for work no write tracks; {@code rate} in tokens/s, 0 when not yet
   * known. It has no ETA: the executors only know the rows already handed to them.
   */
  static String line(long tokens, double rate, int active, int queued, long remaining) {
    return String.format(Locale.ROOT, "batchgen executors: %,d tokens generated, %.0f tokens/s,"
        + " %d sequences running, %d queued, <= %,d tokens to go for the rows they hold",
        tokens, rate, active, queued, remaining);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
