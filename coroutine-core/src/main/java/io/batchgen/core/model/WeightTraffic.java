package io.batchgen.core.model;

/**
 * What a backend's weight store did so far: how many compute-ready bytes it may hold, how many it
 * holds, and every byte it brought in from the backing tier (the checkpoint file), with the time
 * that took. Counters only grow; take differences between two readings for one interval.
 *
 * @param budgetBytes      compute-ready bytes the resident tier may hold
 * @param modelBytes       compute-ready bytes of the whole model
 * @param residentBytes    compute-ready bytes held now
 * @param bytesRead        checkpoint bytes read from the backing tier
 * @param readNanos        time spent reading them
 * @param packNanos        time spent turning read bytes into compute-ready form
 * @param loads            matrices brought in (by the caller or the loader)
 * @param prefetched       of those, brought in ahead of need by the loader thread
 * @param hits             matrices asked for that were resident
 * @param evictions        matrices dropped from the resident tier to make room
 * @param stallNanos       time module calls waited for weights (own loads and loader waits)
 */
public record WeightTraffic(long budgetBytes, long modelBytes, long residentBytes,
    long bytesRead, long readNanos, long packNanos, long loads, long prefetched, long hits,
    long evictions, long stallNanos) {

  /** A backend without a weight store (everything resident, nothing counted). */
  public static final WeightTraffic NONE = new WeightTraffic(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  /** {@code this - earlier} for the counters; budget and resident bytes as now. */
  public WeightTraffic minus(WeightTraffic earlier) {
    return new WeightTraffic(budgetBytes, modelBytes, residentBytes,
        bytesRead - earlier.bytesRead, readNanos - earlier.readNanos,
        packNanos - earlier.packNanos, loads - earlier.loads, prefetched - earlier.prefetched,
        hits - earlier.hits, evictions - earlier.evictions, stallNanos - earlier.stallNanos);
  }
}
