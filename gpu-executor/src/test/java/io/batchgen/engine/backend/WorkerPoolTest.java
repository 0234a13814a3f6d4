package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The worker pool: every task of every call runs exactly once, on the worker whose
 * range holds it, across many quick calls (no lost or repeated hand-over); failures reach the
 * caller; a closed pool's threads end.
 */
class WorkerPoolTest {

  @Test
  void everyTaskRunsOnceInItsWorkersRange() {
    try (WorkerPool pool = new WorkerPool(3)) {
      for (int call = 0; call < 20_000; call++) {
        int tasks = call % 7;
        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, tasks));
        int[] owner = new int[Math.max(1, tasks)];
        pool.run(tasks, (worker, from, to) -> {
          for (int t = from; t < to; t++) {
            hits.incrementAndGet(t);
            owner[t] = worker;
          }
        });
        for (int t = 0; t < tasks; t++) {
          assertThat(hits.get(t)).as("call %d task %d", call, t).isEqualTo(1);
        }
        // ranges are contiguous and ordered by worker
        for (int t = 1; t < tasks; t++) {
          assertThat(owner[t]).isGreaterThanOrEqualTo(owner[t - 1]);
        }
      }
    }
  }

  @Test
  void aWorkersFailureReachesTheCallerAfterTheOthersFinish() {
    try (WorkerPool pool = new WorkerPool(2)) {
      AtomicIntegerArray done = new AtomicIntegerArray(2);
      assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> {
        if (worker == 1) {
          throw new IllegalArgumentException("bad panel 1");
        }
        done.incrementAndGet(0);
      })).isInstanceOf(IllegalArgumentException.class).hasMessage("bad panel 1");
      assertThat(done.get(0)).isEqualTo(1);
      assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> {
        if (worker == 0) {
          throw new IllegalStateException("caller's share failed");
        }
      })).isInstanceOf(IllegalStateException.class).hasMessage("caller's share failed");
      assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> {
        if (worker == 1) {
          throw new AssertionError("an error, not an exception");
        }
      })).isInstanceOf(AssertionError.class);
      // the pool still works after failures
      int[] sum = new int[2];
      pool.run(10, (worker, from, to) -> sum[worker] += to - from);
      assertThat(sum[0] + sum[1]).isEqualTo(10);
    }
  }

  @Test
  void closingEndsTheThreadsAndRefusesWork() {
    WorkerPool pool = new WorkerPool(3);
    pool.run(3, (worker, from, to) -> { });
    assertThat(pool.workersAlive()).isTrue();
    pool.close();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !pool.workersAlive());
    assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> { }))
        .isInstanceOf(IllegalStateException.class).hasMessage("Worker pool is closed");
  }
}
