package io.batchgen.core.progress;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TaskTallyTest {
  private final TaskTally tally = new TaskTally();

  private long submit() {
    long i = tally.nextIndex();
    tally.submitted(i);
    return i;
  }

  @Test
  void rowsBehindARunningOneAreFinishedButNotLeading() {
    long longRow = submit();
    long a = submit();
    long b = submit();
    tally.finished(a, 5, 10, false);
    tally.finished(b, 5, 10, false);
    TaskCounts c = tally.counts();
    assertThat(c.finished()).isEqualTo(new RowSample(2, 10, 20));
    assertThat(c.leading()).isEqualTo(RowSample.NONE);
    assertThat(c.inFlightRows()).isEqualTo(1);

    tally.finished(longRow, 5, 200, false);
    c = tally.counts();
    assertThat(c.leading()).isEqualTo(new RowSample(3, 15, 220));
    assertThat(c.finished()).isEqualTo(c.leading());
    assertThat(c.inFlightRows()).isZero();
  }

  @Test
  void theWorkDoneOnRowsInFlightIsReadFromTheRuntimeWhileAnyRuns() {
    long[] positions = {0};
    tally.inFlightTokens(() -> positions[0]);
    long r = submit();
    positions[0] = 120;
    assertThat(tally.counts().inFlightTokens()).isEqualTo(120);

    positions[0] = 0; // the runtime delivered it; the task has not taken the result yet
    assertThat(tally.counts().inFlightTokens()).isZero();
    tally.finished(r, 20, 101, false);
    positions[0] = 7; // a reading that lags the last result: no row runs, so nothing counts
    assertThat(tally.counts().inFlightTokens()).isZero();
    assertThat(tally.counts().finished().tokens()).isEqualTo(121);
  }

  @Test
  void failedAndSkippedRowsCountAsDone() {
    long rejected = tally.nextIndex(); // failed before it reached the runtime
    tally.finished(rejected, 0, 0, true);
    tally.skipped();
    long r = submit();
    tally.finished(r, 3, 4, false);
    TaskCounts c = tally.counts();
    assertThat(c.rowsDone()).isEqualTo(3);
    assertThat(c.failedRows()).isEqualTo(1);
    assertThat(c.skippedRows()).isEqualTo(1);
    assertThat(c.leading().rows()).isEqualTo(2);
  }

  @Test
  void waitingRowsAreBounded() {
    submit(); // runs forever
    for (int i = 0; i < TaskTally.MAX_WAITING + 10; i++) {
      tally.finished(submit(), 1, 1, false);
    }
    assertThat(tally.counts().leading().rows()).isEqualTo(10);
  }
}
