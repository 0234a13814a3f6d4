package io.batchgen.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The worker pool: every task of every call runs exactly once, in contiguous chunks, across many
 * quick calls (no lost or repeated hand-over, spinning) and calls far apart (parked workers
 * woken); a worker that is held up takes fewer chunks;
 * failures reach the caller; a closed pool's threads end.
 */
class WorkerPoolTest {

  @Test
  void everyTaskRunsOnceInItsWorkersRange() {
    try (WorkerPool pool = new WorkerPool(3)) {
      for (int call = 0; call < 20_000; call++) {
        int tasks = call % 7;
        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, tasks));
        pool.run(tasks, (worker, from, to) -> {
          assertThat(from).isLessThan(to);
          for (int t = from; t < to; t++) {
            hits.incrementAndGet(t);
          }
        });
        for (int t = 0; t < tasks; t++) {
          assertThat(hits.get(t)).as("call %d task %d", call, t).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void runEachHandsOutOneTaskAtATime() {
    try (WorkerPool pool = new WorkerPool(2)) {
      for (int call = 0; call < 2_000; call++) {
        int tasks = call % 19;
        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, tasks));
        pool.runEach(tasks, (worker, from, to) -> {
          assertThat(to).isEqualTo(from + 1);
          hits.incrementAndGet(from);
        });
        for (int t = 0; t < tasks; t++) {
          assertThat(hits.get(t)).as("call %d task %d", call, t).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void parkedWorkersWakeForTheNextCall() {
    try (WorkerPool pool = new WorkerPool(2)) {
      for (int call = 0; call < 20; call++) {
        // idle past the spin, so the helper (and a waiting caller) have parked
        java.util.concurrent.locks.LockSupport.parkNanos(3 * WorkerPool.SPIN_NANOS);
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        pool.run(64, (worker, from, to) -> {
          for (int t = from; t < to; t++) {
            hits.incrementAndGet(t);
          }
        });
        for (int t = 0; t < 64; t++) {
          assertThat(hits.get(t)).as("call %d task %d", call, t).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void aCallFromInsideABodyRunsOnThatWorker() {
    try (WorkerPool pool = new WorkerPool(2)) {
      AtomicIntegerArray hits = new AtomicIntegerArray(8 * 3);
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
          pool.run(8, (worker, from, to) -> {
            for (int t = from; t < to; t++) {
              int outer = t;
              pool.run(3, (inner, f, e) -> {
                assertThat(inner).isEqualTo(worker);
                for (int i = f; i < e; i++) {
                  hits.incrementAndGet(outer * 3 + i);
                }
              });
            }
          }));
      for (int i = 0; i < hits.length(); i++) {
        assertThat(hits.get(i)).as("task %d", i).isEqualTo(1);
      }
    }
  }

  @Test
  void aWorkerThatIsHeldUpTakesFewerChunks() throws InterruptedException {
    try (WorkerPool pool = new WorkerPool(2)) {
      int tasks = 8 * WorkerPool.CLAIMS_PER_WORKER;
      AtomicIntegerArray done = new AtomicIntegerArray(2);
      java.util.concurrent.CountDownLatch slow = new java.util.concurrent.CountDownLatch(1);
      pool.run(tasks, (worker, from, to) -> {
        if (worker == 1 && done.get(1) == 0) {
          // the helper thread's first chunk waits until the caller has taken all the others
          try {
            slow.await(30, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        done.addAndGet(worker, to - from);
        if (worker == 0 && done.get(0) >= tasks - (to - from)) {
          slow.countDown();
        }
      });
      assertThat(done.get(0) + done.get(1)).isEqualTo(tasks);
      assertThat(done.get(0)).isGreaterThan(tasks / 2);
    }
  }

  @Test
  void aFailureReachesTheCallerAfterTheOtherTasksFinish() {
    try (WorkerPool pool = new WorkerPool(2)) {
      AtomicIntegerArray done = new AtomicIntegerArray(8);
      assertThatThrownBy(() -> pool.run(8, (worker, from, to) -> {
        for (int t = from; t < to; t++) {
          if (t == 5) {
            throw new IllegalArgumentException("bad panel 5");
          }
          done.incrementAndGet(t);
        }
      })).isInstanceOf(IllegalArgumentException.class).hasMessage("bad panel 5");
      for (int t = 0; t < 5; t++) {
        assertThat(done.get(t)).as("task %d", t).isEqualTo(1);
      }
      assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> {
        if (from == 0) {
          throw new IllegalStateException("task 0 failed");
        }
      })).isInstanceOf(IllegalStateException.class).hasMessage("task 0 failed");
      assertThatThrownBy(() -> pool.run(2, (worker, from, to) -> {
        if (to == 2) {
          throw new AssertionError("an error, not an exception");
        }
      })).isInstanceOf(AssertionError.class);
      // the pool still works after failures
      AtomicInteger sum = new AtomicInteger();
      pool.run(10, (worker, from, to) -> sum.addAndGet(to - from));
      assertThat(sum.get()).isEqualTo(10);
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
