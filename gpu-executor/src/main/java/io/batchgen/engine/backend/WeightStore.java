package io.batchgen.engine.backend;

import io.batchgen.core.model.WeightTraffic;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.FileRegion;
import io.batchgen.engine.model.WeightTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cpu backend's weights in two tiers: a <b>resident</b> tier of compute-ready matrices
 * ({@link PanelGemm.Packed} panels) under a byte budget, and the <b>backing</b> tier, the
 * checkpoint file, read explicitly with positional {@link FileChannel} reads into a reusable
 * off-heap staging buffer (never by page faults through the mapping), so every byte brought in is
 * counted and timed ({@link #traffic()}).
 *
 * <p>A module call {@link #acquire}s each matrix it needs (loading it if absent) and
 * {@link #release}s it when done; a matrix in use is pinned and never evicted. To make room the
 * store evicts unpinned matrices, those the runtime does not want soon first
 * ({@link #want}), then the one whose next use in model order is furthest away (for the sweep of a
 * forward pass, the one just used), least recently used on ties or for matrices without a model
 * order. Evicted panels go to a free pool and are reused by the next matrix of the same shape
 * (every expert of a layer has one), so a streaming run does not allocate a large array per load;
 * resident plus pooled bytes never exceed the budget.
 *
 * <p>Thread-safety: all methods may be called from any thread; the scheduler thread acquires and
 * releases, a loader thread may {@link #load} ahead of need. Loads run outside the lock; a caller
 * that needs a matrix another thread is loading waits for it (with a deadline).
 */
final class WeightStore implements AutoCloseable {
  /** Longest a caller waits for another thread's load or for room before failing. */
  private static final long WAIT_NANOS = TimeUnit.MINUTES.toNanos(5);

  private final WorkerPool pool;
  private final PanelGemm gemm;
  /** Packing scratch of the pool's workers (a caller's loads pack on the pool). */
  private final Workspace[] ws;
  /** Packing scratch of threads that pack alone (the loader). */
  private final ThreadLocal<Workspace> aloneWs;
  private final long budget;
  private final long modelBytes;
  private final Map<WeightTensor, Entry> entries = new HashMap<>();
  private final Map<WeightTensor, Integer> orders = new HashMap<>();
  private final Map<ShapeKey, ArrayDeque<PanelGemm.Packed>> free = new HashMap<>();
  private final Map<Path, FileChannel> channels = new HashMap<>();
  private int cycle;
  private int cursor;
  private long clock;
  private long resident;
  private long pooled;
  private Map<WeightTensor, Integer> wanted = Map.of();
  private ByteBuffer callerStaging;
  private long bytesRead;
  private long readNanos;
  private long packNanos;
  private long loads;
  private long prefetched;
  private long hits;
  private long evictions;
  private long stallNanos;
  private boolean closed;

  /** One resident (or loading) matrix. */
  private static final class Entry {
    final WeightTensor w;
    final long bytes;
    final int order;
    PanelGemm.Packed packed;
    /** Pooled storage taken for the load, or null to allocate. */
    PanelGemm.Packed storage;
    int pins;
    long lastUse;

    Entry(WeightTensor w, long bytes, int order) {
      this.w = w;
      this.bytes = bytes;
      this.order = order;
    }
  }

  /** Panels of one shape and element type are interchangeable storage. */
  private record ShapeKey(int n, int k, DType dtype) {
    static ShapeKey of(WeightTensor w) {
      return new ShapeKey(w.rows(), w.cols(), w.dtype());
    }
  }

  /**
   * @param pool        packs the caller's loads (the scheduler thread's) on its workers
   * @param gemm        the panels matrices are packed into
   * @param budgetBytes compute-ready bytes the resident tier may hold
   * @param modelBytes  compute-ready bytes of the whole model (0 when unknown)
   */
  WeightStore(WorkerPool pool, PanelGemm gemm, long budgetBytes, long modelBytes) {
    this.pool = pool;
    this.gemm = gemm;
    this.ws = new Workspace[pool.threads()];
    for (int i = 0; i < ws.length; i++) {
      ws[i] = new Workspace(gemm);
    }
    this.aloneWs = ThreadLocal.withInitial(() -> new Workspace(gemm));
    this.budget = budgetBytes;
    this.modelBytes = modelBytes;
  }

  PanelGemm gemm() {
    return gemm;
  }

  /** Whether the model's compute-ready weights exceed the budget (weights stream). */
  boolean streaming() {
    return modelBytes > budget;
  }

  long budget() {
    return budget;
  }

  /**
   * Gives {@code w} its position in one forward pass (attention of layer 0 is 0, ...), of
   * {@code cycle} positions in all: the store evicts the matrix whose next use is furthest.
   */
  synchronized void order(WeightTensor w, int order, int cycle) {
    orders.put(w, order);
    this.cycle = cycle;
  }

  /** Compute-ready bytes held now. */
  synchronized long bytes() {
    return resident;
  }

  /** Whether {@code w} is resident (loaded, not loading). */
  synchronized boolean holds(WeightTensor w) {
    Entry e = entries.get(w);
    return e != null && e.packed != null;
  }

  /**
   * The matrices the runtime expects next, most wanted first (rank 0); replaces earlier hints.
   * They are evicted last.
   */
  synchronized void want(Map<WeightTensor, Integer> ranked) {
    this.wanted = ranked;
  }

  /** {@code w} packed and pinned until {@link #release}: resident, or brought in now. */
  PanelGemm.Packed acquire(WeightTensor w) {
    long t0 = System.nanoTime();
    Entry e;
    synchronized (this) {
      long deadline = t0 + WAIT_NANOS;
      while (true) {
        e = entries.get(w);
        if (e != null && e.packed != null) {
          e.pins++;
          hits++;
          touch(e);
          return e.packed;
        }
        if (e == null) {
          e = reserve(w);
          if (e != null) {
            e.pins++;
            break;
          }
          if (gemm.packedBytes(w) > budget) {
            break; // larger than the whole budget: packed for this call, not kept
          }
          if (!anyLoading()) {
            throw new IllegalStateException("The weight budget of " + budget + " bytes has no"
                + " room for " + w.name() + " (" + gemm.packedBytes(w) + " bytes): "
                + resident + " bytes are resident and pinned by module calls in progress");
          }
        }
        // another thread is loading w, or holds the room it needs: wait for it
        waitUntil(deadline, w);
      }
    }
    try {
      PanelGemm.Packed p = e != null ? fill(e, false) : bringIn(w, null, false);
      synchronized (this) {
        stallNanos += System.nanoTime() - t0;
        if (e != null) {
          touch(e);
        }
      }
      return p;
    } catch (RuntimeException | Error ex) {
      if (e != null) {
        abandon(e);
      }
      throw ex;
    }
  }

  /** Unpins {@code w} after {@link #acquire}. */
  synchronized void release(WeightTensor w) {
    Entry e = entries.get(w);
    if (e != null && e.pins > 0) {
      e.pins--;
      if (e.pins == 0) {
        notifyAll();
      }
    }
  }

  /**
   * Brings {@code w} in ahead of need on the calling (loader) thread, if it is absent and room can
   * be made without evicting a matrix wanted as much or more ({@code rank}: 0 is the most wanted);
   * returns false when there was no such room (or the store is closed).
   */
  boolean load(WeightTensor w, int rank) {
    Entry e;
    synchronized (this) {
      if (closed) {
        return false;
      }
      if (entries.containsKey(w)) {
        return true;
      }
      e = reserveFor(w, rank);
      if (e == null) {
        return false;
      }
    }
    try {
      fill(e, true);
      return true;
    } catch (RuntimeException | Error ex) {
      abandon(e);
      throw ex;
    }
  }

  /** Counters so far. */
  synchronized WeightTraffic traffic() {
    return new WeightTraffic(budget, modelBytes, resident, bytesRead, readNanos, packNanos, loads,
        prefetched, hits, evictions, stallNanos);
  }

  // ---------------------------------------------------------------- room

  private void touch(Entry e) {
    e.lastUse = ++clock;
    if (e.order >= 0) {
      cursor = e.order;
    }
  }

  /** A loading entry for {@code w} with room made for it, or null when none can be made. */
  private Entry reserve(WeightTensor w) {
    return reserveFor(w, -1);
  }

  /**
   * Makes room for {@code w} by evicting unpinned matrices ranked after {@code rank} in the
   * wanted list (unwanted ones always; -1 lets any unpinned matrix go), and registers it as
   * loading; null when there is no room to make.
   */
  private Entry reserveFor(WeightTensor w, int rank) {
    long need = gemm.packedBytes(w);
    if (need > budget) {
      return null;
    }
    ShapeKey key = ShapeKey.of(w);
    while (!hasPooled(key) && resident + pooled + need > budget) {
      if (!dropPooled()) {
        Entry victim = victim(rank);
        if (victim == null) {
          return null;
        }
        evict(victim);
      }
    }
    Entry e = new Entry(w, need, orders.getOrDefault(w, -1));
    e.storage = takePooled(key);
    entries.put(w, e);
    resident += need;
    return e;
  }

  private boolean anyLoading() {
    for (Entry e : entries.values()) {
      if (e.packed == null) {
        return true;
      }
    }
    return false;
  }

  private boolean hasPooled(ShapeKey key) {
    ArrayDeque<PanelGemm.Packed> q = free.get(key);
    return q != null && !q.isEmpty();
  }

  /** Drops one pooled array that no waiting shape can use; false when none is pooled. */
  private boolean dropPooled() {
    for (ArrayDeque<PanelGemm.Packed> q : free.values()) {
      PanelGemm.Packed p = q.poll();
      if (p != null) {
        pooled -= p.bytes();
        return true;
      }
    }
    return false;
  }

  /** Pooled storage of {@code key}'s shape, taken out of the pool, or null. */
  private PanelGemm.Packed takePooled(ShapeKey key) {
    ArrayDeque<PanelGemm.Packed> q = free.get(key);
    PanelGemm.Packed p = q == null ? null : q.poll();
    if (p != null) {
      pooled -= p.bytes();
    }
    return p;
  }

  /**
   * The matrix to evict: unpinned and loaded, not wanted at {@code rank} or better; unwanted
   * before wanted (least wanted first), then furthest next use in model order, then least
   * recently used.
   */
  private Entry victim(int rank) {
    Entry best = null;
    for (Entry e : entries.values()) {
      if (e.pins == 0 && e.packed != null && wantRank(e) > rank
          && (best == null || evictsBefore(e, best))) {
        best = e;
      }
    }
    return best;
  }

  private int wantRank(Entry e) {
    Integer r = wanted.get(e.w);
    return r == null ? Integer.MAX_VALUE : r;
  }

  private boolean evictsBefore(Entry a, Entry b) {
    int byRank = Integer.compare(wantRank(a), wantRank(b));
    if (byRank != 0) {
      return byRank > 0;
    }
    int byDistance = Integer.compare(distance(a), distance(b));
    if (byDistance != 0) {
      return byDistance > 0;
    }
    return a.lastUse < b.lastUse;
  }

  /** Modules until {@code e} runs again in a sweep of the model from the cursor. */
  private int distance(Entry e) {
    return e.order < 0 || cycle == 0 ? 0 : Math.floorMod(e.order - cursor - 1, cycle);
  }

  private void evict(Entry e) {
    entries.remove(e.w);
    resident -= e.bytes;
    evictions++;
    free.computeIfAbsent(ShapeKey.of(e.w), k -> new ArrayDeque<>()).add(e.packed);
    pooled += e.bytes;
  }

  /** A failed load gives its room back. */
  private synchronized void abandon(Entry e) {
    if (entries.get(e.w) == e) {
      entries.remove(e.w);
      resident -= e.bytes;
    }
    notifyAll();
  }

  private void waitUntil(long deadline, WeightTensor w) {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new IllegalStateException("Waited " + TimeUnit.NANOSECONDS.toSeconds(WAIT_NANOS)
          + " s for another thread's load of weights before " + w.name() + " ("
          + gemm.packedBytes(w) + " bytes; budget " + budget + " bytes)");
    }
    try {
      TimeUnit.NANOSECONDS.timedWait(this, left);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting to load " + w.name(), ex);
    }
  }

  // ---------------------------------------------------------------- loading

  /** Loads a reserved entry and publishes it. */
  private PanelGemm.Packed fill(Entry e, boolean loader) {
    PanelGemm.Packed p = bringIn(e.w, e.storage, loader);
    synchronized (this) {
      e.packed = p;
      e.storage = null;
      if (loader) {
        prefetched++;
      }
      notifyAll();
    }
    return p;
  }

  /**
   * Reads {@code w}'s stored bytes from the backing tier and packs them into {@code into} (or new
   * storage). The caller's loads pack on the worker pool; the loader thread packs alone.
   */
  private PanelGemm.Packed bringIn(WeightTensor w, PanelGemm.Packed into, boolean loader) {
    long t0 = System.nanoTime();
    WeightTensor staged = stage(w, loader);
    long t1 = System.nanoTime();
    PanelGemm.Packed dst = into != null ? into.renamed(w.name()) : gemm.allocate(w);
    if (loader) {
      gemm.pack(staged, 0, gemm.panels(w.rows()), 0, dst, aloneWs.get());
    } else {
      pool.run(gemm.panels(w.rows()),
          (worker, from, to) -> gemm.pack(staged, from, to, 0, dst, ws[worker]));
    }
    long t2 = System.nanoTime();
    synchronized (this) {
      bytesRead += w.bytes();
      readNanos += t1 - t0;
      packNanos += t2 - t1;
      loads++;
    }
    return dst;
  }

  /** Per-thread scratch of threads that pack alone. */
  private static final class LoaderScratch {
    static final ThreadLocal<ByteBuffer[]> STAGING = ThreadLocal.withInitial(() ->
        new ByteBuffer[1]);
  }

  /**
   * {@code w}'s bytes read into a staging buffer (the caller's, or the loader thread's), as a
   * tensor view over it.
   */
  private WeightTensor stage(WeightTensor w, boolean loader) {
    int n = (int) w.bytes();
    ByteBuffer buf;
    if (loader) {
      ByteBuffer[] slot = LoaderScratch.STAGING.get();
      slot[0] = grown(slot[0], n);
      buf = slot[0];
    } else {
      synchronized (this) {
        callerStaging = grown(callerStaging, n);
        buf = callerStaging;
      }
    }
    buf.clear().limit(n);
    FileRegion origin = w.origin();
    if (origin == null) {
      buf.put(w.data().duplicate());
    } else {
      FileChannel ch = channel(origin.file());
      long pos = origin.offset();
      try {
        while (buf.hasRemaining()) {
          int r = ch.read(buf, pos);
          if (r < 0) {
            throw new IllegalStateException("Checkpoint " + origin.file() + " ended while reading "
                + w.name() + " at byte " + pos + "; the file was truncated after loading");
          }
          pos += r;
        }
      } catch (IOException ex) {
        throw new UncheckedIOException("Cannot read " + w.name() + " from " + origin.file()
            + ": " + ex.getMessage(), ex);
      }
    }
    buf.flip();
    return new WeightTensor(w.name(), w.dtype(), w.rows(), w.cols(),
        buf.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static ByteBuffer grown(ByteBuffer b, int n) {
    if (b != null && b.capacity() >= n) {
      return b;
    }
    return ByteBuffer.allocateDirect(Math.max(n, b == null ? 0 : b.capacity() + b.capacity() / 2))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  private synchronized FileChannel channel(Path file) {
    if (closed) {
      throw new IllegalStateException("Weight store is closed");
    }
    return channels.computeIfAbsent(file, f -> {
      try {
        return FileChannel.open(f, StandardOpenOption.READ);
      } catch (IOException ex) {
        throw new UncheckedIOException("Cannot open checkpoint " + f + " to read weights: "
            + ex.getMessage(), ex);
      }
    });
  }

  @Override
  public synchronized void close() {
    closed = true;
    for (FileChannel ch : channels.values()) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // read-only; nothing to flush
      }
    }
    channels.clear();
    entries.clear();
    free.clear();
    resident = 0;
    pooled = 0;
    notifyAll();
  }
}
