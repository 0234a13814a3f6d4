package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.spark.plugin.PluginStartWatch.Failure;
import java.util.List;
import org.junit.jupiter.api.Test;

class PluginStartWatchTest {
  private static final long S = 1_000_000_000L;

  private static PluginStartWatch watch(int maxFailures) {
    return new PluginStartWatch(maxFailures, 30 * S, "spark.batchgen.plugin.registrationTimeout");
  }

  @Test
  void givesUpOnceWhenEnoughExecutorsReportedACause() {
    PluginStartWatch w = watch(3);
    for (int i = 0; i < 3; i++) {
      w.executorAdded("" + i, "h" + i, 0);
      w.startFailed("" + i, "h" + i, "no vector module");
      w.executorRemoved("" + i, "Command exited with code 1");
      if (i < 2) {
        assertThat(w.check(S)).isEmpty();
      }
    }
    assertThat(w.check(S)).contains(List.of(new Failure("0", "h0", "no vector module"),
        new Failure("1", "h1", "no vector module"), new Failure("2", "h2", "no vector module")));
    assertThat(w.check(2 * S)).as("answered once").isEmpty();
  }

  @Test
  void registeredExecutorsThatLeaveAreNoFailedStarts() {
    PluginStartWatch w = watch(1);
    w.executorAdded("1", "h", 0);
    w.registered("1");
    w.executorRemoved("1", "killed by the driver");
    assertThat(w.check(100 * S)).isEmpty();
    assertThat(w.failureCount()).isZero();
  }

  @Test
  void aRegistrationBeforeTheAddedEventCounts() {
    // The plugin RPC and the listener bus are separate threads.
    PluginStartWatch w = watch(1);
    w.registered("1");
    w.executorAdded("1", "h", 0);
    assertThat(w.check(100 * S)).isEmpty();
  }

  @Test
  void anExecutorThatExitsBeforeRegisteringFailsWithSparksReason() {
    PluginStartWatch w = watch(1);
    w.executorAdded("4", "h", 0);
    w.executorRemoved("4", "Remote RPC client disassociated");
    assertThat(w.check(S).orElseThrow()).singleElement().satisfies(f -> assertThat(f.cause())
        .contains("exited before its BatchGen plugin registered")
        .contains("Spark says: Remote RPC client disassociated"));
  }

  @Test
  void theExecutorsOwnCauseWinsWhicheverArrivesFirst() {
    PluginStartWatch w = watch(2);
    w.executorAdded("1", "h", 0);
    w.executorRemoved("1", "disassociated");
    w.startFailed("1", "h", "precise cause");
    w.executorAdded("2", "h", 0);
    w.startFailed("2", "h", "precise cause");
    w.executorRemoved("2", "disassociated");
    assertThat(w.check(S).orElseThrow()).extracting(Failure::cause)
        .containsExactly("precise cause", "precise cause");
  }

  @Test
  void sparksNameForTheHostWinsOverTheExecutorsOwn() {
    PluginStartWatch w = watch(2);
    w.startFailed("1", "vm", "x");
    w.executorAdded("1", "127.0.0.1", 0);
    w.executorAdded("2", "127.0.0.1", 0);
    w.startFailed("2", "vm", "x");
    assertThat(w.check(S).orElseThrow()).extracting(Failure::host)
        .containsExactly("127.0.0.1", "127.0.0.1");
  }

  @Test
  void aMissedRegistrationDeadlineIsAFailureNamingTheSetting() {
    PluginStartWatch w = watch(1);
    w.executorAdded("9", "h", 10 * S);
    assertThat(w.check(40 * S)).as("exactly at the deadline").isEmpty();
    assertThat(w.check(41 * S).orElseThrow()).singleElement().satisfies(f -> assertThat(f.cause())
        .contains("did not register with the driver within 30 s")
        .contains("spark.batchgen.plugin.registrationTimeout"));
  }

  @Test
  void zeroMeansNeverGiveUp() {
    PluginStartWatch w = watch(0);
    for (int i = 0; i < 10; i++) {
      w.startFailed("" + i, "h", "x");
    }
    assertThat(w.check(S)).isEmpty();
    assertThat(w.failureCount()).isEqualTo(10);
  }

  @Test
  void theReasonGroupsExecutorsByCauseAndNamesTheLimit() {
    String reason = PluginStartGuard.reason(List.of(new Failure("0", "a", "no vector module"),
        new Failure("1", "b", "no vector module"), new Failure("2", "a", "timeout")));
    assertThat(reason).startsWith("because BatchGen could not start on 3 executors")
        .contains("spark.batchgen.plugin.maxStartFailures")
        .contains("executor 0 on a, executor 1 on b: no vector module; executor 2 on a: timeout");
  }
}
