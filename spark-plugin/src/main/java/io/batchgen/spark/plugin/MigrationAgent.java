package io.batchgen.spark.plugin;

import io.batchgen.core.model.ModelShape;
import io.batchgen.core.rebalance.ExecutorLoad;
import io.batchgen.core.rebalance.LoadEstimator;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.runtime.ResultListener;
import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.snapshot.SequenceSnapshot;
import io.batchgen.core.snapshot.SnapshotCodec;
import io.batchgen.spark.plugin.PluginMessages.Ack;
import io.batchgen.spark.plugin.PluginMessages.FetchChunk;
import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.MigrateIn;
import io.batchgen.spark.plugin.PluginMessages.MigrateOut;
import io.batchgen.spark.plugin.PluginMessages.MigratedResult;
import io.batchgen.spark.plugin.PluginMessages.MigrationCounts;
import io.batchgen.spark.plugin.PluginMessages.MoveDone;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.RuntimeLoad;
import io.batchgen.spark.plugin.PluginMessages.StateChunk;
import io.batchgen.spark.runtime.EngineSpec;
import io.batchgen.spark.runtime.ExecutorRuntime;
import io.batchgen.spark.runtime.ModelRuntime;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An executor's side of live migration. As a <b>source</b> it carries out the driver's
 * {@link MigrateOut} orders: it detaches sequences from a runtime (cheapest first), keeps a lease
 * on each (its owner task's result listener and a KV-less copy to run again), and uploads their
 * snapshots to the driver in chunks, waiting while the driver's buffer is full. As a
 * <b>destination</b> it carries out {@link MigrateIn}: fetches the chunks, checks that its copy of
 * the model has the source's fingerprint (starting a runtime for the model if it has none),
 * restores the sequences, and sends each result back in its next load report. As the <b>owner</b>
 * it hands results that come back to the owning task; a sequence whose destination was lost, or
 * refused it, or did not answer within the lease, is run again here from its KV-less copy. A
 * sequence's result reaches its task exactly once: whichever comes first, the returned result or
 * the local rerun, removes the lease, and the other is dropped.
 *
 * <p>Threads: the load reporter calls {@link #report} and {@link #onOrders}; migration work runs
 * on one worker thread of its own, so moving megabytes never delays a load report.
 */
final class MigrationAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MigrationAgent.class);
  /** How long a source keeps retrying an upload the driver's buffer has no room for. */
  private static final Duration UPLOAD_PATIENCE = Duration.ofMinutes(2);

  private final String executorId;
  private final DriverChannel driver;
  private final ExecutorRuntime runtime;
  private final long leaseNanos;
  private final Upload upload;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "batchgen-migration");
    t.setDaemon(true);
    return t;
  });

  /** Sequences lent to other executors, by sequence id. */
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();
  /** Results of sequences hosted here for other executors, waiting for the next report. */
  private final ConcurrentLinkedQueue<MigratedResult> outbox = new ConcurrentLinkedQueue<>();
  /** Moves hosted here: their runtime and how many of their sequences still run. */
  private final Map<Long, Hosted> hosted = new ConcurrentHashMap<>();
  private final Map<EngineSpec, LoadEstimator.Rate> rates = new HashMap<>();

  private final AtomicLong movedOut = new AtomicLong();
  private final AtomicLong movedIn = new AtomicLong();
  private final AtomicLong bytesOut = new AtomicLong();
  private final AtomicLong withKv = new AtomicLong();
  private final AtomicLong reclaimed = new AtomicLong();

  /**
   * How a source sends state.
   *
   * @param chunkBytes        state bytes per upload RPC ({@code spark.batchgen.rebalance.chunkSize})
   * @param maxBytesPerSecond the most an executor uploads per second, 0 without a limit
   *                          ({@code spark.batchgen.rebalance.maxUploadRate})
   */
  record Upload(int chunkBytes, long maxBytesPerSecond) {
    Upload {
      if (chunkBytes < 1 || maxBytesPerSecond < 0) {
        throw new IllegalArgumentException("chunk size must be positive and the upload rate at "
            + "least 0, got " + chunkBytes + " and " + maxBytesPerSecond);
      }
    }

    /** 4 MiB chunks (small enough for Spark's RPC, large enough to stream fast), no limit. */
    static Upload defaults() {
      return new Upload(4 << 20, 0);
    }
  }

  private record Lease(long moveId, EngineSpec spec, ResultListener owner,
      SequenceSnapshot rerun, long deadlineNanos) {
  }

  /**
   * A move hosted here: its runtime, its sequences still running, and one extra count held while
   * they are being restored, so the runtime is released only after the last one finished.
   */
  private record Hosted(ModelRuntime runtime, String from, Set<String> ids,
      AtomicInteger running) {
  }

  MigrationAgent(String executorId, DriverChannel driver, ExecutorRuntime runtime,
      Duration leaseTimeout, Upload upload) {
    this.executorId = executorId;
    this.driver = driver;
    this.runtime = runtime;
    this.leaseNanos = leaseTimeout.toNanos();
    this.upload = upload;
  }

  // ------------------------------------------------------------------ the load reporter's side

  /** The next load report, carrying the results hosted moves produced since the last one. */
  LoadReport report(long sequence) {
    ExecutorRuntime.Load load = runtime.load();
    List<RuntimeLoad> runtimes = new ArrayList<>();
    for (ModelRuntime rt : runtime.runtimes()) {
      runtimes.add(runtimeLoad(rt));
    }
    List<MigratedResult> results = new ArrayList<>();
    MigratedResult r;
    while ((r = outbox.poll()) != null) {
      results.add(r);
    }
    expireLeases();
    return new LoadReport(executorId, sequence, load.queuedSequences(), load.activeSequences(),
        load.tokensGenerated(), load.newTokensBound(), counts(), runtimes, results);
  }

  /** A report did not reach the driver: its results go out with the next one. */
  void reportFailed(LoadReport report) {
    outbox.addAll(report.results());
  }

  /** Acts on the driver's answer: results at once, migration work on the worker thread. */
  void onOrders(Orders orders) {
    for (MigratedResult r : orders.results()) {
      deliver(r);
    }
    for (long moveId : orders.reclaim()) {
      reclaim(moveId, "the driver reported its destination lost or refusing");
    }
    for (long moveId : orders.cancel()) {
      cancelHosted(moveId);
    }
    for (MigrateOut m : orders.migrateOut()) {
      worker.execute(() -> migrateOut(m));
    }
    for (MigrateIn m : orders.migrateIn()) {
      worker.execute(() -> migrateIn(m));
    }
  }

  MigrationCounts counts() {
    return new MigrationCounts(movedOut.get(), movedIn.get(), bytesOut.get(), withKv.get(),
        reclaimed.get());
  }

  /** The load of one runtime in the rebalancer's terms, with rates measured between reports. */
  private RuntimeLoad runtimeLoad(ModelRuntime rt) {
    RuntimeMetrics m = rt.runtime().metrics();
    ModelShape shape = rt.runtime().shape();
    LoadEstimator.Rate rate;
    synchronized (rates) {
      rate = rates.computeIfAbsent(rt.spec(), k -> new LoadEstimator.Rate());
    }
    rate.observe(m, System.nanoTime());
    // Sequences that stay: those hosted here for other executors, and those of jobs that
    // opted out of rebalancing (option rebalance=false); the policy only moves the others.
    int staying = runtime.routes().pinned(rt); // after the metrics read (see pinned)
    for (Hosted h : hosted.values()) {
      if (h.runtime() == rt) {
        staying += h.ids().size();
      }
    }
    ExecutorLoad l = LoadEstimator.estimate(executorId, rt.spec().toString(), m, rate,
        8L * shape.numLayers() * shape.numKvHeads() * shape.headDim(),
        rt.spec().maxRunningSequences(), 0, staying);
    return new RuntimeLoad(rt.spec(), rt.provenance().modelHash(), l.queued(), l.running(),
        l.parked(), l.positionsLeft(), l.expectedNewTokens(), l.tokensPerSecond(),
        l.prefillTokensPerSecond(), l.kvBytesPerPosition(), l.meanCachedPositions(),
        l.maxRunning(), m.kvBlocksUsed(), m.kvBlocksTotal(),
        Arrays.stream(m.expertBatchSizes()).boxed().toList(), l.staying());
  }

  // ------------------------------------------------------------------ owner

  private void deliver(MigratedResult r) {
    Lease lease = leases.remove(r.sequenceId());
    if (lease == null) {
      return; // already run again here (or its task is gone): this copy is not needed
    }
    if (r.reason() == io.batchgen.core.runtime.FinishReason.CANCELLED) {
      rerun(lease); // its host stopped it (refused the move, or shut down): run it here
      return;
    }
    lease.owner().onResult(new SequenceResult(r.sequenceId(), r.tokens(), r.reason(), r.error(),
        r.promptTokens(), 0, 0, r.preemptions()));
  }

  private void reclaim(long moveId, String why) {
    int n = 0;
    for (Map.Entry<String, Lease> e : leases.entrySet()) {
      if (e.getValue().moveId() == moveId && leases.remove(e.getKey(), e.getValue())) {
        rerun(e.getValue());
        n++;
      }
    }
    if (n > 0) {
      LOG.warn("Running {} sequences of move {} here again: {}", n, moveId, why);
    }
  }

  private void expireLeases() {
    long now = System.nanoTime();
    for (Map.Entry<String, Lease> e : leases.entrySet()) {
      if (now - e.getValue().deadlineNanos() > 0 && leases.remove(e.getKey(), e.getValue())) {
        LOG.warn("Sequence of move {} did not come back within {} s; running it here again",
            e.getValue().moveId(), leaseNanos / 1_000_000_000);
        rerun(e.getValue());
      }
    }
  }

  /** Runs a lent sequence here again, from its tokens (its task still waits for it). */
  private void rerun(Lease lease) {
    ModelRuntime rt = runtime.find(lease.spec());
    if (rt == null) {
      return; // the owner task's runtime is gone, so is the task: Spark reruns its rows
    }
    try {
      rt.runtime().restore(lease.rerun(), lease.owner());
      reclaimed.incrementAndGet();
    } catch (RuntimeException e) {
      LOG.warn("Could not run sequence {} again here: {}", lease.rerun().id(), e.toString());
    }
  }

  // ------------------------------------------------------------------ source

  private void migrateOut(MigrateOut m) {
    ModelRuntime rt = runtime.find(m.spec());
    List<SequenceSnapshot> snaps = List.of();
    try {
      if (rt != null && rt.runtime().failure() == null) {
        boolean startedToo = m.kind() != Move.Kind.QUEUED;
        boolean kv = m.kind() == Move.Kind.IN_FLIGHT_WITH_KV;
        // Only sequences a task of this executor owns, of a job that allows moves: one hosted
        // here for another executor stays (its owner holds the lease; moving it on would need
        // a second hop), and so does one of a job with option rebalance=false.
        snaps = rt.runtime().detachForMigration(m.sequences(), m.work(), startedToo, kv,
            runtime.routes()::movable).get(1, TimeUnit.MINUTES);
      }
      List<SequenceSnapshot> owned = new ArrayList<>();
      for (SequenceSnapshot s : snaps) {
        ResultListener owner = runtime.routes().route(s.id());
        if (owner == null) {
          continue; // its task ended just now: nothing waits for it any more
        }
        leases.put(s.id(), new Lease(m.moveId(), m.spec(), owner, withoutKv(s),
            System.nanoTime() + leaseNanos));
        runtime.routes().countMigrated(s.id());
        owned.add(s);
      }
      if (owned.isEmpty()) {
        driver.askForAck(new MoveDone(m.moveId(), executorId, true, 0, "nothing to move"),
            Duration.ofSeconds(30));
        return;
      }
      long bytes = upload(m.moveId(), owned);
      movedOut.addAndGet(owned.size());
      bytesOut.addAndGet(bytes);
      if (m.kind() == Move.Kind.IN_FLIGHT_WITH_KV) {
        withKv.addAndGet(owned.stream().filter(SequenceSnapshot::hasKv).count());
      }
      driver.askForAck(new MoveDone(m.moveId(), executorId, true, owned.size(), null),
          Duration.ofSeconds(30));
      LOG.info("Move {}: sent {} sequences ({} KiB) to executor {}", m.moveId(), owned.size(),
          bytes / 1024, m.to());
    } catch (Exception e) {
      LOG.warn("Move {} to executor {} failed at its source: {}; running its sequences here",
          m.moveId(), m.to(), e.toString());
      reclaim(m.moveId(), "the upload failed");
      try {
        driver.askForAck(new MoveDone(m.moveId(), executorId, false, 0, e.toString()),
            Duration.ofSeconds(30));
      } catch (RuntimeException ignored) {
        // the driver may be gone too
      }
    }
  }

  private static SequenceSnapshot withoutKv(SequenceSnapshot s) {
    return new SequenceSnapshot(s.id(), s.tokens(), s.promptLength(), s.sampling(), 0, null,
        s.numLayers(), s.kvDim(), s.vocabSize(), s.preemptions());
  }

  /** Streams the snapshots (a count, then each) to the driver in chunks; returns the bytes. */
  private long upload(long moveId, List<SequenceSnapshot> snaps) throws IOException,
      InterruptedException {
    ChunkStream chunks = new ChunkStream(moveId);
    DataOutputStream data = new DataOutputStream(chunks);
    data.writeInt(snaps.size());
    for (SequenceSnapshot s : snaps) {
      SnapshotCodec.encode(s, data);
    }
    data.flush();
    chunks.finish();
    return chunks.total;
  }

  /**
   * An output stream that uploads every {@link Upload#chunkBytes} it receives, no faster than
   * {@link Upload#maxBytesPerSecond}.
   */
  private final class ChunkStream extends java.io.OutputStream {
    private final long moveId;
    private final int chunkBytes = upload.chunkBytes();
    private ByteArrayOutputStream buf = new ByteArrayOutputStream(chunkBytes);
    private final long startNanos = System.nanoTime();
    private int index;
    long total;

    ChunkStream(long moveId) {
      this.moveId = moveId;
    }

    @Override
    public void write(int b) throws IOException {
      buf.write(b);
      if (buf.size() >= chunkBytes) {
        send(false);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = Math.min(len, chunkBytes - buf.size());
        buf.write(b, off, n);
        off += n;
        len -= n;
        if (buf.size() >= chunkBytes) {
          send(false);
        }
      }
    }

    void finish() throws IOException {
      send(true);
    }

    private void send(boolean last) throws IOException {
      byte[] bytes = buf.toByteArray();
      StateChunk chunk = new StateChunk(moveId, index, last, bytes);
      if (upload.maxBytesPerSecond() > 0) {
        // The bytes sent so far may not have taken less than the rate allows.
        pause(startNanos + (long) (total * 1e9 / upload.maxBytesPerSecond()) - System.nanoTime());
      }
      long deadline = System.nanoTime() + UPLOAD_PATIENCE.toNanos();
      while (true) {
        Ack ack = driver.ask(chunk, Ack.class);
        if (ack.accepted()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("the driver had no room for move " + moveId + "'s state for "
              + UPLOAD_PATIENCE.toSeconds() + " s: " + ack.note());
        }
        pause(200_000_000L); // back-pressure: the driver's buffer is full
      }
      total += bytes.length;
      index++;
      buf = new ByteArrayOutputStream(chunkBytes);
    }

    private void pause(long nanos) throws IOException {
      if (nanos <= 0) {
        return;
      }
      try {
        TimeUnit.NANOSECONDS.sleep(nanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while uploading move " + moveId, e);
      }
    }
  }

  // ------------------------------------------------------------------ destination

  private void migrateIn(MigrateIn m) {
    ModelRuntime rt = null;
    try {
      rt = runtime.acquire(m.spec());
      if (!rt.provenance().modelHash().equals(m.fingerprint())) {
        throw new IllegalStateException("this executor's copy of model " + m.spec().modelPath()
            + " has fingerprint " + rt.provenance().modelHash() + " but executor " + m.from()
            + "'s has " + m.fingerprint() + "; every executor must see the same model files");
      }
      // Chunks are fetched as the decoder reads them: one chunk and one sequence in memory.
      DataInputStream in = new DataInputStream(new FetchStream(m.moveId(), m.chunks()));
      int n = in.readInt();
      Hosted host = new Hosted(rt, m.from(), ConcurrentHashMap.newKeySet(), new AtomicInteger(1));
      hosted.put(m.moveId(), host);
      rt = null; // the hosted move releases it now
      try {
        for (int i = 0; i < n; i++) {
          SequenceSnapshot s = SnapshotCodec.decode(in);
          host.ids().add(s.id());
          host.running().incrementAndGet();
          host.runtime().runtime().restore(s,
              result -> hostedDone(m.moveId(), m.from(), result));
        }
      } finally {
        finishOne(m.moveId(), host); // the restore guard
      }
      movedIn.addAndGet(n);
      driver.askForAck(new MoveDone(m.moveId(), executorId, true, n, null),
          Duration.ofSeconds(30));
      LOG.info("Move {}: running {} sequences for executor {}", m.moveId(), n, m.from());
    } catch (Exception e) {
      LOG.warn("Move {} from executor {} refused: {}", m.moveId(), m.from(), e.toString());
      Hosted host = hosted.get(m.moveId());
      if (host != null) {
        cancelHosted(m.moveId(), host);
      } else if (rt != null) {
        runtime.release(rt);
      }
      try {
        driver.askForAck(new MoveDone(m.moveId(), executorId, false, 0, e.toString()),
            Duration.ofSeconds(30));
      } catch (RuntimeException ignored) {
        // the driver may be gone too
      }
    }
  }

  /** A move's state as one stream, each chunk fetched from the driver when the reader needs it. */
  private final class FetchStream extends InputStream {
    private final long moveId;
    private final int chunks;
    private int next;
    private byte[] current = new byte[0];
    private int pos;

    FetchStream(long moveId, int chunks) {
      this.moveId = moveId;
      this.chunks = chunks;
    }

    /** Makes bytes available; false at the end of the last chunk. */
    private boolean fill() {
      while (pos == current.length) {
        if (next == chunks) {
          return false;
        }
        current = driver.ask(new FetchChunk(moveId, next++), StateChunk.class).bytes();
        pos = 0;
      }
      return true;
    }

    @Override
    public int read() {
      return fill() ? current[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (!fill()) {
        return -1;
      }
      int n = Math.min(len, current.length - pos);
      System.arraycopy(current, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  /** A hosted sequence finished (on the runtime's thread): its result goes to its owner. */
  private void hostedDone(long moveId, String owner, SequenceResult r) {
    Hosted host = hosted.get(moveId);
    io.batchgen.core.runtime.FinishReason reason = r.reason();
    if (reason == io.batchgen.core.runtime.FinishReason.ERROR && host != null
        && host.runtime().runtime().failure() != null) {
      // The runtime here failed under it, not the row: its owner runs it again.
      reason = io.batchgen.core.runtime.FinishReason.CANCELLED;
    }
    outbox.add(new MigratedResult(moveId, owner, r.id(), r.tokens(), reason, r.error(),
        r.promptTokens(), r.preemptions()));
    if (host != null) {
      host.ids().remove(r.id());
      finishOne(moveId, host);
    }
  }

  private void finishOne(long moveId, Hosted host) {
    if (host.running().decrementAndGet() == 0) {
      hosted.remove(moveId, host);
      runtime.release(host.runtime());
    }
  }

  private void cancelHosted(long moveId) {
    Hosted host = hosted.get(moveId);
    if (host != null) {
      cancelHosted(moveId, host);
    }
  }

  /** The owner of a hosted move is gone: its sequences stop (their results are not needed). */
  private void cancelHosted(long moveId, Hosted host) {
    LOG.info("Move {}: its owner is gone; cancelling its {} sequences here", moveId,
        host.ids().size());
    for (String id : List.copyOf(host.ids())) {
      try {
        host.runtime().runtime().cancel(id); // delivers a cancelled result through hostedDone
      } catch (RuntimeException e) {
        return; // the runtime failed or closed: nothing runs any more
      }
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
