package io.batchgen.spark.plugin;

import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's progress line: while any executor has sequences queued or running, logs the
 * tokens generated, the recent rate and an ETA for the work the executors have accepted (their
 * reported upper bound of tokens remaining over the recent rate). Silent while idle.
 */
final class ProgressReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

  private final Supplier<Collection<ExecutorInfo>> executors;
  private final ScheduledExecutorService timer;
  private long lastTokens = -1;
  private long lastNanos;

  ProgressReporter(Supplier<Collection<ExecutorInfo>> executors, long periodMs) {
    this.executors = executors;
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
    if (active + queued == 0) {
      return;
    }
    String line = line(tokens, rate, active, queued, remaining);
    if (moved > 0) {
      line += String.format("; %,d sequences moved (%,d with KV, %,d by recompute, %,d KiB;"
          + " %,d taken back) [%s]", moved, withKv, moved - withKv, bytes / 1024, reclaimed,
          perExecutor);
    }
    LOG.info(line);
  }

  /** The progress line; {@code rate} in tokens/s, 0 when not yet known. */
  static String line(long tokens, double rate, int active, int queued, long remaining) {
    String eta = rate <= 0 ? "unknown" : formatSeconds(remaining / rate);
    return String.format("batchgen progress: %,d tokens generated, %.0f tokens/s, %d sequences "
        + "running, %d queued, <= %,d tokens to go for accepted rows, ETA %s", tokens, rate,
        active, queued, remaining, eta);
  }

  static String formatSeconds(double s) {
    long secs = Math.round(s);
    return secs < 60 ? secs + "s" : secs < 3600 ? (secs / 60) + "m" + (secs % 60) + "s"
        : (secs / 3600) + "h" + (secs % 3600 / 60) + "m";
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
