package io.batchgen.core.progress;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Measured throughput over a trailing window: samples of cumulative work (tokens), rows and
 * generated tokens against time; a rate is the difference between the newest sample and the
 * oldest one inside the window. The window covers a fraction of the time since work started
 * showing (the first tokens processed, or the first rows done), never the start-up before
 * (planning, the input shuffle, model loading): counted from the job's start, that time would
 * drag the rate down long after it is over.
 * Samples closer than {@link #MIN_SPACING_NANOS} replace each other, and past {@link
 * #MAX_SAMPLES} every other sample is dropped, so memory stays bounded over jobs of any length.
 * Not thread-safe; {@link JobProgress} guards it.
 */
final class Throughput {
  static final long MIN_SPACING_NANOS = 100_000_000L;
  static final int MAX_SAMPLES = 2048;

  /** Cumulative counts at one moment. */
  record Sample(long nanos, long work, long rows, long output) {
  }

  /** Per-second rates; all 0 when nothing can be measured yet. */
  record Rate(double work, double rows, double output) {
    static final Rate NONE = new Rate(0, 0, 0);
  }

  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  /** The first sample with work or rows done: where measuring starts. */
  private Sample origin;

  Throughput(long startNanos) {
    samples.add(new Sample(startNanos, 0, 0, 0));
  }

  void add(Sample s) {
    if (origin == null && (s.work() > 0 || s.rows() > 0)) {
      origin = s;
    }
    Sample last = samples.peekLast();
    if (s.nanos() - last.nanos() < MIN_SPACING_NANOS && samples.size() > 1) {
      samples.pollLast();
    }
    samples.add(s);
    if (samples.size() > MAX_SAMPLES) {
      thin();
    }
  }

  private void thin() {
    List<Sample> kept = new ArrayList<>();
    int i = 0;
    for (Sample s : samples) {
      if (i++ % 2 == 0 || i == samples.size()) {
        kept.add(s);
      }
    }
    samples.clear();
    samples.addAll(kept);
  }

  /**
   * Rates between the newest sample and the oldest one inside the window: {@code fraction} of
   * the time since work started showing, at least {@code minWindowNanos}, never before it
   * started. Until that span holds two samples, or when it shows no progress (or less than
   * none: a lost task attempt's rows were taken back), rates since the first sample.
   */
  Rate rate(double fraction, long minWindowNanos) {
    Sample last = samples.peekLast();
    Rate windowed = Rate.NONE;
    if (origin != null) {
      long window = Math.max(minWindowNanos, (long) ((last.nanos() - origin.nanos()) * fraction));
      long from = Math.max(origin.nanos(), last.nanos() - window);
      for (Iterator<Sample> it = samples.iterator(); it.hasNext(); ) {
        Sample s = it.next();
        if (s.nanos() >= from) {
          windowed = between(s, last);
          break;
        }
      }
    }
    return windowed.work() > 0 || windowed.rows() > 0 ? windowed
        : between(samples.peekFirst(), last);
  }

  private static Rate between(Sample from, Sample to) {
    double seconds = (to.nanos() - from.nanos()) / 1e9;
    if (seconds <= 0 || to.work() <= from.work() && to.rows() <= from.rows()) {
      return Rate.NONE;
    }
    return new Rate(Math.max(0, to.work() - from.work()) / seconds,
        (to.rows() - from.rows()) / seconds, Math.max(0, to.output() - from.output()) / seconds);
  }
}
