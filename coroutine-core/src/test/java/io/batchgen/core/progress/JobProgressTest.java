package io.batchgen.core.progress;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.progress.ProgressSnapshot.State;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobProgressTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final JobProgress job =
      new JobProgress("test", new JobSize(1000, 20_000, 64, "Parquet footers"), nanos::get);

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  /** {@code rows} finished rows of 10 prompt + 20 generated tokens each, all leading. */
  private static TaskCounts done(long rows) {
    RowSample s = new RowSample(rows, rows * 10, rows * 20);
    return new TaskCounts(s, s, 0, 0, 4);
  }

  private static TaskAttempt attempt(int partition, long id, String executor) {
    return new TaskAttempt(partition, id, executor);
  }

  @Test
  void theTotalIsThePlannedRowCountAndItsBasis() {
    job.tasks(4);
    ProgressSnapshot s = job.snapshot();
    assertThat(s.rowsTotal()).isEqualTo(1000);
    assertThat(s.totalBasis()).isEqualTo("Parquet footers");
    assertThat(s.tasks()).isEqualTo(4);
    assertThat(s.percent()).isZero();
    // Before any row finishes: the planner's bound, prompt tokens plus rows x maxNewTokens.
    assertThat(s.tokensLeft()).isEqualTo(20_000 + 1000 * 64);
  }

  @Test
  void aRetriedAttemptReplacesTheFailedOneInsteadOfAddingToIt() {
    job.report(attempt(0, 10, "1"), done(50));
    job.report(attempt(1, 11, "1"), done(40));
    assertThat(job.snapshot().rowsDone()).isEqualTo(90);

    job.attemptEnded(10); // partition 0's first attempt failed: its 50 rows will be redone
    assertThat(job.snapshot().rowsDone()).isEqualTo(40);
    job.report(attempt(0, 12, "2"), done(30));
    job.report(attempt(0, 10, "1"), done(55)); // a late report of the failed attempt
    assertThat(job.snapshot().rowsDone()).isEqualTo(70);
  }

  @Test
  void speculativeCopiesOfAPartitionCountOnceAndItsCommitWins() {
    job.report(attempt(0, 10, "1"), done(80));
    job.report(attempt(0, 11, "2"), done(20)); // speculative copy, behind
    assertThat(job.snapshot().rowsDone()).isEqualTo(80);

    job.taskCommitted(0, done(100));
    job.report(attempt(0, 11, "2"), done(60)); // the copy reports after the commit
    job.taskCommitted(0, done(100)); // and a second commit of the partition is ignored
    ProgressSnapshot s = job.snapshot();
    assertThat(s.rowsDone()).isEqualTo(100);
    assertThat(s.tasksDone()).isEqualTo(1);
  }

  @Test
  void aLostExecutorsAttemptsStopCounting() {
    job.report(attempt(0, 10, "1"), done(50));
    job.report(attempt(1, 11, "2"), done(40));
    job.executorLost("1");
    assertThat(job.snapshot().rowsDone()).isEqualTo(40);
    job.report(attempt(0, 10, "1"), done(60)); // a report still in the RPC queue
    assertThat(job.snapshot().rowsDone()).isEqualTo(40);
  }

  @Test
  void hundredPercentExactlyWhenTheJobCommits() {
    job.tasks(2);
    job.taskCommitted(0, done(500));
    job.taskCommitted(1, done(500));
    ProgressSnapshot before = job.snapshot();
    assertThat(before.rowsDone()).isEqualTo(1000);
    assertThat(before.percent()).isEqualTo(99.9);
    assertThat(before.state()).isEqualTo(State.RUNNING);
    assertThat(ProgressLine.format(before)).contains("(99.9%)").doesNotContain("100%");

    job.committed();
    ProgressSnapshot after = job.snapshot();
    assertThat(after.percent()).isEqualTo(100);
    assertThat(after.eta()).isEqualTo(Duration.ZERO);
    assertThat(ProgressLine.format(after)).contains("1,000/1,000 rows (100%)").endsWith("done");
  }

  @Test
  void etaIsUnknownOnlyUntilTheFirstRowsFinish() {
    advance(Duration.ofSeconds(3));
    job.report(attempt(0, 10, "1"), new TaskCounts(RowSample.NONE, RowSample.NONE, 0, 0, 64));
    assertThat(job.snapshot().eta()).isNull();
    assertThat(ProgressLine.format(job.snapshot())).endsWith("ETA unknown");

    advance(Duration.ofSeconds(1));
    job.report(attempt(0, 10, "1"), done(1));
    assertThat(job.snapshot().eta()).isNotNull().isPositive();
  }

  @Test
  void etaIsNeverZeroWhileRowsRemainOrTheCommitIsPending() {
    for (int second = 1; second <= 100; second++) {
      advance(Duration.ofSeconds(1));
      job.report(attempt(0, 10, "1"), done(Math.min(999, second * 10L)));
      ProgressSnapshot s = job.snapshot();
      assertThat(s.eta()).as("ETA at %d rows", s.rowsDone()).isGreaterThanOrEqualTo(
          Duration.ofSeconds(1));
      assertThat(ProgressLine.format(s)).doesNotContain("ETA 0s");
    }
    job.report(attempt(0, 10, "1"), done(1000)); // every row done, the commit still to come
    assertThat(job.snapshot().eta()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void steadyThroughputGivesTheRemainingTime() {
    // 1000 rows at 10 rows/s: after 25 s, 250 done, 75 s to go.
    for (int second = 1; second <= 25; second++) {
      advance(Duration.ofSeconds(1));
      job.report(attempt(0, 10, "1"), done(second * 10L));
      job.snapshot();
    }
    ProgressSnapshot s = job.snapshot();
    assertThat(s.eta()).isEqualTo(Duration.ofSeconds(75));
    assertThat(s.tokensPerSecond()).isEqualTo(200.0); // 10 rows/s x 20 generated tokens
    assertThat(s.tokensLeft()).isEqualTo(750 * 30);
    assertThat(s.tokensDone()).isEqualTo(250 * 30);
  }

  @Test
  void workDoneOnRowsInFlightCountsBeforeTheyFinish() {
    // The engine does 300 tokens of work a second, but after the first row (10 + 20 tokens)
    // the rows in flight are long ones that finish late, as with the longest rows admitted
    // first: the finished rows alone would say nothing is happening.
    RowSample first = new RowSample(1, 10, 20);
    for (int second = 1; second <= 20; second++) {
      advance(Duration.ofSeconds(1));
      job.report(attempt(0, 10, "1"), new TaskCounts(first, first, 0, 0, 64,
          300L * second - 30));
      job.snapshot();
    }
    ProgressSnapshot s = job.snapshot();
    // 999 rows of 30 tokens left, of which 5,970 are done on the rows in flight: 24,000 at 300/s.
    assertThat(s.tokensLeft()).isEqualTo(999 * 30 - 5_970);
    assertThat(s.eta()).isEqualTo(Duration.ofSeconds(80));
  }

  @Test
  void theEtaUsesTheLeadingRowsWhileLongRowsStillRun() {
    // 90 rows finished: 87 short (10 generated) and 3 long (100 generated); 10 long rows still
    // run. The finished rows say 13 tokens a row; the 30 leading ones (27 short, 3 long, all
    // started before the oldest running row) say 19, the fair figure.
    advance(Duration.ofSeconds(10));
    TaskCounts c = new TaskCounts(new RowSample(90, 0, 87 * 10 + 3 * 100),
        new RowSample(30, 0, 27 * 10 + 3 * 100), 0, 0, 10);
    job.report(attempt(0, 10, "1"), c);
    assertThat(job.snapshot().tokensLeft()).isEqualTo(910 * 19);
  }

  @Test
  void tooFewLeadingRowsFallBackToAllFinishedOnes() {
    advance(Duration.ofSeconds(10));
    TaskCounts c = new TaskCounts(new RowSample(90, 0, 87 * 10 + 3 * 100),
        new RowSample(20, 0, 20 * 100), 0, 0, 10);
    job.report(attempt(0, 10, "1"), c);
    assertThat(job.snapshot().tokensLeft()).isEqualTo(910 * 13);
  }

  @Test
  void withoutARowCountTheTasksShowAndTheTotalFollowsTheCommittedTasks() {
    JobProgress df = new JobProgress("df", JobSize.UNKNOWN, nanos::get);
    df.tasks(4);
    df.report(attempt(0, 1, "1"), done(30));
    ProgressSnapshot s = df.snapshot();
    assertThat(s.rowsTotal()).isEqualTo(-1);
    assertThat(s.eta()).isNull();
    assertThat(ProgressLine.format(s)).startsWith("batchgen: 30 rows (0/4 tasks)");

    advance(Duration.ofSeconds(10));
    df.taskCommitted(0, done(100));
    assertThat(df.snapshot().eta()).isNotNull(); // about 300 rows left at 10 rows/s

    df.learnRows(400, "shuffle records");
    assertThat(df.snapshot().rowsTotal()).isEqualTo(400);
    assertThat(ProgressLine.format(df.snapshot())).startsWith("batchgen: 100/400 rows (25.0%)");
  }

  @Test
  void aFailedJobSaysSoAndStopsCounting() {
    job.report(attempt(0, 10, "1"), done(10));
    job.failed();
    job.report(attempt(0, 10, "1"), done(20));
    ProgressSnapshot s = job.snapshot();
    assertThat(s.state()).isEqualTo(State.FAILED);
    assertThat(s.rowsDone()).isEqualTo(10);
    assertThat(ProgressLine.format(s)).endsWith("failed");
  }
}
