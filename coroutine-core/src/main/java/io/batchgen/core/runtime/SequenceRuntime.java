package io.batchgen.core.runtime;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.core.sampling.Detokenizer;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sequence coroutine runtime for one model on one device: the API that engines and the Spark
 * executor host use.
 *
 * <p>Lifecycle: the constructor starts one scheduler thread, which creates the KV store and then
 * makes every {@link ModuleExecutor} call. Any thread may {@link #submit}, {@link #cancel},
 * {@link #snapshot}, {@link #restore} and read {@link #metrics()}; these only enqueue a command
 * for the scheduler thread. Each submitted sequence gets exactly one result, on the scheduler
 * thread, through its {@link ResultListener} (or a bounded {@link ResultQueue}) — unless it is
 * detached by a migration snapshot. {@link #close()} cancels what is still running, waits for
 * the scheduler thread, and frees the KV store; the executor stays open (its owner closes it).
 *
 * <p>Failures: problems with one request (bad token ids, too long for the KV budget) finish only
 * that sequence with reason {@code error}. A module call that throws, or an {@link Error} on the
 * scheduler thread, fails the runtime: from then on every call throws
 * {@link RuntimeFailedException} naming the cause, and so does every {@link ResultQueue} a caller
 * waits on, so no caller waits forever. A failed runtime is not reused: its owner closes it and
 * starts another.
 */
public final class SequenceRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SequenceRuntime.class);

  private final ModuleExecutor executor;
  private final RuntimeConfig config;
  private final ModelShape shape;
  private final Detokenizer detokenizer;
  private final MetricsRecorder metrics = new MetricsRecorder();
  private final LinkedBlockingQueue<Consumer<Scheduler>> inbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closing;
  private volatile Throwable failure;
  private Scheduler scheduler;

  /** A runtime without stop-string support (requests with stop strings are rejected). */
  public SequenceRuntime(ModuleExecutor executor, RuntimeConfig config) {
    this(executor, config, null);
  }

  /**
   * @param executor    runs the modules; stays owned by the caller
   * @param config      scheduling, batching and memory settings
   * @param detokenizer turns tokens into text for stop strings; null if unsupported
   */
  public SequenceRuntime(ModuleExecutor executor, RuntimeConfig config, Detokenizer detokenizer) {
    this.executor = executor;
    this.config = config;
    this.shape = executor.shape();
    this.detokenizer = detokenizer;
    CompletableFuture<Void> started = new CompletableFuture<>();
    this.thread = new Thread(() -> run(started), "batchgen-scheduler");
    thread.setDaemon(true);
    thread.start();
    try {
      started.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
    LOG.info("Sequence runtime started: mode={}, executor={}, kvBlocks={}", config.mode(),
        executor.describe(), metrics.snapshot().kvBlocksTotal());
  }

  public ModelShape shape() {
    return shape;
  }

  public RuntimeConfig config() {
    return config;
  }

  /**
   * Queues {@code request}; {@code listener} gets its result. Invalid token ids, an over-long
   * prompt or a duplicate live id produce an {@code error} result rather than a throw.
   *
   * @throws IllegalArgumentException if the request uses stop strings and no detokenizer was given
   * @throws IllegalStateException    after {@link #close()} or a fatal failure
   */
  public void submit(GenerationRequest request, ResultListener listener) {
    if (!request.sampling().stopStrings().isEmpty() && detokenizer == null) {
      throw new IllegalArgumentException("Request [" + request.id() + "] has stop strings but"
          + " this runtime was built without a Detokenizer; pass one to the constructor");
    }
    long now = System.nanoTime();
    send(s -> s.submit(request, listener, now));
  }

  /** A bounded per-caller result stream; see {@link ResultQueue}. */
  public ResultQueue newResultQueue(int capacity) {
    return new ResultQueue(this, capacity);
  }

  /** Cancels a sequence; its listener gets a {@code cancelled} result. Unknown ids are ignored. */
  public void cancel(String id) {
    send(s -> s.cancel(id));
  }

  /**
   * Captures sequence {@code id} between steps. With {@code detach} it leaves this runtime (no
   * result will be delivered here) so it can be {@link #restore restored} elsewhere; without, it
   * continues here. With {@code includeKv} false the destination recomputes the KV.
   * The future fails with {@link IllegalArgumentException} if {@code id} is not live.
   */
  public CompletableFuture<SequenceSnapshot> snapshot(String id, boolean detach,
      boolean includeKv) {
    CompletableFuture<SequenceSnapshot> f = new CompletableFuture<>();
    send(s -> {
      try {
        f.complete(s.snapshot(id, detach, includeKv));
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    });
    return f;
  }

  /** Snapshots several sequences at one scheduling point; unknown ids are skipped. */
  public CompletableFuture<List<SequenceSnapshot>> snapshotAll(List<String> ids, boolean detach,
      boolean includeKv) {
    CompletableFuture<List<SequenceSnapshot>> f = new CompletableFuture<>();
    send(s -> {
      try {
        List<SequenceSnapshot> out = new java.util.ArrayList<>();
        for (String id : ids) {
          try {
            out.add(s.snapshot(id, detach, includeKv));
          } catch (IllegalArgumentException missing) {
            // finished or already gone: nothing to migrate
          }
        }
        f.complete(out);
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    });
    return f;
  }

  /**
   * Detaches up to {@code max} sequences for migration to another runtime, cheapest to move first:
   * not yet started (youngest first; in {@link AdmissionOrder#LONGEST_FIRST} order the longest
   * first, the ones that must start soonest), then parked, then running (youngest first). Their
   * results will not be delivered here.
   */
  public CompletableFuture<List<SequenceSnapshot>> detachForMigration(int max,
      boolean includeKv) {
    return detachForMigration(max, true, includeKv);
  }

  /**
   * As {@link #detachForMigration(int, boolean)}; with {@code startedToo} false only sequences
   * that have not started yet (no KV to move or recompute) are taken.
   */
  public CompletableFuture<List<SequenceSnapshot>> detachForMigration(int max,
      boolean startedToo, boolean includeKv) {
    return detachForMigration(max, startedToo, includeKv, id -> true);
  }

  /**
   * As {@link #detachForMigration(int, boolean, boolean)}, taking only sequences whose id
   * {@code movable} accepts (called on the scheduler thread; it must be quick and thread-safe).
   */
  public CompletableFuture<List<SequenceSnapshot>> detachForMigration(int max,
      boolean startedToo, boolean includeKv, java.util.function.Predicate<String> movable) {
    return detachForMigration(max, 0, startedToo, includeKv, movable);
  }

  /**
   * As {@link #detachForMigration(int, boolean, boolean, java.util.function.Predicate)},
   * stopping once the sequences taken carry {@code maxWork} tokens of remaining work (positions
   * to prefill plus new tokens expected, as the load estimate counts them; 0 for no limit): a
   * move of so much work, not so many sequences.
   */
  public CompletableFuture<List<SequenceSnapshot>> detachForMigration(int max, long maxWork,
      boolean startedToo, boolean includeKv, java.util.function.Predicate<String> movable) {
    CompletableFuture<List<SequenceSnapshot>> f = new CompletableFuture<>();
    send(s -> {
      try {
        f.complete(s.detachForMigration(max, maxWork, startedToo, includeKv, movable));
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    });
    return f;
  }

  /**
   * Resumes a sequence snapshotted in another runtime of the same model; {@code listener} gets
   * its result.
   *
   * @throws IllegalArgumentException if the snapshot is from a different model
   */
  public void restore(SequenceSnapshot snapshot, ResultListener listener) {
    if (snapshot.numLayers() != shape.numLayers()
        || snapshot.kvDim() != shape.numKvHeads() * shape.headDim()
        || snapshot.vocabSize() != shape.vocabSize()) {
      throw new IllegalArgumentException("Snapshot [" + snapshot.id() + "] is from a model with "
          + snapshot.numLayers() + " layers, kvDim " + snapshot.kvDim() + ", vocab "
          + snapshot.vocabSize() + " but this runtime runs " + shape
          + "; restore it on the same model");
    }
    long now = System.nanoTime();
    send(s -> {
      try {
        s.restore(snapshot, listener, now);
      } catch (IllegalArgumentException e) {
        listener.onResult(new SequenceResult(snapshot.id(), snapshot.generated(),
            FinishReason.ERROR, e.getMessage(), snapshot.promptLength(), 0, 0,
            snapshot.preemptions()));
      }
    });
  }

  /** Sets an observer of every module batch (tests, tracing); null removes it. */
  public void setBatchObserver(ModuleBatchObserver observer) {
    send(s -> s.setObserver(observer));
  }

  /** Whether {@link #close()} has been called. */
  boolean isClosing() {
    return closing;
  }

  /** What failed the runtime, or null while it is healthy (see the class comment). */
  public Throwable failure() {
    return failure;
  }

  /**
   * Throws when a caller waiting for results would wait forever: the runtime failed, or its
   * scheduler thread has ended (closed) so nothing more will be delivered.
   */
  void checkDelivering() {
    Throwable f = failure;
    if (f != null) {
      throw failed(f);
    }
    if (!thread.isAlive()) {
      throw new RuntimeFailedException("Sequence runtime is closed; results still awaited will"
          + " not arrive", null);
    }
  }

  private static RuntimeFailedException failed(Throwable f) {
    return new RuntimeFailedException("Sequence runtime failed: " + f.getMessage()
        + (f.getMessage() != null && f.getMessage().contains(f.getClass().getSimpleName()) ? ""
        : " (" + f.getClass().getName() + ")"), f);
  }

  /** Current counters; cheap, from any thread. */
  public RuntimeMetrics metrics() {
    return metrics.snapshot();
  }

  private void send(Consumer<Scheduler> command) {
    Throwable f = failure;
    if (f != null) {
      throw failed(f);
    }
    if (closing) {
      throw new RuntimeFailedException("Sequence runtime is closed", null);
    }
    inbox.add(command);
  }

  private void run(CompletableFuture<Void> started) {
    try {
      scheduler = new Scheduler(executor, config, detokenizer, metrics);
    } catch (Throwable e) {
      // An Error here (e.g. no heap for the KV store) must still release the constructor.
      started.completeExceptionally(e);
      return;
    }
    started.complete(null);
    try {
      loop();
      scheduler.finishAll(FinishReason.CANCELLED, "runtime shut down");
    } catch (Throwable t) {
      failure = t;
      LOG.error("Sequence runtime failed; every caller waiting on it is told so", t);
      try {
        scheduler.finishAll(FinishReason.ERROR, "runtime failed: " + t);
      } catch (Throwable ignored) {
        // already failing
      }
    } finally {
      scheduler.close();
    }
  }

  private void loop() throws InterruptedException {
    while (true) {
      Consumer<Scheduler> c;
      while ((c = inbox.poll()) != null) {
        c.accept(scheduler);
      }
      if (closing && inbox.isEmpty()) {
        return;
      }
      if (!scheduler.runOnce()) {
        c = scheduler.hasLiveSequences() ? inbox.poll(10, TimeUnit.MILLISECONDS) : inbox.take();
        if (c != null) {
          c.accept(scheduler);
        }
      }
    }
  }

  /**
   * Stops accepting work, cancels every live sequence (their listeners get {@code cancelled}
   * results), waits for the scheduler thread and frees the KV store. Idempotent.
   */
  @Override
  public void close() {
    if (!closing) {
      closing = true;
      inbox.add(s -> { });
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
