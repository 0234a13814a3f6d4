package io.batchgen.spark.plugin;

import io.batchgen.core.rebalance.Move;

/**
 * Where one move stands, as the driver sees it.
 *
 * @param state     ORDERED, UPLOADING, READY, FETCHING, HOSTED (running at the destination) or
 *                  DONE (nothing moved, refused, or its destination or source was lost)
 * @param sequences sequences its source sent
 * @param bytes     state bytes it carried
 */
public record MoveStatus(long moveId, String from, String to, Move.Kind kind, String state,
    int sequences, long bytes) {
}
