package io.batchgen.core.sim;

import io.batchgen.core.rebalance.ExecutorLoad;
import io.batchgen.core.rebalance.LoadEstimator;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.RuntimeMetrics;
import io.batchgen.core.runtime.SequenceResult;
import io.batchgen.core.runtime.SteppedRuntime;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.snapshot.SequenceSnapshot;
import java.util.Arrays;

/**
 * One simulated executor: the real scheduler ({@link SteppedRuntime}) over a
 * {@link SimulatedExecutor}, with its own virtual clock. The cluster advances it one module batch
 * at a time; the clock moves by what that batch cost. Rows that finish inside a batch are
 * stamped with the clock at its end.
 */
final class SimNode implements AutoCloseable {
  final int index;
  final String id;
  private final SimulatedExecutor device;
  private final SteppedRuntime runtime;
  private final Workload workload;
  private final LoadEstimator.Rate rate = new LoadEstimator.Rate();
  /** Virtual time of this executor, nanoseconds. */
  double clock;
  /** Virtual time spent in module calls. */
  double busy;
  /** Moves into or out of this executor still travelling. */
  int migrationsInFlight;
  /** Whether it sits in the cluster's run queue. */
  boolean queued;
  /** Tasks (fine partitions) it runs now. */
  int tasksRunning;
  private int[] finished = new int[16];
  private int finishedCount;
  /** Results that were not what the model generates for the row: a simulation bug. */
  String wrongResult;

  SimNode(int index, CostModel costs, int simulatedLayers, RuntimeConfig config,
      Workload workload) {
    this.index = index;
    this.id = "exec-" + index;
    this.device = new SimulatedExecutor(costs, simulatedLayers, maxPositions(workload));
    this.runtime = new SteppedRuntime(device, config, null);
    this.workload = workload;
  }

  static int maxPositions(Workload w) {
    int longest = 0;
    for (int row = 0; row < w.rows(); row++) {
      longest = Math.max(longest, w.promptLength(row) + w.outputLength(row));
    }
    return longest + 1;
  }

  void submit(int row) {
    runtime.submit(new GenerationRequest(Integer.toString(row), workload.promptTokens(row),
        SamplingParams.greedy(workload.outputLength(row))), this::onResult, (long) clock);
  }

  void restore(SequenceSnapshot snapshot) {
    runtime.restore(snapshot, this::onResult, (long) clock);
  }

  /** Collects a finished row, checking it generated exactly what the model generates. */
  private void onResult(SequenceResult r) {
    int row = Integer.parseInt(r.id());
    if (wrongResult == null && (r.reason() != FinishReason.LENGTH
        || !workload.expected(row, r.tokens()))) {
      wrongResult = "row " + row + " finished on " + id + " with reason " + r.reason()
          + (r.error() == null ? "" : " (" + r.error() + ")") + " and " + r.tokens().length
          + " tokens; expected the model's " + workload.outputLength(row) + " tokens";
    }
    if (finishedCount == finished.length) {
      finished = Arrays.copyOf(finished, 2 * finishedCount);
    }
    finished[finishedCount++] = row;
  }

  /**
   * Runs one module batch and advances the clock by its cost. Returns false when nothing could
   * run (then the clock stays).
   */
  boolean step() {
    boolean ran = runtime.runOnce();
    double cost = device.takeCharged();
    clock += cost;
    busy += cost;
    return ran;
  }

  /** Rows finished since the last call, in finishing order. */
  int[] takeFinished() {
    int[] out = Arrays.copyOf(finished, finishedCount);
    finishedCount = 0;
    return out;
  }

  int finishedCount() {
    return finishedCount;
  }

  SteppedRuntime runtime() {
    return runtime;
  }

  boolean hasLiveSequences() {
    return runtime.hasLiveSequences();
  }

  /**
   * This executor's load report at virtual time {@code nowNanos}, hosting {@code hosted}
   * sequences for other executors, made as a live executor makes it ({@link LoadEstimator}:
   * speeds measured between reports on the virtual clock).
   */
  ExecutorLoad report(String spec, long kvBytesPerPosition, int maxRunning, int hosted,
      long nowNanos) {
    RuntimeMetrics m = runtime.metrics();
    rate.observe(m, nowNanos);
    return LoadEstimator.estimate(id, spec, m, rate, kvBytesPerPosition, maxRunning,
        migrationsInFlight, hosted);
  }

  @Override
  public void close() {
    runtime.close();
  }
}
