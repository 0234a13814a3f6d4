package io.batchgen.core.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.rebalance.Move;
import io.batchgen.core.sim.ClusterSimulation.Result;
import io.batchgen.core.sim.ClusterSimulation.Strategy;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A small cluster (6 executors, 40 rows each) of the pinned workload under every placement. */
class ClusterSimulationTest {
  private static final int EXECUTORS = 6;
  private static Workload workload;
  private static ClusterSimulation.Settings settings;
  private static LowerBound bound;
  private static final Map<Strategy, Result> RESULTS = new EnumMap<>(Strategy.class);

  @BeforeAll
  static void runAll() {
    workload = Workload.pinned(EXECUTORS * 40, 42);
    // 16 sequences per executor, so 40 rows queue and the tail is long.
    settings = ClusterSimulation.Settings.defaults(EXECUTORS, CostModel.gpuLike(), workload, 1)
        .withRuntime(ClusterSimulation.runtimeFor(workload, 1, 16));
    bound = LowerBound.of(workload, settings.costs(), settings.runtime(), EXECUTORS);
    for (Strategy s : Strategy.values()) {
      RESULTS.put(s, ClusterSimulation.run(workload, settings, s));
    }
  }

  @Test
  void everyRowFinishesExactlyOnceUnderEveryPlacement() {
    // A row lost, finished twice or with other tokens than the model's would have thrown.
    for (Result r : RESULTS.values()) {
      assertThat(r.rows()).isEqualTo(workload.rows());
      assertThat(r.lost()).isZero();
      assertThat(r.duplicated()).isZero();
      assertThat(r.makespanNanos()).isPositive();
    }
  }

  @Test
  void onlyTheRebalancerMovesSequencesAndItBeatsTheStaticPlacementItStartsFrom() {
    Result reb = RESULTS.get(Strategy.REBALANCED);
    assertThat(reb.totalSequencesMoved()).isPositive();
    assertThat(reb.sequencesMoved().get(Move.Kind.QUEUED)).isPositive();
    assertThat(reb.bytesMoved()).isPositive();
    assertThat(reb.makespanNanos()).isLessThan(RESULTS.get(Strategy.STATIC).makespanNanos());
    for (Strategy s : new Strategy[] {Strategy.STATIC, Strategy.HASH, Strategy.FINE}) {
      assertThat(RESULTS.get(s).totalMoves()).as(s.label()).isZero();
    }
  }

  @Test
  void theRebalancerStartedFromTheHashPlacementMovesAndBeatsHashAlone() {
    // 40.6 s against 42.1 s for hash alone, with 8 moves (the simulation is deterministic).
    Result hashReb = RESULTS.get(Strategy.HASH_REBALANCED);
    assertThat(hashReb.totalMoves()).isPositive();
    assertThat(hashReb.makespanNanos()).isLessThan(RESULTS.get(Strategy.HASH).makespanNanos());
  }

  @Test
  void noPlacementBeatsTheSerialBoundAndStaticIsFarFromTheBound() {
    for (Result r : RESULTS.values()) {
      assertThat(r.makespanNanos()).as(r.strategy().label())
          .isGreaterThanOrEqualTo(bound.serialNanos());
    }
    assertThat(RESULTS.get(Strategy.STATIC).makespanNanos()).isGreaterThan(1.5 * bound.nanos());
  }

  @Test
  void aRunIsDeterministic() {
    Result again = ClusterSimulation.run(workload, settings, Strategy.REBALANCED);
    Result first = RESULTS.get(Strategy.REBALANCED);
    assertThat(again.makespanNanos()).isEqualTo(first.makespanNanos());
    assertThat(again.sequencesMoved()).isEqualTo(first.sequencesMoved());
    assertThat(again.bytesMoved()).isEqualTo(first.bytesMoved());
  }

  @Test
  void aRowAloneTakesItsSerialTime() {
    Workload one = new Workload("one", 1, new int[] {200, 16}, new int[] {300, 1});
    ClusterSimulation.Settings s = ClusterSimulation.Settings.defaults(2, CostModel.gpuLike(),
        one, 2);
    LowerBound b = LowerBound.of(one, s.costs(), s.runtime(), 2);
    Result r = ClusterSimulation.run(one, s, Strategy.STATIC);
    assertThat(b.serialRow()).isZero();
    // Alone, the row's decode steps cost exactly what the bound charges; its prefill chunks
    // route to more experts than the bound's fewest possible, so a little more.
    assertThat(r.makespanNanos()).isBetween(b.serialNanos(), 1.05 * b.serialNanos());
  }

  @Test
  void theWorkloadIsOrderedBySource() {
    Workload w = Workload.pinned(3000, 7);
    int[] out = w.output();
    int[] prompt = w.prompt();
    for (int i = 0; i < 3000; i++) {
      assertThat(prompt[i]).isBetween(16, 512);
      if (i < 1000) {
        assertThat(out[i]).isBetween(1, 8);
      } else if (i < 2000) {
        assertThat(out[i]).isBetween(32, 2048);
      } else {
        assertThat(out[i]).isBetween(512, 2048);
      }
    }
    assertThat(Workload.pinned(3000, 7).output()).isEqualTo(out);
  }

  @Test
  void wrongTokensAreNotTakenForTheModelsOutput() {
    Workload w = new Workload("w", 3, new int[] {5}, new int[] {3});
    int last = w.promptToken(0, 4);
    int a = SimulatedExecutor.nextToken(last, 4);
    int b = SimulatedExecutor.nextToken(a, 5);
    int c = SimulatedExecutor.nextToken(b, 6);
    assertThat(w.expected(0, new int[] {a, b, c})).isTrue();
    assertThat(w.expected(0, new int[] {a, b})).isFalse();
    assertThat(w.expected(0, new int[] {a, b, c == 1 ? 2 : 1})).isFalse();
  }

  @Test
  void badSettingsAreRejectedWithTheValue() {
    assertThatThrownBy(() -> new ClusterSimulation.Settings(1, CostModel.gpuLike(), 1,
        settings.runtime(), 1e9, 2e9, settings.policy(), 8))
        .hasMessageContaining("at least 2 executors, got 1");
    assertThatThrownBy(() -> Workload.pinned(2, 1)).hasMessageContaining("at least 3 rows");
  }
}
