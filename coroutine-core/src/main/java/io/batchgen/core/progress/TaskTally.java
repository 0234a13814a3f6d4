package io.batchgen.core.progress;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * One task attempt's running count of its rows, kept by the task on its executor and read by the
 * executor's progress reporter. Rows are numbered in the order the task hands them out; a row
 * that fails before it is submitted is finished without being submitted.
 *
 * <p>Besides plain totals it keeps the <em>leading</em> rows (see {@link TaskCounts#leading}):
 * a row joins them once every row submitted before it has finished too. While a long row runs,
 * the short rows after it finish and wait here (index and tokens, at most {@value #MAX_WAITING}
 * of them; beyond that the oldest join the leading rows early, a bias bounded by that count).
 *
 * <p>Thread-safe: the task thread updates it, the reporter thread reads {@link #counts()}.
 */
public final class TaskTally {
  static final int MAX_WAITING = 65_536;

  /** Submitted rows not finished yet, by index. */
  private final TreeSet<Long> running = new TreeSet<>();
  /** Finished rows behind a running one: index to {prompt tokens, output tokens}. */
  private final TreeMap<Long, long[]> waiting = new TreeMap<>();
  private RowSample finished = RowSample.NONE;
  private RowSample leading = RowSample.NONE;
  private long failed;
  private long skipped;
  private long next;
  /** Work done so far on the rows in flight, as the runtime counts it. */
  private volatile LongSupplier inFlightTokens = () -> 0;

  /** The index the next row handed out gets; rows must be numbered with it, in order. */
  public synchronized long nextIndex() {
    return next++;
  }

  /** Row {@code index} went to the runtime. */
  public synchronized void submitted(long index) {
    running.add(index);
  }

  /** Row {@code index} has its result (or failed), having taken these tokens. */
  public synchronized void finished(long index, int promptTokens, int outputTokens,
      boolean failedRow) {
    running.remove(index);
    finished = finished.plus(new RowSample(1, promptTokens, outputTokens));
    if (failedRow) {
      failed++;
    }
    waiting.put(index, new long[] {promptTokens, outputTokens});
    Long oldestRunning = running.isEmpty() ? null : running.first();
    while (!waiting.isEmpty() && (oldestRunning == null || waiting.firstKey() < oldestRunning
        || waiting.size() > MAX_WAITING)) {
      Map.Entry<Long, long[]> e = waiting.pollFirstEntry();
      leading = leading.plus(new RowSample(1, e.getValue()[0], e.getValue()[1]));
    }
  }

  /**
   * Where the work done so far on this task's rows in flight is read (positions processed: see
   * {@code ResultQueue#inFlightPositions}); none until set.
   */
  public void inFlightTokens(LongSupplier source) {
    inFlightTokens = source;
  }

  /** A row needs no work: an earlier run finished it (resume). */
  public synchronized void skipped() {
    skipped++;
  }

  public synchronized TaskCounts counts() {
    return new TaskCounts(finished, leading, failed, skipped, running.size(),
        running.isEmpty() ? 0 : Math.max(0, inFlightTokens.getAsLong()));
  }
}
