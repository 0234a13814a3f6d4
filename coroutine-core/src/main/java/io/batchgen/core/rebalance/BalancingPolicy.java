package io.batchgen.core.rebalance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The default policy: equalise the executors' expected time to finish, then, near the end,
 * gather the last sequences so the executors that hold them run full batches.
 *
 * <p><b>Balancing.</b> Each executor's remaining time is its remaining work (positions to
 * prefill plus tokens expected) over its measured token rate. While the slowest and the fastest
 * executor of a model setting differ by more than {@link Settings#minImbalanceSeconds} and by a
 * factor of {@link Settings#imbalanceRatio}, the policy moves the work that equalises the two:
 * sequences not started yet first (only tokens travel), in-flight ones only when the queue is
 * short, with their KV when shipping it is cheaper than recomputing it at the destination
 * (KV bytes over the measured transport speed against cached positions over the measured
 * prefill speed).
 *
 * <p><b>Hysteresis.</b> An executor with moves in flight, or one that took part in a move less
 * than {@link Settings#cooldownNanos} ago, neither gives nor takes; the imbalance thresholds keep
 * it from moving work back and forth over noise.
 *
 * <p><b>Tail consolidation.</b> When no balancing move pays and the sequences left on several
 * executors fit one batch ({@link Settings#tailSequences}), the executor holding fewest hands
 * them to the one holding most, so its batches stay full instead of two executors each running
 * small, inefficient ones.
 *
 * <p>Not thread-safe: one driver thread calls it.
 */
public final class BalancingPolicy implements RebalancePolicy {

  /**
   * @param minImbalanceSeconds remaining-time difference below which nothing moves
   * @param imbalanceRatio      the slower must need this many times the faster's time
   * @param cooldownNanos       how long an executor sits out after a move
   * @param tailSequences       consolidate when the setting's live sequences are at most this
   * @param maxMovesPerRound    moves per call at most
   */
  public record Settings(double minImbalanceSeconds, double imbalanceRatio, long cooldownNanos,
      int tailSequences, int maxMovesPerRound) {

    public static Settings defaults() {
      return new Settings(2.0, 1.3, 3_000_000_000L, 16, 8);
    }
  }

  private final Settings settings;
  /** Executor id → when it last took part in a move. */
  private final Map<String, Long> lastMove = new HashMap<>();

  public BalancingPolicy(Settings settings) {
    this.settings = settings;
  }

  @Override
  public List<Move> plan(List<ExecutorLoad> loads, double transportBytesPerSecond,
      long nowNanos) {
    Map<String, List<ExecutorLoad>> bySpec = new LinkedHashMap<>();
    for (ExecutorLoad l : loads) {
      bySpec.computeIfAbsent(l.spec(), k -> new ArrayList<>()).add(l);
    }
    List<Move> moves = new ArrayList<>();
    for (List<ExecutorLoad> group : bySpec.values()) {
      planSpec(group, transportBytesPerSecond, nowNanos, moves);
    }
    for (Move m : moves) {
      lastMove.put(m.from(), nowNanos);
      lastMove.put(m.to(), nowNanos);
    }
    return moves;
  }

  /** The working state of one executor while a round is planned. */
  private static final class Slot {
    final ExecutorLoad load;
    final double rate;
    int queued;
    int inFlight;
    double work;
    boolean used;

    Slot(ExecutorLoad load, double rate) {
      this.load = load;
      this.rate = rate;
      this.queued = load.queued();
      this.inFlight = load.running() + load.parked();
      this.work = load.work();
    }

    int sequences() {
      return queued + inFlight;
    }

    double seconds() {
      return work / rate;
    }
  }

  private void planSpec(List<ExecutorLoad> group, double transport, long now, List<Move> out) {
    double known = 0;
    int counted = 0;
    for (ExecutorLoad l : group) {
      if (l.tokensPerSecond() > 0) {
        known += l.tokensPerSecond();
        counted++;
      }
    }
    double fallbackRate = counted == 0 ? 1 : known / counted;
    List<Slot> slots = new ArrayList<>();
    for (ExecutorLoad l : group) {
      if (l.migrationsInFlight() > 0 || now - lastMove.getOrDefault(l.executorId(),
          Long.MIN_VALUE / 2) < settings.cooldownNanos()) {
        continue; // hysteresis: busy with a move, or moved recently
      }
      slots.add(new Slot(l, l.tokensPerSecond() > 0 ? l.tokensPerSecond() : fallbackRate));
    }
    int before = out.size();
    while (out.size() - before < settings.maxMovesPerRound()) {
      Slot donor = null;
      Slot receiver = null;
      for (Slot s : slots) {
        if (s.used) {
          continue;
        }
        if (s.sequences() > 1 && (donor == null || s.seconds() > donor.seconds())) {
          donor = s;
        }
      }
      for (Slot s : slots) {
        if (!s.used && s != donor && (receiver == null || s.seconds() < receiver.seconds())) {
          receiver = s;
        }
      }
      if (donor == null || receiver == null) {
        break;
      }
      double gap = donor.seconds() - receiver.seconds();
      if (gap < settings.minImbalanceSeconds()
          || donor.seconds() < settings.imbalanceRatio() * receiver.seconds()) {
        break;
      }
      // Work x that leaves both with the same time: (Wd - x) / rd = (Wr + x) / rr.
      double x = (donor.work * receiver.rate - receiver.work * donor.rate)
          / (donor.rate + receiver.rate);
      double perSequence = donor.work / donor.sequences();
      int n = (int) Math.max(1, Math.min(donor.sequences() - 1, Math.round(x / perSequence)));
      out.add(move(donor, receiver, n, transport));
      donor.used = true;
      receiver.used = true;
    }
    if (out.size() == before) {
      consolidateTail(slots, transport, out);
    }
  }

  private void consolidateTail(List<Slot> slots, double transport, List<Move> out) {
    int total = 0;
    Slot fewest = null;
    Slot most = null;
    for (Slot s : slots) {
      if (s.sequences() == 0) {
        continue;
      }
      total += s.sequences();
      if (fewest == null || s.sequences() < fewest.sequences()) {
        fewest = s;
      }
      if (most == null || s.sequences() > most.sequences()) {
        most = s;
      }
    }
    if (fewest == null || fewest == most || total > settings.tailSequences()
        || most.sequences() + fewest.sequences() > most.load.maxRunning()) {
      return;
    }
    out.add(move(fewest, most, fewest.sequences(), transport));
  }

  /** A move of {@code n} sequences; in-flight ones ship KV when that beats recomputing it. */
  private static Move move(Slot from, Slot to, int n, double transport) {
    Move.Kind kind;
    if (from.queued >= n) {
      kind = Move.Kind.QUEUED;
    } else {
      double bytes = from.load.kvBytesPerPosition() * from.load.meanCachedPositions();
      double prefill = to.load.prefillTokensPerSecond() > 0 ? to.load.prefillTokensPerSecond()
          : from.load.prefillTokensPerSecond();
      double shipSeconds = transport > 0 ? bytes / transport : Double.POSITIVE_INFINITY;
      double recomputeSeconds = prefill > 0 ? from.load.meanCachedPositions() / prefill
          : Double.POSITIVE_INFINITY;
      kind = shipSeconds <= recomputeSeconds ? Move.Kind.IN_FLIGHT_WITH_KV
          : Move.Kind.IN_FLIGHT_RECOMPUTE;
    }
    return new Move(from.load.executorId(), to.load.executorId(), from.load.spec(), n, kind);
  }
}
