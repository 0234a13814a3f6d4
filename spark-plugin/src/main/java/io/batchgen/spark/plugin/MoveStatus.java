package io.batchgen.spark.plugin;

import io.batchgen.core.rebalance.Move;

/**
 * Where one move stands, as the driver sees it.
 *
 * @param state     ORDERED, UPLOADING, READY, FETCHING, HOSTED (running at the destination) or
 *                  DONE (ended without its sequences running at the destination: see ending)
 * @param ending    why a DONE move ended; null for the others
 * @param endedIn   the state it was in when it ended (e.g. UPLOADING when its source was lost
 *                  while sending); null unless DONE
 * @param sequences sequences its source sent
 * @param bytes     state bytes it carried
 * @param timing    how long its phases took, as far as it got
 */
public record MoveStatus(long moveId, String from, String to, Move.Kind kind, String state,
    Ending ending, String endedIn, int sequences, long bytes, Timing timing) {

  /** The state, and why and where an early end came: {@code DONE (SOURCE_LOST in UPLOADING)}. */
  public String stateText() {
    return ending == null ? state : state + " (" + ending + " in " + endedIn + ")";
  }

  /** Why a move ended before its sequences ran at the destination. */
  public enum Ending {
    /** The source had none of the ordered sequences left to move (finished, or not its own). */
    NOTHING_MOVED,
    /** The source could not send (e.g. the driver's buffer stayed full): it kept them. */
    SOURCE_FAILED,
    /** The destination refused (model fingerprint, memory): the source runs them again. */
    REFUSED,
    /** The destination was lost: the source (their owner) runs them again from its leases. */
    DESTINATION_LOST,
    /**
     * The source was lost: its tasks failed with it and Spark's retry reads and runs their rows
     * again; whatever the destination had received is cancelled there.
     */
    SOURCE_LOST
  }

  /**
   * Seconds spent in each phase of a move; NaN for a phase not reached.
   *
   * @param toFirstChunk ordered until its source's first chunk reached the driver (the order
   *                     waits for the source's next load report; detaching and encoding)
   * @param upload       first to last chunk received from the source
   * @param toFetch      last chunk received until the destination asked for the first (the
   *                     order waits for the destination's next load report)
   * @param fetch        first to last chunk handed to the destination
   * @param toHosted     ordered until the destination reported the sequences running
   */
  public record Timing(double toFirstChunk, double upload, double toFetch, double fetch,
      double toHosted) {

    /** Seconds the bytes spent moving: upload plus fetch. */
    public double transfer() {
      return upload + fetch;
    }
  }
}
