package io.batchgen.core.progress;

import io.batchgen.core.progress.ProgressSnapshot.State;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The progress of one job over many task attempts: rows done out of the total, generated tokens,
 * throughput, and the ETA for the whole job.
 *
 * <p><b>Counting once.</b> A partition's rows count once, whatever attempts run it: a committed
 * partition counts what its commit says; a partition not committed yet counts its live attempt
 * that has done the most (so a speculative copy or a retry never adds to it). An attempt that
 * ended without committing (failed, killed, executor lost) stops counting at once, and reports
 * about it that arrive late are ignored; its rows count again as the next attempt redoes them.
 * The percentage reaches 100 exactly when the job commits ({@link #committed()}).
 *
 * <p><b>ETA.</b> Remaining work in tokens (rows left times the mean prompt and generated tokens
 * a row takes, less the work already done on the rows in flight) over the measured throughput
 * (tokens of work done per second: those of finished rows, and those processed so far on the
 * rows in flight ({@link TaskCounts#inFlightTokens}), over the last {@link #WINDOW_FRACTION} of
 * the time since work started showing, at least {@link #MIN_WINDOW}: recent enough to follow a
 * cold JVM speeding up as it compiles the kernels, long enough that a few slow seconds do not
 * swing it). Counting the rows in flight keeps the rate true whichever rows finish first: with
 * the longest rows admitted first, the tokens of finished rows alone trail the engine's speed
 * for most of the job. The mean comes from the tasks' leading rows
 * ({@link TaskCounts#leading}) once they are a fair share of the finished rows: the rows that
 * finish first are the short ones, and a mean over them alone runs low on a heavy-tailed
 * output-length distribution. The ETA is unknown until the first rows finish, never zero while
 * the job runs, and zero once it has committed.
 *
 * <p>Thread-safe: reports arrive on RPC threads, commits on the driver's job thread, snapshots
 * are taken by displays.
 */
public final class JobProgress {
  /** The share of the time since rows started finishing over which throughput is measured. */
  public static final double WINDOW_FRACTION = 0.25;
  /** The shortest window over which throughput is measured. */
  public static final Duration MIN_WINDOW = Duration.ofSeconds(10);

  /** A live attempt's latest counts. */
  private record Live(TaskAttempt attempt, TaskCounts counts) {
  }

  /** Counts over all partitions, each counted once. */
  private record Totals(RowSample finished, RowSample leading, long failed, long skipped,
      long inFlight, long inFlightTokens, int tasksDone, long committedRows) {
    long rowsDone() {
      return finished.rows() + skipped;
    }

    /** Tokens of work done: those of the finished rows, and so far on the rows in flight. */
    long workDone() {
      return finished.tokens() + inFlightTokens;
    }
  }

  private final String name;
  private final LongSupplier clock;
  private final long startNanos;
  private final Throughput throughput;
  private final Map<Integer, TaskCounts> committed = new HashMap<>();
  private final Map<Integer, Map<Long, Live>> live = new HashMap<>();
  private final Set<Long> ended = new HashSet<>();
  private JobSize size;
  private int tasks;
  private State state = State.RUNNING;
  private long endNanos;

  /**
   * @param name  the job, for people
   * @param size  what planning knows of the job's size
   * @param clock nanosecond clock ({@code System::nanoTime}; tests pass their own)
   */
  public JobProgress(String name, JobSize size, LongSupplier clock) {
    this.name = name;
    this.size = size;
    this.clock = clock;
    this.startNanos = clock.getAsLong();
    this.throughput = new Throughput(startNanos);
  }

  public JobProgress(String name, JobSize size) {
    this(name, size, System::nanoTime);
  }

  public String name() {
    return name;
  }

  public synchronized JobSize size() {
    return size;
  }

  /** The job runs as {@code n} write tasks (partitions). */
  public synchronized void tasks(int n) {
    tasks = n;
  }

  /** The total row count, learned after planning (only when planning did not know it). */
  public synchronized void learnRows(long rows, String basis) {
    if (!size.rowsKnown()) {
      size = size.withRows(rows, basis);
    }
  }

  /** An attempt's latest counts, as its executor reported them. */
  public synchronized void report(TaskAttempt attempt, TaskCounts counts) {
    if (state != State.RUNNING || committed.containsKey(attempt.partition())
        || ended.contains(attempt.attemptId())) {
      return;
    }
    live.computeIfAbsent(attempt.partition(), p -> new HashMap<>())
        .put(attempt.attemptId(), new Live(attempt, counts));
  }

  /** An attempt ended without committing (failed, killed): its rows stop counting. */
  public synchronized void attemptEnded(long attemptId) {
    ended.add(attemptId);
    for (Iterator<Map<Long, Live>> it = live.values().iterator(); it.hasNext(); ) {
      Map<Long, Live> attempts = it.next();
      attempts.remove(attemptId);
      if (attempts.isEmpty()) {
        it.remove();
      }
    }
  }

  /** Every attempt that ran on a lost executor ended. */
  public synchronized void executorLost(String executorId) {
    for (Map<Long, Live> attempts : live.values()) {
      for (Live l : attempts.values()) {
        if (l.attempt().executorId().equals(executorId)) {
          ended.add(l.attempt().attemptId());
        }
      }
    }
    live.values().forEach(attempts -> attempts.values()
        .removeIf(l -> l.attempt().executorId().equals(executorId)));
    live.values().removeIf(Map::isEmpty);
  }

  /** Partition {@code partition} committed with these final counts (the first commit wins). */
  public synchronized void taskCommitted(int partition, TaskCounts counts) {
    if (state == State.RUNNING) {
      committed.putIfAbsent(partition, counts);
      live.remove(partition);
    }
  }

  /** The job committed: 100%. */
  public synchronized void committed() {
    end(State.COMMITTED);
  }

  /** The job failed or was aborted. */
  public synchronized void failed() {
    end(State.FAILED);
  }

  private void end(State s) {
    if (state == State.RUNNING) {
      state = s;
      endNanos = clock.getAsLong();
    }
  }

  public synchronized State state() {
    return state;
  }

  /** Where the job stands now; also a throughput sample. */
  public synchronized ProgressSnapshot snapshot() {
    long now = state == State.RUNNING ? clock.getAsLong() : endNanos;
    Totals t = totals();
    if (state == State.RUNNING) {
      throughput.add(new Throughput.Sample(now, t.workDone(), t.rowsDone(),
          t.finished().outputTokens()));
    }
    Throughput.Rate rate = throughput.rate(WINDOW_FRACTION, MIN_WINDOW.toNanos());
    long total = size.rows();
    if (total < 0 && tasks > 0 && t.tasksDone() == tasks) {
      total = t.rowsDone();
    }
    long totalForEta = total >= 0 ? total : t.tasksDone() > 0 && tasks > 0
        ? Math.round(t.committedRows() * (double) tasks / t.tasksDone()) : -1;
    long rowsLeft = Math.max(0, totalForEta - t.rowsDone());
    // The leading rows are an unbiased sample; until they are a fair share, all finished rows.
    RowSample basis = t.leading().rows() * 4 >= t.finished().rows() ? t.leading() : t.finished();
    // The rows left include those in flight, part of whose work is done.
    long tokensLeft = totalForEta < 0 ? -1
        : t.finished().rows() > 0
            ? Math.max(0, Math.round(rowsLeft * basis.tokensPerRow()) - t.inFlightTokens())
        : size.promptTokens() >= 0 && size.maxOutputTokens() >= 0
            ? size.promptTokens() + size.maxOutputTokens() : -1;
    return new ProgressSnapshot(name, state, t.rowsDone(), total,
        total >= 0 ? size.basis() : "unknown", t.failed(), t.tasksDone(), tasks,
        t.finished().outputTokens(), t.finished().tokens(), rate.output(), Duration.ofNanos(now - startNanos),
        eta(t, totalForEta, rowsLeft, basis, tokensLeft, rate),
        state == State.COMMITTED ? 0 : tokensLeft);
  }

  private Duration eta(Totals t, long total, long rowsLeft, RowSample basis, long tokensLeft,
      Throughput.Rate rate) {
    if (state == State.COMMITTED) {
      return Duration.ZERO;
    }
    if (state == State.FAILED || total < 0 || t.finished().rows() == 0) {
      return null;
    }
    double seconds;
    if (basis.tokensPerRow() > 0 && rate.work() > 0) {
      seconds = tokensLeft / rate.work();
    } else if (rate.rows() > 0) {
      seconds = rowsLeft / rate.rows();
    } else {
      return null;
    }
    // Never "0s" while the job runs: the last rows, or the commit, are still to come.
    return Duration.ofSeconds(Math.max(1, (long) Math.ceil(seconds)));
  }

  private Totals totals() {
    RowSample finished = RowSample.NONE;
    RowSample leading = RowSample.NONE;
    long failed = 0;
    long skipped = 0;
    long inFlight = 0;
    long inFlightTokens = 0;
    long committedRows = 0;
    Map<Integer, TaskCounts> counted = new HashMap<>(committed);
    for (TaskCounts c : committed.values()) {
      committedRows += c.rowsDone();
    }
    for (Map.Entry<Integer, Map<Long, Live>> e : live.entrySet()) {
      Live best = null;
      for (Live l : e.getValue().values()) {
        if (best == null || l.counts().rowsDone() > best.counts().rowsDone()) {
          best = l;
        }
      }
      counted.putIfAbsent(e.getKey(), best.counts());
    }
    for (TaskCounts c : counted.values()) {
      finished = finished.plus(c.finished());
      leading = leading.plus(c.leading());
      failed += c.failedRows();
      skipped += c.skippedRows();
      inFlight += c.inFlightRows();
      inFlightTokens += c.inFlightTokens();
    }
    return new Totals(finished, leading, failed, skipped, inFlight, inFlightTokens,
        committed.size(), committedRows);
  }
}
