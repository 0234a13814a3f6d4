package io.batchgen.engine.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads for coarse work units. {@link #run} hands {@code tasks} out in
 * contiguous chunks, about {@link #CLAIMS_PER_WORKER} per worker, each worker (the calling thread
 * is worker 0) claiming the next chunk when it is done with one, and returns when all are done:
 * a worker that gets less CPU (other work on its core, a shared machine) takes fewer chunks
 * instead of holding the others up at the end. Which worker computes a task never changes the
 * task's result: callers give every output element exactly one task.
 *
 * <p>Hand-over: the caller publishes a call and unparks the workers that take part (no queue,
 * no futures); a worker that finishes a call, and a caller waiting for the last chunks, spin for
 * up to {@link #SPIN_NANOS} before they park. The spin is short on purpose: it covers the two
 * calls of one expert FFN, microseconds apart, but not the gaps between modules. Longer spins
 * (100 µs) measured no better at batch 64 on a quiet machine and slower decoding with another
 * tenant on the second core, where a spinning worker loses its core's time to it. The caller
 * waits only for workers that claimed a chunk: one that wakes after every chunk was taken (on a
 * core another tenant holds, that can be milliseconds) finds nothing to do, and the caller has
 * long returned.
 *
 * <p>Thread-safety: {@link #run} may be called from any thread; calls are serialised. A call
 * from inside a body (nested) runs on the calling worker alone.
 */
final class WorkerPool implements AutoCloseable {
  /** Body of a parallel loop: runs tasks {@code [from, to)} on worker {@code worker}. */
  interface Range {
    void run(int worker, int from, int to);
  }

  /** Chunks per worker and call: enough to even out uneven workers, few enough to stay cheap. */
  static final int CLAIMS_PER_WORKER = 4;
  /** How long an idle worker, or a caller waiting for the workers, spins before it parks. */
  static final long SPIN_NANOS = 10_000;
  /** A parked caller looks this often whether the pool was closed under it. */
  private static final long PARK_CHECK_NANOS = 10_000_000;
  private static final AtomicInteger POOLS = new AtomicInteger();
  private final int threads;
  private final Thread[] helpers;
  /** Per helper: set while it is parked (or about to park) waiting for the next call. */
  private final Parking[] parking;
  /** The call in progress or last finished; a new one replaces it. */
  private volatile Call current;
  private volatile boolean closed;

  /** One call of {@link #run}: what to run and who is still at it. */
  private static final class Call {
    final int tasks;
    final int chunk;
    final int workers;
    final Range body;
    final Thread caller;
    final AtomicInteger next = new AtomicInteger();
    /**
     * Helpers (workers 1 ..) inside {@link #claim} now. A helper counts itself in before it
     * claims a chunk, so once the caller has seen every chunk claimed, a helper it has not seen
     * here finds none left: the caller waits only for helpers that took part, never for one
     * that has yet to wake up (on a shared core that can take milliseconds).
     */
    final AtomicInteger active = new AtomicInteger();
    volatile boolean callerParked;
    /** The first failure of a helper. */
    volatile Throwable failure;

    Call(int tasks, int chunk, int workers, Range body) {
      this.tasks = tasks;
      this.chunk = chunk;
      this.workers = workers;
      this.body = body;
      this.caller = Thread.currentThread();
    }

    /** Runs chunks of this call on {@code worker} until none is left. */
    void claim(int worker) {
      for (int from = next.getAndAdd(chunk); from < tasks; from = next.getAndAdd(chunk)) {
        body.run(worker, from, Math.min(tasks, from + chunk));
      }
    }
  }

  private static final class Parking {
    volatile boolean parked;
  }

  WorkerPool(int threads) {
    this.threads = threads;
    int id = POOLS.incrementAndGet();
    this.helpers = new Thread[Math.max(0, threads - 1)];
    this.parking = new Parking[helpers.length];
    for (int i = 0; i < helpers.length; i++) {
      int worker = i + 1;
      parking[i] = new Parking();
      helpers[i] = new Thread(() -> helperLoop(worker), "batchgen-cpu-" + id + "-" + worker);
      helpers[i].setDaemon(true);
      helpers[i].start();
    }
  }

  int threads() {
    return threads;
  }

  void run(int tasks, Range body) {
    call(tasks, Math.max(1, tasks / (threads * CLAIMS_PER_WORKER)), body);
  }

  /**
   * {@link #run} handing tasks out one at a time: for a few large tasks of uneven size (whole
   * expert FFNs), best given largest first, so the workers finish close together.
   */
  void runEach(int tasks, Range body) {
    call(tasks, 1, body);
  }

  private void call(int tasks, int chunk, Range body) {
    if (closed) {
      throw new IllegalStateException("Worker pool is closed");
    }
    int self = workerIndexOfThisThread();
    if (self >= 0) {
      // a call from inside a body: its workers are busy with the outer call, so run it here
      if (tasks > 0) {
        body.run(self, 0, tasks);
      }
      return;
    }
    synchronized (this) {
      runCall(tasks, chunk, body);
    }
  }

  /** This thread's worker index while it runs a body of this pool's call; else -1. */
  private int workerIndexOfThisThread() {
    if (Thread.holdsLock(this)) {
      return 0;
    }
    Thread me = Thread.currentThread();
    for (int i = 0; i < helpers.length; i++) {
      if (helpers[i] == me) {
        return i + 1;
      }
    }
    return -1;
  }

  private void runCall(int tasks, int chunk, Range body) {
    int workers = Math.min(threads, tasks);
    if (workers <= 1) {
      if (tasks > 0) {
        body.run(0, 0, tasks);
      }
      return;
    }
    Call call = new Call(tasks, chunk, workers, body);
    current = call;
    for (int w = 1; w < workers; w++) {
      if (parking[w - 1].parked) {
        LockSupport.unpark(helpers[w - 1]);
      }
    }
    Throwable failure = null;
    try {
      call.claim(0);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    awaitHelpers(call, this);
    Throwable helper = call.failure;
    if (helper instanceof Error err) {
      throw err;
    }
    if (failure == null) {
      failure = helper;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
  }

  /**
   * Waits until no helper is running a chunk of {@code call} (the caller has claimed the last
   * one already): spins, then parks.
   */
  private static void awaitHelpers(Call call, WorkerPool pool) {
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    while (call.active.get() > 0 && System.nanoTime() < spinUntil) {
      Thread.onSpinWait();
    }
    if (call.active.get() == 0) {
      return;
    }
    call.callerParked = true;
    boolean interrupted = false;
    while (call.active.get() > 0) {
      LockSupport.parkNanos(call, PARK_CHECK_NANOS);
      interrupted |= Thread.interrupted();
      if (pool.closed && !pool.workersAlive() && call.active.get() > 0) {
        throw new IllegalStateException("Worker pool was closed during a call");
      }
    }
    if (interrupted) {
      // the workers were still writing the caller's buffers: finish, then report the interrupt
      Thread.currentThread().interrupt();
    }
  }

  private void helperLoop(int worker) {
    Parking me = parking[worker - 1];
    Call done = null;
    while (!closed) {
      Call call = awaitCall(done, me);
      if (call == null) {
        return;
      }
      done = call;
      if (worker >= call.workers) {
        continue;
      }
      call.active.incrementAndGet();
      try {
        call.claim(worker);
      } catch (RuntimeException | Error e) {
        if (call.failure == null) {
          call.failure = e;
        }
      } finally {
        if (call.active.decrementAndGet() == 0 && call.callerParked) {
          LockSupport.unpark(call.caller);
        }
      }
    }
  }

  /** The next call after {@code done}: spins, then parks; null once the pool is closed. */
  private Call awaitCall(Call done, Parking me) {
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    Call c = current;
    while (c == done && !closed && System.nanoTime() < spinUntil) {
      Thread.onSpinWait();
      c = current;
    }
    while (c == done && !closed) {
      me.parked = true;
      c = current;
      if (c == done && !closed) {
        LockSupport.park(this);
        c = current;
      }
      me.parked = false;
    }
    return c != done ? c : null;
  }

  /** Whether any worker thread may still be running (tests). */
  boolean workersAlive() {
    for (Thread t : helpers) {
      if (t.isAlive()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    closed = true;
    for (Thread t : helpers) {
      LockSupport.unpark(t);
    }
  }
}
