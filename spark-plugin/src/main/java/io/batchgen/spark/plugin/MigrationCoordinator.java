package io.batchgen.spark.plugin;

import io.batchgen.core.rebalance.ExecutorLoad;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.rebalance.RebalancePolicy;
import io.batchgen.spark.plugin.PluginMessages.Ack;
import io.batchgen.spark.plugin.PluginMessages.FetchChunk;
import io.batchgen.spark.plugin.PluginMessages.LoadReport;
import io.batchgen.spark.plugin.PluginMessages.MigrateIn;
import io.batchgen.spark.plugin.PluginMessages.MigrateOut;
import io.batchgen.spark.plugin.PluginMessages.MigratedResult;
import io.batchgen.spark.plugin.PluginMessages.MoveDone;
import io.batchgen.spark.plugin.PluginMessages.Orders;
import io.batchgen.spark.plugin.PluginMessages.RuntimeLoad;
import io.batchgen.spark.plugin.PluginMessages.StateChunk;
import io.batchgen.spark.runtime.EngineSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's side of live migration: runs the {@link RebalancePolicy} over the executors'
 * latest loads, turns each {@link Move} into orders for its source and destination (handed out in
 * the answers to their load reports), holds the sequence state in transit, relays the results of
 * migrated sequences to their owners, and reacts to lost executors: a lost destination's moves go
 * back to their sources (which run the sequences again), a lost owner's hosted sequences are
 * cancelled and its results dropped.
 *
 * <p>State in transit is bounded: an upload that would take the buffer beyond its size is refused
 * (the source retries later), and a move's chunks are freed as soon as its destination fetched the
 * last one.
 *
 * <p>Thread-safe: Spark's RPC threads and the rebalancer thread call it; every method is
 * synchronized (none blocks or does I/O).
 */
final class MigrationCoordinator {
  private static final Logger LOG = LoggerFactory.getLogger(MigrationCoordinator.class);

  private final RebalancePolicy policy;
  private final long bufferBytes;

  private final Map<String, LoadReport> latest = new HashMap<>();
  /** When each executor's latest report arrived. */
  private final Map<String, Long> lastSeen = new HashMap<>();
  private final Map<String, Pending> pending = new HashMap<>();
  private final Map<Long, MoveRecord> moves = new LinkedHashMap<>();
  private long nextMoveId = 1;
  private long buffered;
  /** Bytes moved and seconds spent moving them (upload start to last fetch), for the policy. */
  private double movedBytes;
  private double movedSeconds;
  private long totalMoves;
  private long totalMovedSequences;

  /** What one executor gets with its next orders. */
  private static final class Pending {
    final List<MigrateOut> out = new ArrayList<>();
    final List<MigrateIn> in = new ArrayList<>();
    final List<MigratedResult> results = new ArrayList<>();
    final List<Long> reclaim = new ArrayList<>();
    final List<Long> cancel = new ArrayList<>();

    Orders drain() {
      Orders o = new Orders(out, in, results, reclaim, cancel);
      out.clear();
      in.clear();
      results.clear();
      reclaim.clear();
      cancel.clear();
      return o;
    }
  }

  /** States of a move, in order. */
  enum State { ORDERED, UPLOADING, READY, FETCHING, HOSTED, DONE }

  /** One move in flight. */
  static final class MoveRecord {
    final long id;
    final Move move;
    final EngineSpec spec;
    final String fingerprint;
    State state = State.ORDERED;
    MoveStatus.Ending ending;
    State endedIn;
    final List<byte[]> chunks = new ArrayList<>();
    long bytes;
    final long orderedNanos = System.nanoTime();
    long startNanos;
    long readyNanos;
    long fetchStartNanos;
    long fetchedNanos;
    long hostedNanos;
    /** When it stopped settling (hosted at the destination, or ended early); 0 before. */
    long settledNanos;
    int sequences;

    MoveRecord(long id, Move move, EngineSpec spec, String fingerprint) {
      this.id = id;
      this.move = move;
      this.spec = spec;
      this.fingerprint = fingerprint;
    }

    /** Ends the move before its sequences ran at the destination, saying why and where. */
    void end(MoveStatus.Ending why) {
      ending = why;
      endedIn = state;
      state = State.DONE;
      settledNanos = System.nanoTime();
    }

    boolean settling() {
      return state.ordinal() < State.HOSTED.ordinal();
    }

    MoveStatus.Timing timing() {
      return new MoveStatus.Timing(seconds(orderedNanos, startNanos),
          seconds(startNanos, readyNanos), seconds(readyNanos, fetchStartNanos),
          seconds(fetchStartNanos, fetchedNanos), seconds(orderedNanos, hostedNanos));
    }

    private static double seconds(long from, long to) {
      return from == 0 || to == 0 ? Double.NaN : (to - from) / 1e9;
    }
  }

  MigrationCoordinator(RebalancePolicy policy, long bufferBytes) {
    this.policy = policy;
    this.bufferBytes = bufferBytes;
  }

  /** An executor's report: remember its load, forward its results, answer with its orders. */
  synchronized Orders onReport(LoadReport report) {
    LoadReport previous = latest.get(report.executorId());
    if (previous == null || previous.sequence() < report.sequence()) {
      latest.put(report.executorId(), report);
    }
    lastSeen.put(report.executorId(), System.nanoTime());
    for (MigratedResult r : report.results()) {
      Pending owner = pending.get(r.owner());
      if (owner != null) {
        owner.results.add(r);
      } // else: the owner is lost; Spark reruns its tasks
    }
    return pending.computeIfAbsent(report.executorId(), k -> new Pending()).drain();
  }

  /** Runs the policy over the live executors and orders the moves it makes. */
  synchronized List<Move> rebalance(long nowNanos) {
    Map<String, EngineSpec> specs = new HashMap<>();
    Map<String, String> fingerprints = new HashMap<>();
    Map<String, Integer> inFlight = new HashMap<>();
    for (MoveRecord m : moves.values()) {
      // A move counts until it settled and each side reported after that: a report made
      // before the destination restored the sequences (or the source got them back) does not
      // show them yet, and acting on it would move work again towards the same executor.
      for (String side : List.of(m.move.from(), m.move.to())) {
        if (m.settling() || lastSeen.getOrDefault(side, Long.MAX_VALUE) <= m.settledNanos) {
          inFlight.merge(side, 1, Integer::sum);
        }
      }
    }
    List<ExecutorLoad> loads = new ArrayList<>();
    Map<String, Double> rateOf = new HashMap<>();
    for (LoadReport r : latest.values()) {
      for (RuntimeLoad l : r.runtimes()) {
        String key = specKey(l.spec());
        specs.put(key, l.spec());
        fingerprints.put(key, l.fingerprint());
        rateOf.merge(r.executorId(), l.tokensPerSecond(), Math::max);
        loads.add(new ExecutorLoad(r.executorId(), key, l.queued(), l.running(), l.parked(),
            l.positionsLeft(), l.expectedNewTokens(), l.tokensPerSecond(),
            l.prefillTokensPerSecond(), l.kvBytesPerPosition(), l.meanCachedPositions(),
            l.maxRunning(), inFlight.getOrDefault(r.executorId(), 0), l.staying()));
      }
    }
    // Every live executor can take any model: one that does not run a setting is idle for it.
    for (String key : specs.keySet()) {
      for (LoadReport r : latest.values()) {
        boolean runs = r.runtimes().stream().anyMatch(l -> specKey(l.spec()).equals(key));
        if (!runs) {
          ExecutorLoad idle = ExecutorLoad.idle(r.executorId(), key,
              rateOf.getOrDefault(r.executorId(), 0.0), specs.get(key).maxRunningSequences());
          loads.add(new ExecutorLoad(idle.executorId(), key, 0, 0, 0, 0, 0,
              idle.tokensPerSecond(), 0, 0, 0, idle.maxRunning(),
              inFlight.getOrDefault(r.executorId(), 0)));
        }
      }
    }
    if (loads.isEmpty()) {
      return List.of();
    }
    List<Move> planned = policy.plan(loads, transportBytesPerSecond(), nowNanos);
    for (Move m : planned) {
      long id = nextMoveId++;
      MoveRecord rec = new MoveRecord(id, m, specs.get(m.spec()), fingerprints.get(m.spec()));
      moves.put(id, rec);
      pendingFor(m.from()).out.add(new MigrateOut(id, m.to(), rec.spec, m.sequences(),
          m.kind(), m.work()));
      totalMoves++;
      LOG.info("Rebalance: move {} takes up to {} sequences ({}) from executor {} to {}", id,
          m.sequences(), m.kind(), m.from(), m.to());
    }
    return planned;
  }

  /** Measured speed of moving state, or 0 before any move finished. */
  synchronized double transportBytesPerSecond() {
    return movedSeconds > 0 ? movedBytes / movedSeconds : 0;
  }

  /** A chunk of a move's state from its source. */
  synchronized Ack onUpload(StateChunk c) {
    MoveRecord m = moves.get(c.moveId());
    if (m == null || m.state.ordinal() > State.UPLOADING.ordinal()) {
      return new Ack(false, "move " + c.moveId() + " is not being uploaded");
    }
    if (buffered + c.bytes().length > bufferBytes && buffered > 0) {
      return new Ack(false, "the driver holds " + buffered + " bytes of state in transit"
          + " (spark.batchgen.rebalance.bufferSize = " + bufferBytes + ")");
    }
    if (c.index() != m.chunks.size()) {
      return new Ack(false, "expected chunk " + m.chunks.size() + " of move " + m.id + ", got "
          + c.index());
    }
    if (m.state == State.ORDERED) {
      m.state = State.UPLOADING;
      m.startNanos = System.nanoTime();
    }
    m.chunks.add(c.bytes());
    m.bytes += c.bytes().length;
    buffered += c.bytes().length;
    if (c.last()) {
      m.state = State.READY;
      m.readyNanos = System.nanoTime();
      pendingFor(m.move.to()).in.add(new MigrateIn(m.id, m.move.from(), m.spec, m.fingerprint,
          m.chunks.size()));
    }
    return new Ack(true, null);
  }

  /** A chunk for a move's destination; the move's state is freed after its last chunk. */
  synchronized StateChunk onFetch(FetchChunk f) {
    MoveRecord m = moves.get(f.moveId());
    if (m == null || m.state.ordinal() < State.READY.ordinal() || f.index() >= m.chunks.size()
        || m.chunks.get(f.index()) == null) {
      throw new IllegalArgumentException("move " + f.moveId() + " has no chunk " + f.index()
          + " to fetch");
    }
    if (m.state != State.FETCHING) {
      m.state = State.FETCHING;
      m.fetchStartNanos = System.nanoTime();
    }
    byte[] bytes = m.chunks.get(f.index());
    boolean last = f.index() == m.chunks.size() - 1;
    if (last) {
      freeChunks(m);
      m.fetchedNanos = System.nanoTime();
      // The speed of moving bytes: upload plus fetch, not the waits for load reports between.
      double seconds = m.timing().transfer();
      if (seconds > 0) {
        movedBytes += m.bytes;
        movedSeconds += seconds;
      }
    }
    return new StateChunk(m.id, f.index(), last, bytes);
  }

  /** A move's source or destination finished its part. */
  synchronized void onMoveDone(MoveDone d) {
    MoveRecord m = moves.get(d.moveId());
    if (m == null) {
      return;
    }
    if (d.executorId().equals(m.move.from())) {
      m.sequences = d.sequences();
      if (!d.ok() || d.sequences() == 0) {
        freeChunks(m);
        m.end(d.ok() ? MoveStatus.Ending.NOTHING_MOVED : MoveStatus.Ending.SOURCE_FAILED);
      }
    } else if (d.executorId().equals(m.move.to())) {
      if (d.ok()) {
        m.state = State.HOSTED;
        m.hostedNanos = System.nanoTime();
        m.settledNanos = m.hostedNanos;
        totalMovedSequences += d.sequences();
      } else {
        LOG.warn("Executor {} refused move {}: {}; its source runs the sequences again",
            m.move.to(), m.id, d.message());
        freeChunks(m);
        m.end(MoveStatus.Ending.REFUSED);
        pendingFor(m.move.from()).reclaim.add(m.id);
      }
    }
  }

  /**
   * An executor is gone: nothing is routed to it any more; sequences it hosted go back to their
   * owners; sequences of moves from it are cancelled where they run; its results are dropped.
   */
  synchronized void executorLost(String executorId) {
    latest.remove(executorId);
    lastSeen.remove(executorId);
    pending.remove(executorId);
    for (MoveRecord m : moves.values()) {
      if (m.state == State.DONE) {
        continue;
      }
      if (m.move.to().equals(executorId)) {
        freeChunks(m);
        m.end(MoveStatus.Ending.DESTINATION_LOST);
        Pending source = pending.get(m.move.from());
        if (source != null) {
          source.reclaim.add(m.id);
        }
      } else if (m.move.from().equals(executorId)) {
        freeChunks(m);
        if (m.state.ordinal() >= State.READY.ordinal()) {
          Pending dest = pending.get(m.move.to());
          if (dest != null) {
            dest.cancel.add(m.id);
            dest.in.removeIf(in -> in.moveId() == m.id);
          }
        }
        m.end(MoveStatus.Ending.SOURCE_LOST);
      }
    }
  }

  /** Executors that have not reported for longer than {@code timeoutNanos}. */
  synchronized List<String> silentSince(long nowNanos, long timeoutNanos) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Long> e : lastSeen.entrySet()) {
      if (nowNanos - e.getValue() > timeoutNanos) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  synchronized long moves() {
    return totalMoves;
  }

  /** Every move so far and where it stands (diagnostics, tests). */
  synchronized List<MoveStatus> status() {
    List<MoveStatus> out = new ArrayList<>();
    for (MoveRecord m : moves.values()) {
      out.add(new MoveStatus(m.id, m.move.from(), m.move.to(), m.move.kind(), m.state.name(),
          m.ending, m.endedIn == null ? null : m.endedIn.name(), m.sequences, m.bytes,
          m.timing()));
    }
    return out;
  }

  synchronized long movedSequences() {
    return totalMovedSequences;
  }

  synchronized long bufferedBytes() {
    return buffered;
  }

  private void freeChunks(MoveRecord m) {
    for (int i = 0; i < m.chunks.size(); i++) {
      byte[] c = m.chunks.get(i);
      if (c != null) {
        buffered -= c.length;
        m.chunks.set(i, null);
      }
    }
  }

  private Pending pendingFor(String executorId) {
    return pending.computeIfAbsent(executorId, k -> new Pending());
  }

  /** A model setting as a policy key: equal specs, equal keys. */
  static String specKey(EngineSpec spec) {
    return spec.modelPath() + "|" + spec.backend() + "|" + spec.threads() + "|"
        + spec.schedulingMode() + "|" + spec.kvCacheBytes() + "|" + spec.maxRunningSequences()
        + "|" + spec.kvOffload() + "|" + spec.weightBudgetBytes() + "|"
        + spec.weightBudgetHeapFraction() + "|" + spec.admissionOrder();
  }
}
