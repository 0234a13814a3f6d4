package io.batchgen.spark.progress;

import io.batchgen.core.progress.ProgressLine;
import io.batchgen.core.progress.ProgressSnapshot;
import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Shows a job's progress on the command line while it runs: on a terminal one line redrawn in
 * place (carriage return, then the line padded over the previous one) every second; elsewhere
 * (a log file, CI) a plain line every interval. {@link #close()} prints the final line and ends
 * the line, so what the command prints next starts on a line of its own.
 *
 * <p>A daemon thread draws; the job runs on the caller's thread.
 */
public final class ProgressDisplay implements AutoCloseable {
  /** The longest time between two redraws of the live line. */
  static final Duration LIVE_REFRESH = Duration.ofSeconds(1);

  /** How progress is shown. */
  public enum Mode {
    /** Live on a terminal, else the command's choice for non-terminals. */
    AUTO,
    /** One line redrawn in place. */
    LIVE,
    /** A new line every interval. */
    PLAIN,
    /** Nothing. */
    OFF;

    /**
     * The mode named by option {@code --progress}.
     *
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static Mode parse(String value) {
      try {
        return valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("Option --progress is [" + value + "]; use auto (a live"
            + " line on a terminal), live, plain (a line every interval) or off");
      }
    }

    /** What AUTO means here: LIVE on a terminal, else {@code otherwise}. */
    public Mode resolve(boolean terminal, Mode otherwise) {
      return this != AUTO ? this : terminal ? LIVE : otherwise;
    }
  }

  private final Supplier<ProgressSnapshot> source;
  private final Mode mode;
  private final PrintStream out;
  private final Consumer<ProgressSnapshot> observer;
  private final ScheduledExecutorService timer;
  private int lastLength;
  private boolean closed;

  private ProgressDisplay(Supplier<ProgressSnapshot> source, Mode mode, PrintStream out,
      Duration interval, Consumer<ProgressSnapshot> observer) {
    this.source = source;
    this.mode = mode;
    this.out = out;
    this.observer = observer;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "batchgen-progress-display");
      t.setDaemon(true);
      return t;
    });
    long period = (mode == Mode.LIVE ? min(interval, LIVE_REFRESH) : interval).toMillis();
    timer.scheduleAtFixedRate(this::tick, mode == Mode.LIVE ? 0 : period, period,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Starts showing {@code source}'s snapshots on {@code out}.
   *
   * @param mode     LIVE, PLAIN or OFF (resolve AUTO first, {@link Mode#resolve})
   * @param interval between plain lines; the live line redraws at least every second
   * @param observer also gets every snapshot shown (benchmarks record them); may be null
   */
  public static ProgressDisplay start(Supplier<ProgressSnapshot> source, Mode mode,
      PrintStream out, Duration interval, Consumer<ProgressSnapshot> observer) {
    if (mode == Mode.AUTO) {
      throw new IllegalArgumentException("Resolve progress mode AUTO before starting a display");
    }
    return new ProgressDisplay(source, mode, out, interval, observer);
  }

  /**
   * Whether standard output is an interactive terminal: {@link System#console()} is non-null
   * only when it is (and standard input too) before Java 22; from Java 22 it is always there and
   * {@code Console.isTerminal()} says.
   */
  public static boolean stdoutIsTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true; // Java 17-21: a console exists only on a terminal
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  private synchronized void tick() {
    if (!closed) {
      show(source.get(), false);
    }
  }

  private void show(ProgressSnapshot s, boolean last) {
    if (observer != null) {
      observer.accept(s);
    }
    String line = ProgressLine.format(s);
    switch (mode) {
      case LIVE -> {
        // \r back to the line's start; spaces over what a longer previous line left behind.
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length()))
            + (last ? System.lineSeparator() : ""));
        lastLength = line.length();
      }
      case PLAIN -> out.println(line);
      default -> {
      }
    }
    out.flush();
  }

  /** Stops drawing and shows the final state on a line of its own. Idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      timer.shutdownNow();
      show(source.get(), true);
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
