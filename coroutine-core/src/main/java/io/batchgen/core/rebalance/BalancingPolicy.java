package io.batchgen.core.rebalance;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The default policy: equalise the executors' expected time to finish, then, near the end,
 * gather the last sequences so the executors that hold them run full batches.
 *
 * <p><b>Balancing.</b> Each executor's remaining time is its remaining work (positions to
 * prefill plus tokens expected) over the setting's rate: the mean of its executors' measured
 * token rates, one capacity for all, since Spark gives an application's executors the same
 * resources and one executor's own rate swings with what it happens to run (an executor that
 * holds few sequences, or prefills, or shares its core with a task's tokenizer, would look slow
 * or fast for a while). Every executor free to move is brought towards the common finishing
 * time, the mean work: in one round each executor above it hands half its excess ({@link #STEP})
 * and each below takes half its room, matched in order (the slowest with the least loaded), as
 * long as the pair differs by more than {@link Settings#minImbalanceSeconds} and by a factor of
 * {@link Settings#imbalanceRatio}, and a move holds at least one sequence's worth of work.
 * Sequences not started yet move first (only tokens travel), in-flight ones when the queue is
 * short, with their KV when shipping it is cheaper than recomputing it at the destination (KV
 * bytes over the measured transport speed against cached positions over the measured prefill
 * speed).
 *
 * <p><b>Hysteresis.</b> An executor with moves in flight (the caller counts a move until it
 * settled and the executor reported after that, so its load shows the move), or one that took
 * part in a move less than {@link Settings#cooldownNanos} ago, neither gives nor takes; only
 * sequences its own tasks own count as what it can give ({@link ExecutorLoad#movable}); an
 * executor gives (takes) only when it was above (below) the target in the previous round too,
 * and takes none while it holds more sequences than in the previous round, so a momentary
 * picture (tasks that have not submitted all their rows yet) moves nothing; the imbalance
 * thresholds keep it from moving work back and forth over noise.
 *
 * <p><b>Tail consolidation.</b> When no balancing move pays and the sequences left on several
 * executors fit one batch ({@link Settings#tailSequences}), the executor holding fewest (all
 * of them its own) hands them to the one holding most, so its batches stay full instead of two
 * executors each running small, inefficient ones.
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
      return new Settings(2.0, 1.3, 1_000_000_000L, 16, 256);
    }
  }

  /**
   * The share of an executor's excess moved in one round (and of a receiver's room filled). The
   * loads a round sees are a second or two old and the expected work of a row is an estimate:
   * moving the whole excess at once overshot and sent work back the next round, on a real
   * cluster and in the simulation; half converges without that (the next rounds move the rest).
   * In the simulation with moves limited to their work (gpu-like, 8 and 32 executors), half took
   * 72.4 and 71.7 s, three quarters 70.7 and 72.7 s, all of it 77.9 and 79.8 s.
   */
  static final double STEP = 0.5;

  private final Settings settings;
  /** Executor id → when it last took part in a move. */
  private final Map<String, Long> lastMove = new HashMap<>();
  /**
   * Executor id and setting → which side of the target it was on in the previous round (1 above,
   * -1 below, 0 neither or not free to move): only an executor on the same side twice in a row
   * gives or takes work. A task that has not submitted its rows yet makes its executor look idle
   * for a moment; acting on that once moved work the wrong way at the start of a job.
   */
  private final Map<String, Integer> lastSide = new HashMap<>();
  /** Executor id and setting → the sequences it held in the previous round. */
  private final Map<String, Integer> lastSequences = new HashMap<>();

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
    /** Tokens per second it runs at when it has work enough. */
    final double capacity;
    /** Work per sequence it holds, as the round started. */
    final double perSequence;
    int queued;
    int inFlight;
    /** Sequences it may still hand over this round: its own tasks', not those it hosts. */
    int movable;
    double work;

    Slot(ExecutorLoad load, double capacity) {
      this.load = load;
      this.capacity = capacity;
      this.queued = load.queued();
      this.inFlight = load.running() + load.parked();
      this.movable = load.movable();
      this.work = load.work();
      this.perSequence = load.sequences() == 0 ? 0 : (double) load.work() / load.sequences();
    }

    int sequences() {
      return queued + inFlight;
    }

    double seconds() {
      return work / capacity;
    }
  }

  /**
   * One model setting: every executor that may give or take is brought towards the common
   * finishing time {@code T = sum(work) / sum(capacity)}; each executor above it hands its excess
   * to the executors below it, least loaded first, as long as each pair passes the thresholds.
   */
  private void planSpec(List<ExecutorLoad> group, double transport, long now, List<Move> out) {
    // Executors of one setting count as alike (Spark gives an application's executors the same
    // resources): one capacity for all, the mean of their measured rates. A single executor's
    // rate swings with what it runs (a burst of cheap prefill positions, a CPU shared with a
    // task tokenizing its rows), and using it moved work back and forth on a real cluster.
    double known = 0;
    int counted = 0;
    for (ExecutorLoad l : group) {
      if (l.tokensPerSecond() > 0) {
        known += l.tokensPerSecond();
        counted++;
      }
    }
    double rate = counted == 0 ? 1 : known / counted;
    List<Slot> slots = new ArrayList<>();
    double work = 0;
    double capacity = 0;
    for (ExecutorLoad l : group) {
      if (l.migrationsInFlight() > 0 || now - lastMove.getOrDefault(l.executorId(),
          Long.MIN_VALUE / 2) < settings.cooldownNanos()) {
        continue; // hysteresis: busy with a move, or moved recently
      }
      Slot s = new Slot(l, rate);
      slots.add(s);
      work += s.work;
      capacity += s.capacity;
    }
    double target = capacity == 0 ? 0 : work / capacity;
    List<Slot> donors = new ArrayList<>();
    List<Slot> receivers = new ArrayList<>();
    Map<String, Integer> sides = new HashMap<>();
    for (Slot s : slots) {
      String key = key(s.load);
      // A donor needs a sequence of its own to hand over (one it hosts does not move on).
      boolean canGive = s.sequences() > 1 && s.movable > 0;
      int side = s.seconds() > target && canGive ? 1 : s.seconds() < target ? -1 : 0;
      sides.put(key, side);
      // Confirmation: only an imbalance seen in the previous round too moves work, and an
      // executor whose sequences grew since then (its tasks are still submitting rows) takes none.
      boolean growing = s.load.sequences() > lastSequences.getOrDefault(key, Integer.MAX_VALUE);
      if (side != 0 && side == lastSide.getOrDefault(key, 0) && !(side < 0 && growing)) {
        (side > 0 ? donors : receivers).add(s);
      }
    }
    for (ExecutorLoad l : group) {
      lastSide.remove(key(l)); // not free to move this round: confirm again afterwards
      lastSequences.put(key(l), l.sequences());
    }
    lastSide.putAll(sides);
    donors.sort(Comparator.comparingDouble(Slot::seconds).reversed());
    receivers.sort(Comparator.comparingDouble(Slot::seconds));
    int before = out.size();
    // Matched in order, most loaded donor with least loaded receiver: each donor hands over
    // STEP of its excess and each receiver takes STEP of its room, so a round has at most
    // donors + receivers - 1 moves and every donor sheds work (one donor filling every
    // receiver's room first used up the moves of a round at 128 executors).
    double[] give = new double[donors.size()];
    double[] take = new double[receivers.size()];
    for (int i = 0; i < give.length; i++) {
      give[i] = STEP * (donors.get(i).work - target * donors.get(i).capacity);
    }
    for (int j = 0; j < take.length; j++) {
      take[j] = STEP * (target * receivers.get(j).capacity - receivers.get(j).work);
    }
    int i = 0;
    int j = 0;
    while (i < donors.size() && j < receivers.size()
        && out.size() - before < settings.maxMovesPerRound()) {
      Slot donor = donors.get(i);
      Slot receiver = receivers.get(j);
      if (donor.seconds() - receiver.seconds() < settings.minImbalanceSeconds()
          || donor.seconds() < settings.imbalanceRatio() * receiver.seconds()) {
        break; // in order: every later pair is closer still
      }
      double x = Math.min(give[i], take[j]);
      int n = (int) Math.min(Math.min(donor.sequences() - 1, donor.movable),
          Math.round(x / donor.perSequence));
      if (n >= 1) {
        // The source stops at x tokens: the sequences it picks first (under longest-first
        // admission, its longest queued ones) can carry more than the mean.
        out.add(move(donor, receiver, n, Math.round(x), transport));
        donor.work -= x;
        receiver.work += x;
        receiver.queued += n;
      }
      give[i] -= x;
      take[j] -= x;
      // Less than half a sequence's worth left on a side: it is done.
      if (give[i] < donor.perSequence / 2 || donor.sequences() <= 1 || donor.movable == 0) {
        i++;
      }
      if (take[j] < donor.perSequence / 2) {
        j++;
      }
    }
    if (out.size() == before) {
      consolidateTail(slots, transport, out);
    }
  }

  private static String key(ExecutorLoad l) {
    return l.executorId() + '\n' + l.spec();
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
      // Only an executor that can hand all its sequences over empties (staying ones do not move).
      if (s.movable == s.sequences() && (fewest == null || s.sequences() < fewest.sequences())) {
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
    out.add(move(fewest, most, fewest.sequences(), 0, transport));
  }

  /**
   * A move of {@code n} sequences carrying up to {@code work} tokens (0: all n); in-flight ones
   * ship KV when that beats recomputing it.
   */
  private static Move move(Slot from, Slot to, int n, long work, double transport) {
    from.movable -= n;
    Move.Kind kind;
    if (from.queued >= n) {
      kind = Move.Kind.QUEUED;
      from.queued -= n;
    } else {
      from.inFlight -= n - from.queued;
      from.queued = 0;
      double bytes = from.load.kvBytesPerPosition() * from.load.meanCachedPositions();
      double prefill = to.load.prefillTokensPerSecond() > 0 ? to.load.prefillTokensPerSecond()
          : from.load.prefillTokensPerSecond();
      double shipSeconds = transport > 0 ? bytes / transport : Double.POSITIVE_INFINITY;
      double recomputeSeconds = prefill > 0 ? from.load.meanCachedPositions() / prefill
          : Double.POSITIVE_INFINITY;
      kind = shipSeconds <= recomputeSeconds ? Move.Kind.IN_FLIGHT_WITH_KV
          : Move.Kind.IN_FLIGHT_RECOMPUTE;
    }
    return new Move(from.load.executorId(), to.load.executorId(), from.load.spec(), n, kind,
        work);
  }
}
