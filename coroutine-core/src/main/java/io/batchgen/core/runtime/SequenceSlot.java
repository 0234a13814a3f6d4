package io.batchgen.core.runtime;

import io.batchgen.core.kv.KvHandle;
import java.util.Arrays;

/**
 * The scheduler's state of one live sequence, beside the {@link SequenceCoroutine} itself: where
 * the sequence is (waiting, ready, in a step, parked), its KV (device blocks, or a parked copy, or
 * host arrays in offload mode), who gets its result, and its timing. The coroutine posts its
 * awaits here ({@link AwaitSink}), and the slot hands them to the scheduler with itself attached.
 *
 * <p>Not thread-safe: owned by the scheduler thread.
 */
final class SequenceSlot implements AwaitSink {

  /** Which scheduler collection holds the sequence between steps. */
  enum Place { NONE, WAITING, READY, IN_STEP, PARKED }

  /** The scheduler side of the slot's awaits. */
  interface Queues {
    void await(SequenceSlot slot, int keyOrder, int row, int rank);

    void stepDone(SequenceSlot slot);
  }

  final SequenceCoroutine seq;
  final ResultListener listener;
  /** Admission priority: lower is older and is served first. */
  final long order;
  /** Device KV blocks (not used in offload mode). */
  final KvHandle kv;
  final long submitNanos;
  private final Queues queues;

  long firstRunNanos = -1;
  Place place = Place.NONE;
  int preemptions;
  /** KV in {@code KvLayout} form while parked (or restored, not yet loaded). */
  float[] parkedKv;
  long parkedBytes;
  /** KV offload mode: per layer, keys and values of cached positions, {@code (capacity, kvDim)}. */
  float[][] hostK;
  float[][] hostV;
  /** KV offload mode: host bytes reserved at admission for the full length. */
  long hostReserved;
  /** KV offload mode: the layer's device blocks while in an attention batch. */
  int[] layerTable;
  /** The token count and position {@link LiveWork} last counted; position -1 while not counted. */
  int countedTokens;
  int countedPosition = -1;

  SequenceSlot(SequenceCoroutine seq, ResultListener listener, long order, int numLayers,
      long submitNanos, Queues queues) {
    this.seq = seq;
    this.listener = listener;
    this.order = order;
    this.kv = new KvHandle(numLayers);
    this.submitNanos = submitNanos;
    this.queues = queues;
  }

  String id() {
    return seq.id;
  }

  @Override
  public void await(int keyOrder, int row, int rank) {
    queues.await(this, keyOrder, row, rank);
  }

  @Override
  public void stepDone() {
    queues.stepDone(this);
  }

  /** KV offload mode: grows the host arrays to hold {@code positions} positions. */
  void ensureHostKv(int layers, int kvDim, int positions, int maxLength) {
    int cap = hostK == null ? 0 : hostK[0].length / kvDim;
    if (cap >= positions) {
      return;
    }
    int grown = Math.min(Math.max(positions, cap * 2), Math.max(positions, maxLength));
    if (hostK == null) {
      hostK = new float[layers][];
      hostV = new float[layers][];
      for (int l = 0; l < layers; l++) {
        hostK[l] = new float[0];
        hostV[l] = new float[0];
      }
    }
    for (int l = 0; l < layers; l++) {
      hostK[l] = Arrays.copyOf(hostK[l], grown * kvDim);
      hostV[l] = Arrays.copyOf(hostV[l], grown * kvDim);
    }
  }

  /** KV offload mode: the cached positions in {@code KvLayout} form (for snapshots). */
  float[] hostKvLayout(int layers, int kvDim) {
    int p = seq.position();
    float[] out = new float[2 * layers * p * kvDim];
    for (int l = 0; l < layers; l++) {
      System.arraycopy(hostK[l], 0, out, 2 * l * p * kvDim, p * kvDim);
      System.arraycopy(hostV[l], 0, out, (2 * l + 1) * p * kvDim, p * kvDim);
    }
    return out;
  }

  /** KV offload mode: fills the host arrays from {@code KvLayout} data of the cached positions. */
  void loadHostKv(float[] layout, int layers, int kvDim, int maxLength) {
    int p = seq.position();
    ensureHostKv(layers, kvDim, Math.max(p, 1), maxLength);
    for (int l = 0; l < layers; l++) {
      System.arraycopy(layout, 2 * l * p * kvDim, hostK[l], 0, p * kvDim);
      System.arraycopy(layout, (2 * l + 1) * p * kvDim, hostV[l], 0, p * kvDim);
    }
  }

  void dropHostKv() {
    hostK = null;
    hostV = null;
  }

  /** The sequence's result once it finished (or failed) at {@code nowNanos}. */
  SequenceResult result(long nowNanos) {
    long queued = firstRunNanos < 0 ? nowNanos - submitNanos : firstRunNanos - submitNanos;
    return new SequenceResult(seq.id, seq.generated(), seq.finishReason, seq.error,
        seq.promptLength, queued, nowNanos - submitNanos, preemptions);
  }

  @Override
  public String toString() {
    return seq + "@" + place;
  }
}
