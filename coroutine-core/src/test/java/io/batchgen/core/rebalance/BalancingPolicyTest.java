package io.batchgen.core.rebalance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BalancingPolicyTest {
  private static final long S = 1_000_000_000L;

  /** {@code queued} + {@code running} sequences of about 100 tokens of work each. */
  private static ExecutorLoad load(String id, int queued, int running, double rate) {
    return load(id, "m", queued, running, rate, 0);
  }

  private static ExecutorLoad load(String id, String spec, int queued, int running, double rate,
      int migrations) {
    long work = 100L * (queued + running);
    return new ExecutorLoad(id, spec, queued, running, 0, work / 4, work - work / 4, rate,
        2_000, 16_384, 200, 256, migrations);
  }

  private static BalancingPolicy policy() {
    return new BalancingPolicy(BalancingPolicy.Settings.defaults());
  }

  @Test
  void balancedExecutorsStayPut() {
    assertThat(policy().plan(List.of(load("a", 50, 50, 100), load("b", 48, 50, 100)), 1e9, 0))
        .isEmpty();
  }

  @Test
  void anIdleExecutorTakesHalfOfAnOverloadedOnesQueuedSequences() {
    List<Move> moves = policy().plan(List.of(load("a", 150, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256)), 1e9, 0);
    // 20,000 tokens at 100 tok/s each side: 10,000 tokens, 100 sequences, all still queued.
    assertThat(moves).containsExactly(new Move("a", "b", "m", 100, Move.Kind.QUEUED));
  }

  @Test
  void aFasterReceiverTakesMoreWork() {
    List<Move> moves = policy().plan(List.of(load("slow", 200, 0, 100),
        ExecutorLoad.idle("fast", "m", 300, 256)), 1e9, 0);
    // (20,000 x 300 - 0) / 400 = 15,000 tokens = 150 sequences.
    assertThat(moves).containsExactly(new Move("slow", "fast", "m", 150, Move.Kind.QUEUED));
  }

  @Test
  void inFlightSequencesShipTheirKvOnlyWhenThatBeatsRecomputingIt() {
    ExecutorLoad busy = load("a", 2, 198, 100);
    ExecutorLoad idle = ExecutorLoad.idle("b", "m", 100, 256);
    // 16 KiB per position x 200 positions = 3.3 MB a sequence; recompute: 200 / 2,000 = 0.1 s.
    assertThat(policy().plan(List.of(busy, idle), 1e9, 0)).singleElement()
        .extracting(Move::kind).isEqualTo(Move.Kind.IN_FLIGHT_WITH_KV);      // 3 ms to ship
    assertThat(policy().plan(List.of(busy, idle), 1e6, 0)).singleElement()
        .extracting(Move::kind).isEqualTo(Move.Kind.IN_FLIGHT_RECOMPUTE);    // 3.3 s to ship
  }

  @Test
  void executorsThatJustMovedOrHaveMovesInFlightSitOut() {
    BalancingPolicy p = policy();
    List<ExecutorLoad> skewed = List.of(load("a", 150, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256));
    assertThat(p.plan(skewed, 1e9, 0)).hasSize(1);
    assertThat(p.plan(skewed, 1e9, S)).as("within the cooldown").isEmpty();
    assertThat(p.plan(skewed, 1e9, 4 * S)).as("after the cooldown").hasSize(1);
    assertThat(policy().plan(List.of(load("a", "m", 150, 50, 100, 1),
        ExecutorLoad.idle("b", "m", 100, 256)), 1e9, 0)).as("a move in flight").isEmpty();
  }

  @Test
  void smallImbalancesAreNoise() {
    // 12 s against 10 s: under the 1.3 ratio.
    assertThat(policy().plan(List.of(load("a", 60, 60, 100), load("b", 50, 50, 100)), 1e9, 0))
        .isEmpty();
    // 1.5 s against 0.5 s: a large ratio but under 2 s of difference (and too many sequences
    // left to be the tail).
    assertThat(policy().plan(List.of(load("a", 0, 30, 2000), load("b", 0, 10, 2000)), 1e9, 0))
        .isEmpty();
  }

  @Test
  void theTailIsGatheredOnTheExecutorHoldingMost() {
    List<Move> moves = policy().plan(List.of(load("a", 0, 9, 1000), load("b", 0, 3, 1000),
        ExecutorLoad.idle("c", "m", 1000, 256)), 1e9, 0);
    assertThat(moves).containsExactly(new Move("b", "a", "m", 3,
        Move.Kind.IN_FLIGHT_WITH_KV));
  }

  @Test
  void movesStayWithinAModelSetting() {
    List<Move> moves = policy().plan(List.of(load("a", "m1", 150, 50, 100, 0),
        load("b", "m2", 150, 50, 100, 0), ExecutorLoad.idle("c", "m2", 100, 256)), 1e9, 0);
    assertThat(moves).containsExactly(new Move("b", "c", "m2", 100, Move.Kind.QUEUED));
  }
}
