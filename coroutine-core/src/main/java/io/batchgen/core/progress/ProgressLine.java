package io.batchgen.core.progress;

import java.time.Duration;
import java.util.Locale;

/**
 * Progress as one line of text, the same on a terminal, in plain output and in the driver log:
 *
 * <pre>
 * batchgen: 12,345/20,000 rows (61.7%), 3 failed, 4,321 tok/s, elapsed 1m02s, ETA 38s
 * </pre>
 *
 * Rows whose total is not known yet show the tasks instead ({@code 12,345 rows (3/8 tasks)}); the
 * ETA reads {@code unknown} until the first rows finish, {@code done} once the job committed and
 * {@code failed} when it did not.
 */
public final class ProgressLine {
  private ProgressLine() {
  }

  public static String format(ProgressSnapshot s) {
    StringBuilder b = new StringBuilder("batchgen: ");
    if (s.rowsTotal() >= 0) {
      b.append(String.format(Locale.ROOT, "%,d/%,d rows (%s)", s.rowsDone(), s.rowsTotal(),
          percent(s.percent())));
    } else {
      b.append(String.format(Locale.ROOT, "%,d rows (%d/%s tasks)", s.rowsDone(), s.tasksDone(),
          s.tasks() > 0 ? Integer.toString(s.tasks()) : "?"));
    }
    b.append(String.format(Locale.ROOT, ", %,d failed, %,.0f tok/s, elapsed %s, ", s.failedRows(),
        s.tokensPerSecond(), duration(s.elapsed(), false)));
    b.append(switch (s.state()) {
      case COMMITTED -> "done";
      case FAILED -> "failed";
      case RUNNING -> s.eta() == null ? "ETA unknown" : "ETA " + duration(s.eta(), true);
    });
    return b.toString();
  }

  static String percent(double p) {
    return p >= 100 ? "100%" : String.format(Locale.ROOT, "%.1f%%", Math.max(0, p));
  }

  /**
   * {@code 42s}, {@code 3m07s}, {@code 2h05m}; whole seconds, rounded up when {@code up} (an ETA
   * of 0.2 s reads 1s) and down otherwise.
   */
  public static String duration(Duration d, boolean up) {
    long millis = Math.max(0, d.toMillis());
    long secs = up ? (millis + 999) / 1000 : millis / 1000;
    if (secs < 60) {
      return secs + "s";
    }
    if (secs < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", secs / 60, secs % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", secs / 3600, secs % 3600 / 60);
  }
}
