package io.batchgen.spark.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.batchgen.core.progress.ProgressSnapshot;
import io.batchgen.core.progress.ProgressSnapshot.State;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ProgressDisplayTest {
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
  private final AtomicLong rows = new AtomicLong(995);
  private volatile State state = State.RUNNING;

  /** Rows go 995, 996, ... 1000 then stay, with the ETA shrinking. */
  private final Supplier<ProgressSnapshot> source = () -> {
    long done = Math.min(1000, rows.getAndIncrement());
    return new ProgressSnapshot("t", state, done, 1000, "Parquet footers", 0, 0, 2, done * 8,
        done * 10, 100, Duration.ofSeconds(5), state == State.RUNNING ? Duration.ofSeconds(1000 - done + 1)
        : Duration.ZERO, 10);
  };

  private String text() {
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void liveRedrawsOneLineInPlaceAndEndsItWhenClosed() {
    ProgressDisplay d = ProgressDisplay.start(source, ProgressDisplay.Mode.LIVE, out,
        Duration.ofMillis(20), null);
    await().atMost(Duration.ofSeconds(30)).until(() -> text().split("\r").length > 4);
    state = State.COMMITTED;
    d.close();
    d.close(); // idempotent

    String t = text();
    // The final frame is padded over the longer one before it ("ETA 1s" then "done"), then
    // the line ends.
    assertThat(t).startsWith("\rbatchgen: ").endsWith("done   " + System.lineSeparator());
    assertThat(t.strip()).doesNotContain("\n");
    // Every frame covers the one before, so no characters of a longer line are left behind.
    String[] frames = t.substring(0, t.length() - System.lineSeparator().length()).split("\r");
    for (int i = 1; i < frames.length; i++) {
      assertThat(frames[i].length()).isGreaterThanOrEqualTo(frames[i - 1].strip().length());
    }
    assertThat(frames[frames.length - 1]).contains("1,000/1,000 rows (100%)");
  }

  @Test
  void plainPrintsALinePerIntervalAndTheLastOnClose() {
    ProgressDisplay d = ProgressDisplay.start(source, ProgressDisplay.Mode.PLAIN, out,
        Duration.ofMillis(20), null);
    await().atMost(Duration.ofSeconds(30)).until(() -> text().lines().count() >= 2);
    state = State.COMMITTED;
    d.close();

    assertThat(text()).doesNotContain("\r").endsWith(System.lineSeparator());
    List<String> lines = text().lines().toList();
    assertThat(lines).allMatch(l -> l.startsWith("batchgen: ") && l.contains("/1,000 rows"));
    assertThat(lines.get(0)).contains("995/1,000 rows (99.5%)");
    assertThat(lines.get(lines.size() - 1)).endsWith("done");
  }

  @Test
  void offShowsNothingButTheObserverSeesEverySnapshot() {
    List<ProgressSnapshot> seen = new CopyOnWriteArrayList<>();
    ProgressDisplay d = ProgressDisplay.start(source, ProgressDisplay.Mode.OFF, out,
        Duration.ofMillis(20), seen::add);
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 2);
    d.close();
    assertThat(text()).isEmpty();
  }

  @Test
  void modes() {
    assertThat(ProgressDisplay.Mode.parse("Plain")).isEqualTo(ProgressDisplay.Mode.PLAIN);
    assertThat(ProgressDisplay.Mode.AUTO.resolve(true, ProgressDisplay.Mode.OFF))
        .isEqualTo(ProgressDisplay.Mode.LIVE);
    assertThat(ProgressDisplay.Mode.AUTO.resolve(false, ProgressDisplay.Mode.PLAIN))
        .isEqualTo(ProgressDisplay.Mode.PLAIN);
    assertThat(ProgressDisplay.Mode.OFF.resolve(true, ProgressDisplay.Mode.PLAIN))
        .isEqualTo(ProgressDisplay.Mode.OFF);
    assertThatThrownBy(() -> ProgressDisplay.Mode.parse("fancy"))
        .hasMessageContaining("--progress is [fancy]").hasMessageContaining("auto");
  }
}
