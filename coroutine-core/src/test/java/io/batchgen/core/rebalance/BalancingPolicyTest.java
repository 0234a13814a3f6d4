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

  /**
   * The moves of a round at {@code now} that follows one at {@code now - 2 s} that saw the same
   * loads (an imbalance moves work only when two rounds in a row see it).
   */
  private static List<Move> confirmed(BalancingPolicy p, List<ExecutorLoad> loads,
      double transport, long now) {
    assertThat(p.plan(loads, transport, now - 2 * S)).as("a first look moves nothing").isEmpty();
    return p.plan(loads, transport, now);
  }

  private static List<Move> confirmed(List<ExecutorLoad> loads, double transport) {
    return confirmed(policy(), loads, transport, 0);
  }

  @Test
  void balancedExecutorsStayPut() {
    assertThat(confirmed(List.of(load("a", 50, 50, 100), load("b", 48, 50, 100)), 1e9))
        .isEmpty();
  }

  @Test
  void anIdleExecutorTakesHalfOfAnOverloadedOnesQueuedSequences() {
    List<Move> moves = confirmed(List.of(load("a", 150, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256)), 1e9);
    // 20,000 tokens at 100 tok/s each side: 10,000 tokens, 100 sequences, all still queued.
    assertThat(moves).containsExactly(new Move("a", "b", "m", 100, Move.Kind.QUEUED));
  }

  @Test
  void aFasterReceiverTakesMoreWork() {
    List<Move> moves = confirmed(List.of(load("slow", 200, 0, 100),
        ExecutorLoad.idle("fast", "m", 300, 256)), 1e9);
    // (20,000 x 300 - 0) / 400 = 15,000 tokens = 150 sequences.
    assertThat(moves).containsExactly(new Move("slow", "fast", "m", 150, Move.Kind.QUEUED));
  }

  @Test
  void anExecutorThatLooksIdleForOneRoundOnlyGetsNothing() {
    BalancingPolicy p = policy();
    // b's task has not submitted its rows yet: b looks idle once...
    assertThat(p.plan(List.of(load("a", 150, 50, 100), ExecutorLoad.idle("b", "m", 100, 256)),
        1e9, 0)).isEmpty();
    // ...and holds as much as a in the next round: nothing was, nor is, moved.
    assertThat(p.plan(List.of(load("a", 140, 50, 100), load("b", 150, 50, 100)), 1e9, 2 * S))
        .isEmpty();
  }

  @Test
  void anOverloadedExecutorSpreadsItsExcessOverSeveralIdleOnesInOneRound() {
    List<Move> moves = confirmed(List.of(load("a", 250, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256), ExecutorLoad.idle("c", "m", 100, 256)), 1e9);
    // 30,000 tokens over 300 tok/s of capacity: 100 s each, so 100 sequences to b and to c.
    assertThat(moves).containsExactlyInAnyOrder(new Move("a", "b", "m", 100, Move.Kind.QUEUED),
        new Move("a", "c", "m", 100, Move.Kind.QUEUED));
  }

  @Test
  void anExecutorWithLittleWorkCountsAtTheRateItReachedWhenItHadEnough() {
    BalancingPolicy p = policy();
    assertThat(p.plan(List.of(load("a", 100, 100, 1000), load("b", 100, 100, 1000)), 1e9, 0))
        .isEmpty();
    // b now holds 10 sequences and runs them at 100 tok/s (a small batch), but ran 1,000 with
    // work enough: 21,000 tokens over 2,000 tok/s is 10.5 s, so a hands over 9,500 tokens.
    List<Move> moves = confirmed(p, List.of(load("a", 150, 50, 1000), load("b", 0, 10, 100)),
        1e9, 10 * S);
    assertThat(moves).containsExactly(new Move("a", "b", "m", 95, Move.Kind.QUEUED));
  }

  @Test
  void aReceiverWithRoomForLessThanOneSequenceGetsNone() {
    // b is so slow that its share of the 100 s target is 40 tokens, less than a sequence.
    List<Move> moves = confirmed(List.of(load("a", 150, 50, 100),
        ExecutorLoad.idle("b", "m", 0.4, 256), ExecutorLoad.idle("c", "m", 100, 256)), 1e9);
    assertThat(moves).containsExactly(new Move("a", "c", "m", 100, Move.Kind.QUEUED));
  }

  @Test
  void inFlightSequencesShipTheirKvOnlyWhenThatBeatsRecomputingIt() {
    ExecutorLoad busy = load("a", 2, 198, 100);
    ExecutorLoad idle = ExecutorLoad.idle("b", "m", 100, 256);
    // 16 KiB per position x 200 positions = 3.3 MB a sequence; recompute: 200 / 2,000 = 0.1 s.
    assertThat(confirmed(List.of(busy, idle), 1e9)).singleElement()
        .extracting(Move::kind).isEqualTo(Move.Kind.IN_FLIGHT_WITH_KV);      // 3 ms to ship
    assertThat(confirmed(List.of(busy, idle), 1e6)).singleElement()
        .extracting(Move::kind).isEqualTo(Move.Kind.IN_FLIGHT_RECOMPUTE);    // 3.3 s to ship
  }

  @Test
  void executorsThatJustMovedOrHaveMovesInFlightSitOut() {
    BalancingPolicy p = policy();
    List<ExecutorLoad> skewed = List.of(load("a", 150, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256));
    assertThat(confirmed(p, skewed, 1e9, 0)).hasSize(1);
    assertThat(p.plan(skewed, 1e9, S)).as("within the cooldown").isEmpty();
    assertThat(p.plan(skewed, 1e9, 4 * S)).as("after the cooldown, a first look").isEmpty();
    assertThat(p.plan(skewed, 1e9, 6 * S)).as("seen twice after the cooldown").hasSize(1);
    assertThat(confirmed(List.of(load("a", "m", 150, 50, 100, 1),
        ExecutorLoad.idle("b", "m", 100, 256)), 1e9)).as("a move in flight").isEmpty();
  }

  @Test
  void smallImbalancesAreNoise() {
    // 12 s against 10 s: under the 1.3 ratio.
    assertThat(confirmed(List.of(load("a", 60, 60, 100), load("b", 50, 50, 100)), 1e9))
        .isEmpty();
    // 1.5 s against 0.5 s: a large ratio but under 2 s of difference (and too many sequences
    // left to be the tail).
    assertThat(confirmed(List.of(load("a", 0, 30, 2000), load("b", 0, 10, 2000)), 1e9))
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
    List<Move> moves = confirmed(List.of(load("a", "m1", 150, 50, 100, 0),
        load("b", "m2", 150, 50, 100, 0), ExecutorLoad.idle("c", "m2", 100, 256)), 1e9);
    assertThat(moves).containsExactly(new Move("b", "c", "m2", 100, Move.Kind.QUEUED));
  }
}
