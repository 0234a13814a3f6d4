package io.batchgen.engine.backend;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of worker threads for coarse work units. {@link #run} splits {@code tasks} into one
 * contiguous range per worker (the calling thread is worker 0) and returns when all are done.
 * Which worker computes a task never changes the task's result: callers give every output element
 * exactly one task.
 *
 * <p>Workers park between calls. Spinning instead (a few tens of microseconds before parking)
 * was measured here and made decoding slower: on a machine whose other core runs other work, a
 * spinning worker loses its core to it and the wake-up that parking gets is the faster hand-over.
 */
final class WorkerPool implements AutoCloseable {
  /** Body of a parallel loop: runs tasks {@code [from, to)} on worker {@code worker}. */
  interface Range {
    void run(int worker, int from, int to);
  }

  private static final AtomicInteger POOLS = new AtomicInteger();
  private final int threads;
  private final ExecutorService executor;

  WorkerPool(int threads) {
    this.threads = threads;
    int id = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.executor = threads <= 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
      Thread t = new Thread(r, "batchgen-cpu-" + id + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  int threads() {
    return threads;
  }

  void run(int tasks, Range body) {
    if (executor != null && executor.isShutdown()) {
      throw new IllegalStateException("Worker pool is closed");
    }
    int workers = Math.min(threads, tasks);
    if (workers <= 1) {
      if (tasks > 0) {
        body.run(0, 0, tasks);
      }
      return;
    }
    @SuppressWarnings("unchecked")
    Future<?>[] futures = new Future<?>[workers - 1];
    for (int w = 1; w < workers; w++) {
      int worker = w;
      int from = (int) ((long) tasks * w / workers);
      int to = (int) ((long) tasks * (w + 1) / workers);
      futures[w - 1] = executor.submit(() -> body.run(worker, from, to));
    }
    RuntimeException failure = null;
    try {
      body.run(0, 0, (int) ((long) tasks / workers));
    } catch (RuntimeException e) {
      failure = e;
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Error err) {
          throw err;
        }
        if (failure == null) {
          failure = cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for CPU workers", e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Whether any worker thread may still be running (tests). */
  boolean workersAlive() {
    return executor != null && !executor.isTerminated();
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
