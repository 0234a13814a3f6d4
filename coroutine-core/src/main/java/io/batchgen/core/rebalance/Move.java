package io.batchgen.core.rebalance;

/**
 * Move up to {@code sequences} sequences of setting {@code spec} from one executor's runtime to
 * another's, carrying about {@code work} tokens of remaining work. The source picks which
 * (cheapest first), snapshots them and ships them.
 *
 * @param from      the source executor
 * @param to        the destination executor
 * @param spec      the model setting
 * @param sequences how many, at most
 * @param kind      which sequences may move, and how their KV travels
 * @param work      tokens of remaining work (positions to prefill plus new tokens expected, as
 *                  {@link LoadEstimator} counts them) the move should carry: the source stops
 *                  adding sequences once they carry this much (so at most one sequence's worth
 *                  more); 0 for no limit but the count
 */
public record Move(String from, String to, String spec, int sequences, Kind kind, long work) {

  /** A move limited by its count only. */
  public Move(String from, String to, String spec, int sequences, Kind kind) {
    this(from, to, spec, sequences, kind, 0);
  }

  /** What may move. */
  public enum Kind {
    /** Only sequences not started yet: nothing but tokens travels. */
    QUEUED,
    /** Started sequences too, with their KV cache (cheaper than recomputing it). */
    IN_FLIGHT_WITH_KV,
    /** Started sequences too, without KV: the destination recomputes it from the tokens. */
    IN_FLIGHT_RECOMPUTE
  }

  public Move {
    if (sequences < 1) {
      throw new IllegalArgumentException("a move carries at least one sequence, got "
          + sequences);
    }
    if (work < 0) {
      throw new IllegalArgumentException("a move's work is at least 0, got " + work);
    }
    if (from.equals(to)) {
      throw new IllegalArgumentException("a move needs two executors, got " + from + " twice");
    }
  }
}
