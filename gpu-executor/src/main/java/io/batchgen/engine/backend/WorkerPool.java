package io.batchgen.engine.backend;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of worker threads for coarse work units. {@link #run} hands {@code tasks} out in
 * contiguous chunks, about {@link #CLAIMS_PER_WORKER} per worker, each worker (the calling thread
 * is worker 0) claiming the next chunk when it is done with one, and returns when all are done:
 * a worker that gets less CPU (other work on its core, a shared machine) takes fewer chunks
 * instead of holding the others up at the end. Which worker computes a task never changes the
 * task's result: callers give every output element exactly one task.
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

  /** Chunks per worker and call: enough to even out uneven workers, few enough to stay cheap. */
  static final int CLAIMS_PER_WORKER = 4;
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
    int chunk = Math.max(1, tasks / (workers * CLAIMS_PER_WORKER));
    AtomicInteger next = new AtomicInteger();
    @SuppressWarnings("unchecked")
    Future<?>[] futures = new Future<?>[workers - 1];
    for (int w = 1; w < workers; w++) {
      int worker = w;
      futures[w - 1] = executor.submit(() -> claim(worker, tasks, chunk, next, body));
    }
    RuntimeException failure = null;
    try {
      claim(0, tasks, chunk, next, body);
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

  /** Runs chunks of {@code chunk} tasks on {@code worker} until none is left. */
  private static void claim(int worker, int tasks, int chunk, AtomicInteger next, Range body) {
    for (int from = next.getAndAdd(chunk); from < tasks; from = next.getAndAdd(chunk)) {
      body.run(worker, from, Math.min(tasks, from + chunk));
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
