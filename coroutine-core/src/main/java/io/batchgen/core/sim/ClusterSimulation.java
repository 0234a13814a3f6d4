package io.batchgen.core.sim;

import io.batchgen.core.model.ModuleKind;
import io.batchgen.core.rebalance.BalancingPolicy;
import io.batchgen.core.rebalance.ExecutorLoad;
import io.batchgen.core.rebalance.Move;
import io.batchgen.core.rebalance.RebalancePolicy;
import io.batchgen.core.runtime.PreemptionMode;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Supplier;

/**
 * A discrete-event simulation of a cluster of executors under a virtual clock, driving the real
 * scheduler ({@link io.batchgen.core.runtime.SteppedRuntime}) on every executor and a real
 * {@link RebalancePolicy} on the driver; only the arithmetic of the model is replaced by a
 * {@link CostModel} ({@link SimulatedExecutor}).
 *
 * <p><b>Event loop.</b> The executor with the smallest clock runs one module batch and its
 * clock advances by the batch's cost. Every {@link Settings#loadReportIntervalNanos} each
 * executor reports its load as a live executor does ({@link io.batchgen.core.rebalance
 * .LoadEstimator}, speeds measured on the virtual clock); every
 * {@link Settings#rebalanceIntervalNanos} the driver calls the policy with the latest reports.
 *
 * <p><b>Moves</b> follow the live protocol: orders reach an executor in the answer to its next
 * load report (half a report interval on average, each side); the source detaches sequences its
 * own tasks own ({@code detachForMigration}, as the move's kind allows: a sequence hosted for
 * another executor never moves on); the state (tokens, plus KV for
 * {@link Move.Kind#IN_FLIGHT_WITH_KV} at the modeled model's bytes per position) goes up to the
 * driver and down to the destination, one move at a time through the driver, at
 * {@link CostModel#transportBytesPerSecond}; the destination restores the sequences when the last
 * byte arrives. Both executors count the move as in flight until then, and until each has
 * reported since (as the driver counts it). A migrated sequence's result reaches its owner half
 * a report interval after it finished on each side (the host's report, the owner's answer): its
 * row counts as finished one report interval later.
 *
 * <p><b>Placements</b> ({@link Strategy}): contiguous equal row ranges, a hash of the row id,
 * many small partitions pulled as executors finish, or the contiguous ranges or the hash with
 * the policy on.
 *
 * <p>Every row must finish exactly once with exactly the tokens the simulated model generates for
 * it; anything else throws {@link IllegalStateException}. Single-threaded; one instance per run.
 */
public final class ClusterSimulation {

  /** How rows reach executors. */
  public enum Strategy {
    /** Contiguous equal row ranges per executor, as an ordered file splits; nothing moves. */
    STATIC("static"),
    /** Rows placed by a hash of their id, as the sink's clustering places them. */
    HASH("hash"),
    /**
     * {@link Settings#finePartitionsPerExecutor} contiguous partitions per executor, run as
     * Spark schedules tasks: each executor runs as many at once as fill its runtime
     * ({@code ceil(maxRunningSequences / rows per partition)} task slots) and pulls the next
     * partition whenever one of its tasks has all its rows finished.
     */
    FINE("fine"),
    /** The static ranges, then the rebalancing policy moves sequences. */
    REBALANCED("rebalanced"),
    /** The hash placement, then the rebalancing policy moves sequences. */
    HASH_REBALANCED("hash+rebalanced");

    private final String label;

    Strategy(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * @param executors                 simulated executors
   * @param costs                     the simulated hardware
   * @param simulatedLayers           layers the simulated model runs (each stands for
   *                                  {@code costs.layers() / simulatedLayers} real ones)
   * @param runtime                   every executor's runtime settings
   * @param loadReportIntervalNanos   how often executors report their load (and pick up orders)
   * @param rebalanceIntervalNanos    how often the driver calls the policy
   * @param policy                    the policy of {@link Strategy#REBALANCED} and
   *                                  {@link Strategy#HASH_REBALANCED}, made fresh for
   *                                  each run (policies keep state between rounds)
   * @param finePartitionsPerExecutor partitions per executor of {@link Strategy#FINE}
   */
  public record Settings(int executors, CostModel costs, int simulatedLayers,
      RuntimeConfig runtime, double loadReportIntervalNanos, double rebalanceIntervalNanos,
      Supplier<RebalancePolicy> policy, int finePartitionsPerExecutor) {

    public Settings {
      if (executors < 2) {
        throw new IllegalArgumentException("A cluster simulation needs at least 2 executors, got "
            + executors);
      }
      if (!(loadReportIntervalNanos > 0) || !(rebalanceIntervalNanos > 0)
          || finePartitionsPerExecutor < 1) {
        throw new IllegalArgumentException("report and rebalance intervals and fine partitions"
            + " per executor must be positive, got " + loadReportIntervalNanos + " ns, "
            + rebalanceIntervalNanos + " ns and " + finePartitionsPerExecutor);
      }
    }

    /**
     * Defaults: {@code simulatedLayers} simulated layers; runtimes holding 256 sequences
     * ({@link ClusterSimulation#runtimeFor}); load reports every half second and a policy round
     * every second (the live defaults of {@code spark.batchgen.rebalance.loadReportInterval} and
     * {@code .interval});
     * {@link BalancingPolicy} with its default settings; 8 fine partitions per executor.
     */
    public static Settings defaults(int executors, CostModel costs, Workload workload,
        int simulatedLayers) {
      return new Settings(executors, costs, simulatedLayers,
          runtimeFor(workload, simulatedLayers, 256), 5e8, 1e9,
          () -> new BalancingPolicy(BalancingPolicy.Settings.defaults()), 8);
    }

    public Settings withPolicy(Supplier<RebalancePolicy> p) {
      return new Settings(executors, costs, simulatedLayers, runtime, loadReportIntervalNanos,
          rebalanceIntervalNanos, p, finePartitionsPerExecutor);
    }

    public Settings withRuntime(RuntimeConfig r) {
      return new Settings(executors, costs, simulatedLayers, r, loadReportIntervalNanos,
          rebalanceIntervalNanos, policy, finePartitionsPerExecutor);
    }

    public Settings withIntervals(double loadReportNanos, double rebalanceNanos) {
      return new Settings(executors, costs, simulatedLayers, runtime, loadReportNanos,
          rebalanceNanos, policy, finePartitionsPerExecutor);
    }
  }

  /**
   * Runtime settings for simulated executors: {@code maxRunning} sequences with 64-token prefill
   * chunks, attention calls of up to 512 rows (never split by context), expert calls of up to
   * 1,024 rows, LM head calls of 256, and KV for every held sequence at the workload's longest
   * length, so memory never preempts.
   */
  public static RuntimeConfig runtimeFor(Workload w, int simulatedLayers, int maxRunning) {
    int maxPositions = SimNode.maxPositions(w);
    int blockSize = 16;
    long blocks = (long) maxRunning * ((maxPositions + blockSize - 1) / blockSize + 1)
        * simulatedLayers;
    long kvBytes = blocks * 2L * blockSize * Float.BYTES;
    return RuntimeConfig.defaults()
        .withMaxRunningSequences(maxRunning)
        .withBatchLimits(64, 512, maxRunning * maxPositions, 1024, 256)
        .withKv(blockSize, kvBytes, 1L << 30)
        .withPreemption(PreemptionMode.RECOMPUTE);
  }

  /**
   * What one run showed.
   *
   * @param strategy        the placement
   * @param executors       simulated executors
   * @param rows            rows in the workload
   * @param makespanNanos   virtual time until the last row finished
   * @param lost            rows that never finished (always 0, or the run throws)
   * @param duplicated      rows that finished twice (always 0, or the run throws)
   * @param moves           moves the policy ordered, per {@link Move.Kind}
   * @param sequencesMoved  sequences moved, per how they travelled: not started, with their KV,
   *                        or to be recomputed
   * @param bytesMoved      state bytes shipped
   * @param busyFraction    executors' busy time over executors times the makespan
   * @param meanExpertRows  rows per routed-expert call, all executors
   * @param wallNanos       real time the simulation took
   */
  public record Result(Strategy strategy, int executors, int rows, double makespanNanos,
      long lost, long duplicated, Map<Move.Kind, Long> moves, Map<Move.Kind, Long> sequencesMoved,
      long bytesMoved, double busyFraction, double meanExpertRows, long wallNanos) {

    public long totalMoves() {
      return moves.values().stream().mapToLong(Long::longValue).sum();
    }

    public long totalSequencesMoved() {
      return sequencesMoved.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** A transfer on its way. */
  private record Transfer(double arrival, long order, double orderedAt, long bytes, SimNode from,
      SimNode to, List<SequenceSnapshot> snapshots) {
  }

  private static final String SPEC = "model";

  private final Workload workload;
  private final Settings settings;
  private final Strategy strategy;
  private final SimNode[] nodes;
  private final Map<String, SimNode> byId = new HashMap<>();
  /** Per row: the executor whose task owns it (the one it was placed on). */
  private final int[] owner;
  /** Per executor: live sequences it runs for other executors (moved in, not finished). */
  private final int[] hosted;
  /** Per executor: when a move into or out of it last settled, and when it last reported. */
  private final double[] settledAt;
  private final double[] reportedAt;
  private final double[] finishedAt;
  private final PriorityQueue<SimNode> ready = new PriorityQueue<>(
      Comparator.comparingDouble((SimNode n) -> n.clock).thenComparingInt(n -> n.index));
  private final PriorityQueue<Transfer> transfers = new PriorityQueue<>(
      Comparator.comparingDouble(Transfer::arrival).thenComparingLong(Transfer::order));
  private final RebalancePolicy policy;
  /** The latest load report of each executor. */
  private final ExecutorLoad[] loads;
  private final long[] moves = new long[Move.Kind.values().length];
  private final long[] sequencesMoved = new long[Move.Kind.values().length];
  private long bytesMoved;
  private long transfersStarted;
  /** When the driver's relay is free for the next move's bytes. */
  private double relayFree;
  /** What the driver measured of finished moves: bytes, and seconds from order to arrival. */
  private double transferredBytes;
  private double transferSeconds;
  private int done;
  private double lastFinish;
  /** Fine partitioning: how many, the next one to hand out, rows left per partition. */
  private int partitions;
  private int nextPartition;
  private int taskSlots;
  private int[] partitionLeft;

  private ClusterSimulation(Workload workload, Settings settings, Strategy strategy) {
    this.workload = workload;
    this.settings = settings;
    this.strategy = strategy;
    this.owner = new int[workload.rows()];
    this.hosted = new int[settings.executors()];
    this.settledAt = new double[settings.executors()];
    this.reportedAt = new double[settings.executors()];
    Arrays.fill(settledAt, -1);
    this.finishedAt = new double[workload.rows()];
    Arrays.fill(finishedAt, -1);
    this.nodes = new SimNode[settings.executors()];
    for (int i = 0; i < nodes.length; i++) {
      nodes[i] = new SimNode(i, settings.costs(), settings.simulatedLayers(), settings.runtime(),
          workload);
      byId.put(nodes[i].id, nodes[i]);
    }
    this.loads = new ExecutorLoad[nodes.length];
    this.policy = strategy == Strategy.REBALANCED || strategy == Strategy.HASH_REBALANCED
        ? settings.policy().get() : null;
  }

  /** Runs {@code workload} on a fresh simulated cluster placed by {@code strategy}. */
  public static Result run(Workload workload, Settings settings, Strategy strategy) {
    ClusterSimulation sim = new ClusterSimulation(workload, settings, strategy);
    try {
      return sim.execute();
    } finally {
      for (SimNode n : sim.nodes) {
        n.close();
      }
    }
  }

  private Result execute() {
    long wall0 = System.nanoTime();
    place();
    double nextReport = 0;
    double nextRound = settings.rebalanceIntervalNanos();
    while (done < workload.rows()) {
      double tNode = ready.isEmpty() ? Double.POSITIVE_INFINITY : ready.peek().clock;
      double tArrival = transfers.isEmpty() ? Double.POSITIVE_INFINITY : transfers.peek().arrival;
      double t = Math.min(tNode, tArrival);
      if (t == Double.POSITIVE_INFINITY) {
        throw new IllegalStateException("Simulation stalled with " + (workload.rows() - done)
            + " rows unfinished, no executor able to run and nothing in transit ("
            + strategy.label() + ", " + nodes.length + " executors)");
      }
      if (policy != null && Math.min(nextReport, nextRound) <= t) {
        if (nextReport <= nextRound) {
          report(nextReport);
          nextReport += settings.loadReportIntervalNanos();
        } else {
          rebalance(nextRound);
          nextRound += settings.rebalanceIntervalNanos();
        }
      } else if (tArrival <= tNode) {
        arrive(transfers.poll());
      } else {
        SimNode n = ready.poll();
        n.queued = false;
        boolean ran = n.step();
        collect(n);
        if (ran) {
          enqueue(n);
        } else if (n.hasLiveSequences()) {
          throw new IllegalStateException(n.id + " holds sequences but cannot run any at "
              + n.clock + " ns: " + n.runtime().metrics());
        }
      }
    }
    return result(System.nanoTime() - wall0);
  }

  // ---------------------------------------------------------------- placement

  private void place() {
    int rows = workload.rows();
    int e = nodes.length;
    switch (strategy) {
      case STATIC, REBALANCED -> {
        for (int i = 0; i < e; i++) {
          submitRange(nodes[i], (int) ((long) i * rows / e), (int) ((long) (i + 1) * rows / e));
        }
      }
      case HASH, HASH_REBALANCED -> {
        for (int row = 0; row < rows; row++) {
          long h = SimulatedExecutor.mix(Integer.toString(row).hashCode() * 0x9E3779B97F4A7C15L);
          SimNode n = nodes[(int) Long.remainderUnsigned(h, e)];
          owner[row] = n.index;
          n.submit(row);
          collect(n);
          enqueue(n);
        }
      }
      case FINE -> {
        partitions = e * settings.finePartitionsPerExecutor();
        partitionLeft = new int[partitions];
        int perPartition = Math.max(1, rows / partitions);
        taskSlots = Math.max(1, (settings.runtime().maxRunningSequences() + perPartition - 1)
            / perPartition);
        for (int slot = 0; slot < taskSlots; slot++) {
          for (SimNode n : nodes) {
            nextTask(n);
          }
        }
      }
    }
  }

  private void submitRange(SimNode n, int from, int to) {
    for (int row = from; row < to; row++) {
      owner[row] = n.index;
      n.submit(row);
    }
    collect(n);
    enqueue(n);
  }

  /** Fine partitioning: starts the next partition as a task of {@code n}, if any is left. */
  private void nextTask(SimNode n) {
    if (nextPartition < partitions) {
      int p = nextPartition++;
      int rows = workload.rows();
      int from = (int) ((long) p * rows / partitions);
      int to = (int) ((long) (p + 1) * rows / partitions);
      partitionLeft[p] = to - from;
      n.tasksRunning++;
      if (to > from) {
        submitRange(n, from, to);
      } else {
        taskDone(n);
      }
    }
  }

  private void taskDone(SimNode n) {
    n.tasksRunning--;
    while (n.tasksRunning < taskSlots && nextPartition < partitions) {
      nextTask(n);
    }
  }

  /** The fine partition holding {@code row}: the p with start(p) <= row < start(p + 1). */
  private int partitionOf(int row) {
    return (int) (((long) row + 1) * partitions - 1) / workload.rows();
  }

  private void enqueue(SimNode n) {
    if (!n.queued && n.hasLiveSequences()) {
      n.queued = true;
      ready.add(n);
    }
  }

  // ---------------------------------------------------------------- results

  private void collect(SimNode n) {
    if (n.wrongResult != null) {
      throw new IllegalStateException("Simulation produced a wrong result: " + n.wrongResult);
    }
    int count = n.finishedCount();
    int[] rows = count == 0 ? null : n.takeFinished();
    for (int i = 0; i < count; i++) {
      int row = rows[i];
      if (finishedAt[row] >= 0) {
        throw new IllegalStateException("Row " + row + " finished twice: at " + finishedAt[row]
            + " ns and again on " + n.id + " at " + n.clock + " ns (" + strategy.label() + ")");
      }
      // A migrated row's result travels back to its owner with the next reports.
      double at = n.clock;
      if (owner[row] != n.index) {
        at += settings.loadReportIntervalNanos();
        hosted[n.index]--;
      }
      finishedAt[row] = at;
      lastFinish = Math.max(lastFinish, at);
      done++;
      if (strategy == Strategy.FINE && --partitionLeft[partitionOf(row)] == 0) {
        taskDone(n);
      }
    }
  }

  private Result result(long wallNanos) {
    long lost = 0;
    for (double f : finishedAt) {
      if (f < 0) {
        lost++;
      }
    }
    if (lost > 0) {
      throw new IllegalStateException(lost + " rows never finished (" + strategy.label() + ")");
    }
    double busy = 0;
    long expertRows = 0;
    long expertBatches = 0;
    for (SimNode n : nodes) {
      busy += n.busy;
      RuntimeMetrics m = n.runtime().metrics();
      expertRows += m.rows().get(ModuleKind.EXPERT);
      expertBatches += m.batches().get(ModuleKind.EXPERT);
    }
    return new Result(strategy, nodes.length, workload.rows(), lastFinish, lost, 0,
        perKind(moves), perKind(sequencesMoved), bytesMoved,
        busy / (nodes.length * lastFinish),
        expertBatches == 0 ? 0 : (double) expertRows / expertBatches, wallNanos);
  }

  private static Map<Move.Kind, Long> perKind(long[] counts) {
    Map<Move.Kind, Long> m = new EnumMap<>(Move.Kind.class);
    for (Move.Kind k : Move.Kind.values()) {
      m.put(k, counts[k.ordinal()]);
    }
    return m;
  }

  // ---------------------------------------------------------------- rebalancing

  /** Every executor reports its load, as each live executor does every report interval. */
  private void report(double now) {
    int maxRunning = settings.runtime().maxRunningSequences();
    for (int i = 0; i < nodes.length; i++) {
      loads[i] = nodes[i].report(SPEC, settings.costs().kvBytesPerPosition(), maxRunning,
          hosted[i], (long) now);
      reportedAt[i] = now;
    }
  }

  /**
   * A policy round over the latest reports, with the in-flight counts as the driver knows them:
   * a move counts until it settled and both sides reported after that.
   */
  private void rebalance(double now) {
    List<ExecutorLoad> current = new ArrayList<>(nodes.length);
    for (int i = 0; i < nodes.length; i++) {
      boolean unreported = settledAt[i] >= reportedAt[i];
      current.add(loads[i].withMigrationsInFlight(nodes[i].migrationsInFlight
          + (unreported ? 1 : 0)));
    }
    for (Move move : policy.plan(current, measuredTransport(), (long) now)) {
      apply(move, now);
    }
  }

  /** What the driver has measured of moving state so far: bytes over transfer seconds. */
  private double measuredTransport() {
    return transferSeconds > 0 ? transferredBytes / transferSeconds : 0;
  }

  /**
   * Carries out a move as the live system does: the source takes the sequences its own tasks
   * own (a sequence hosted for another executor stays), uploads their state to the driver, the
   * destination fetches it and restores them. Orders travel in the answers to load reports, so
   * each side starts half a report interval after the round on average; the driver relays one
   * move's bytes at a time, up and down.
   */
  private void apply(Move move, double now) {
    SimNode from = byId.get(move.from());
    SimNode to = byId.get(move.to());
    List<SequenceSnapshot> snaps = from.runtime().detachForMigration(move.sequences(),
        move.work(), move.kind() != Move.Kind.QUEUED, move.kind() == Move.Kind.IN_FLIGHT_WITH_KV,
        id -> owner[Integer.parseInt(id)] == from.index);
    moves[move.kind().ordinal()]++;
    if (snaps.isEmpty()) {
      return;
    }
    long bytes = 0;
    for (SequenceSnapshot s : snaps) {
      // Tokens as ints plus a small header; KV at the modeled model's size.
      bytes += 64 + 4L * s.tokens().length
          + (s.hasKv() ? s.position() * settings.costs().kvBytesPerPosition() : 0);
      Move.Kind travelled = s.hasKv() ? Move.Kind.IN_FLIGHT_WITH_KV
          : s.tokens().length > s.promptLength() ? Move.Kind.IN_FLIGHT_RECOMPUTE
          : Move.Kind.QUEUED;
      sequencesMoved[travelled.ordinal()]++;
    }
    bytesMoved += bytes;
    double report = settings.loadReportIntervalNanos();
    double relaySeconds = 2.0 * bytes / settings.costs().transportBytesPerSecond();
    double start = Math.max(now + report / 2, relayFree);
    relayFree = start + relaySeconds * 1e9;
    double arrival = relayFree + report / 2 + settings.costs().transportLatencyNanos();
    from.migrationsInFlight++;
    to.migrationsInFlight++;
    transfers.add(new Transfer(arrival, transfersStarted++, now, bytes, from, to, snaps));
  }

  private void arrive(Transfer t) {
    SimNode to = t.to();
    to.clock = Math.max(to.clock, t.arrival());
    for (SequenceSnapshot s : t.snapshots()) {
      to.restore(s);
      hosted[to.index]++;
    }
    t.from().migrationsInFlight--;
    to.migrationsInFlight--;
    settledAt[t.from().index] = t.arrival();
    settledAt[to.index] = t.arrival();
    transferredBytes += t.bytes();
    transferSeconds += (t.arrival() - t.orderedAt()) / 1e9;
    collect(to);
    enqueue(to);
  }
}
