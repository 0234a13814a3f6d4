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
    // 20,000 tokens at 100 tok/s each side: even is 10,000 tokens each; half of a's excess moves
    // this round: 5,000 tokens, 50 sequences, all still queued.
    assertThat(moves).containsExactly(new Move("a", "b", "m", 50, Move.Kind.QUEUED, 5_000));
  }

  @Test
  void executorsOfASettingCountAsAlikeWhateverTheirRatesNow() {
    List<Move> moves = confirmed(List.of(load("slow", 200, 0, 100),
        ExecutorLoad.idle("fast", "m", 300, 256)), 1e9);
    // Both at the mean rate (200 tok/s): each should hold 10,000 of the 20,000 tokens; half of
    // the excess moves this round.
    assertThat(moves).containsExactly(new Move("slow", "fast", "m", 50, Move.Kind.QUEUED, 5_000));
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
  void anExecutorWhoseTasksAreStillSubmittingRowsTakesNothingUntilItsQueueStopsGrowing() {
    BalancingPolicy p = policy();
    ExecutorLoad a = load("a", 150, 50, 100);
    assertThat(p.plan(List.of(a, load("b", 0, 10, 100)), 1e9, 0)).isEmpty();
    assertThat(p.plan(List.of(a, load("b", 20, 30, 100)), 1e9, 2 * S)).as("b grew").isEmpty();
    assertThat(p.plan(List.of(a, load("b", 20, 30, 100)), 1e9, 4 * S)).as("b held still")
        .containsExactly(new Move("a", "b", "m", 38, Move.Kind.QUEUED, 3_750));
  }

  @Test
  void anOverloadedExecutorSpreadsItsExcessOverSeveralIdleOnesInOneRound() {
    List<Move> moves = confirmed(List.of(load("a", 250, 50, 100),
        ExecutorLoad.idle("b", "m", 100, 256), ExecutorLoad.idle("c", "m", 100, 256)), 1e9);
    // 30,000 tokens over 300 tok/s of capacity: 100 s each. Half of what b and c lack comes
    // this round: 50 sequences each.
    assertThat(moves).containsExactlyInAnyOrder(
        new Move("a", "b", "m", 50, Move.Kind.QUEUED, 5_000),
        new Move("a", "c", "m", 50, Move.Kind.QUEUED, 5_000));
  }

  @Test
  void everyOverloadedExecutorShedsWorkInARoundThoughMovesPerRoundAreFew() {
    // Two loaded executors (20,000 tokens each) and four idle ones, at most four moves a round:
    // 40,000 tokens over 600 tok/s is 6,667 tokens each. Each donor hands half its excess
    // (6,667 tokens) and each receiver takes half its room (3,333 tokens, 33 sequences), matched
    // in order, so both donors give (filling one receiver's room after another from the first
    // donor spent all four moves on it).
    BalancingPolicy p = new BalancingPolicy(new BalancingPolicy.Settings(2.0, 1.3,
        3_000_000_000L, 16, 4));
    List<Move> moves = confirmed(p, List.of(load("a1", 150, 50, 100), load("a2", 150, 50, 100),
        ExecutorLoad.idle("b1", "m", 100, 256), ExecutorLoad.idle("b2", "m", 100, 256),
        ExecutorLoad.idle("b3", "m", 100, 256), ExecutorLoad.idle("b4", "m", 100, 256)), 1e9, 0);
    assertThat(moves).containsExactly(new Move("a1", "b1", "m", 33, Move.Kind.QUEUED, 3_333),
        new Move("a1", "b2", "m", 33, Move.Kind.QUEUED, 3_333),
        new Move("a2", "b3", "m", 33, Move.Kind.QUEUED, 3_333),
        new Move("a2", "b4", "m", 33, Move.Kind.QUEUED, 3_333));
  }

  @Test
  void anExecutorRunningSlowlyForAMomentIsNotTakenForSlow() {
    // b holds 10 sequences and runs them at 100 tok/s (a small batch, or a core shared with a
    // task's tokenizer) while a runs 1,000: b does not look like it needs 10 s for 1,000 tokens
    // against a's 20 s for 20,000. At the mean rate a's excess is 9,500 tokens; half moves.
    List<Move> moves = confirmed(List.of(load("a", 150, 50, 1000), load("b", 0, 10, 100)), 1e9);
    assertThat(moves).containsExactly(new Move("a", "b", "m", 48, Move.Kind.QUEUED, 4_750));
  }

  @Test
  void anImbalanceOfLessThanOneSequencesWorthMovesNothing() {
    // a: 2 sequences of 3,000 tokens (60 s at 100 tok/s), b: 4,000 tokens (40 s). Even would be
    // 50 s each, a third of one of a's sequences: moving one would leave b the slower at 70 s
    // (b holds 20 short ones, too many for the tail to be gathered).
    List<Move> moves = confirmed(List.of(
        new ExecutorLoad("a", "m", 1, 1, 0, 0, 6_000, 100, 2_000, 16_384, 200, 256, 0),
        new ExecutorLoad("b", "m", 0, 20, 0, 0, 4_000, 100, 2_000, 16_384, 200, 256, 0)), 1e9);
    assertThat(moves).isEmpty();
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
    assertThat(p.plan(skewed, 1e9, S / 2)).as("within the cooldown").isEmpty();
    assertThat(p.plan(skewed, 1e9, 4 * S)).as("after the cooldown, a first look").isEmpty();
    assertThat(p.plan(skewed, 1e9, 6 * S)).as("seen twice after the cooldown").hasSize(1);
    assertThat(confirmed(List.of(load("a", "m", 150, 50, 100, 1),
        ExecutorLoad.idle("b", "m", 100, 256)), 1e9)).as("a move in flight").isEmpty();
  }

  /** As {@link #load(String, int, int, double)}, {@code hosted} of them run for others. */
  private static ExecutorLoad hosting(String id, int queued, int running, int hosted) {
    ExecutorLoad l = load(id, queued, running, 100);
    return new ExecutorLoad(id, "m", queued, running, 0, l.positionsLeft(),
        l.expectedNewTokens(), 100, 2_000, 16_384, 200, 256, 0, hosted);
  }

  @Test
  void anExecutorHoldingOnlyHostedSequencesHandsNothingOver() {
    // a is overloaded, but every sequence it holds was moved in (hosted for another executor):
    // none of them can move on, so ordering a move from it would move nothing.
    assertThat(confirmed(List.of(hosting("a", 150, 50, 200), ExecutorLoad.idle("b", "m", 100,
        256)), 1e9)).isEmpty();
  }

  @Test
  void hostedSequencesAreNotCountedAmongThoseAnExecutorCanHandOver() {
    // Half of a's excess is 50 sequences, but only 20 of its 200 are its own tasks'.
    assertThat(confirmed(List.of(hosting("a", 150, 50, 180), ExecutorLoad.idle("b", "m", 100,
        256)), 1e9)).containsExactly(new Move("a", "b", "m", 20, Move.Kind.QUEUED, 5_000));
  }

  @Test
  void theTailIsNotGatheredFromAnExecutorThatHostsPartOfIt() {
    // b's 3 sequences were moved in: it cannot empty itself into a, so nothing moves.
    assertThat(policy().plan(List.of(load("a", 0, 9, 1000), hosting("b", 0, 3, 3)), 1e9, 0))
        .isEmpty();
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
    assertThat(moves).containsExactly(new Move("b", "c", "m2", 50, Move.Kind.QUEUED, 5_000));
  }
}
