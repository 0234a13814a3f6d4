package io.batchgen.spark.plugin;

import io.batchgen.core.rebalance.Move;

/**
 * Where one move stands, as the driver sees it.
 *
 * @param state     ORDERED, UPLOADING, READY, FETCHING, HOSTED (running at the destination) or
 *                  DONE (nothing moved, refused, or its destination or source was lost)
 * @param sequences sequences its source sent
 * @param bytes     state bytes it carried
 * @param timing    how long its phases took, as far as it got
 */
public record MoveStatus(long moveId, String from, String to, Move.Kind kind, String state,
    int sequences, long bytes, Timing timing) {

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
