package io.batchgen.core.runtime;

/**
 * The rows waiting for one module, oldest first, in parallel primitive arrays (no object per
 * row). An entry is stale when its sequence's epoch moved on (the step was abandoned); stale
 * entries are skipped when popped.
 *
 * <p>Not thread-safe: scheduler thread only.
 */
final class WaitQueue {
  final int order;
  private SequenceSlot[] seqs = new SequenceSlot[16];
  private int[] epochs = new int[16];
  private int[] rows = new int[16];
  private int[] ranks = new int[16];
  private long[] ticks = new long[16];
  private long[] nanos = new long[16];
  private int head;
  private int tail;

  WaitQueue(int order) {
    this.order = order;
  }

  void add(SequenceSlot seq, int row, int rank, long tick, long nowNanos) {
    if (tail == seqs.length) {
      grow();
    }
    seqs[tail] = seq;
    epochs[tail] = seq.seq.epoch;
    rows[tail] = row;
    ranks[tail] = rank;
    ticks[tail] = tick;
    nanos[tail] = nowNanos;
    tail++;
  }

  private void grow() {
    int live = tail - head;
    int cap = live * 2 > seqs.length ? seqs.length * 2 : seqs.length;
    SequenceSlot[] s = new SequenceSlot[cap];
    System.arraycopy(seqs, head, s, 0, live);
    seqs = s;
    epochs = copy(epochs, cap);
    rows = copy(rows, cap);
    ranks = copy(ranks, cap);
    ticks = copy(ticks, cap);
    nanos = copy(nanos, cap);
    head = 0;
    tail = live;
  }

  private int[] copy(int[] a, int cap) {
    int[] b = new int[cap];
    System.arraycopy(a, head, b, 0, tail - head);
    return b;
  }

  private long[] copy(long[] a, int cap) {
    long[] b = new long[cap];
    System.arraycopy(a, head, b, 0, tail - head);
    return b;
  }

  int size() {
    return tail - head;
  }

  boolean isEmpty() {
    return tail == head;
  }

  /** Drops stale entries at the front; true when a live entry remains. */
  boolean skipStale() {
    while (head < tail && seqs[head].seq.epoch != epochs[head]) {
      seqs[head] = null;
      head++;
    }
    if (head == tail) {
      head = 0;
      tail = 0;
      return false;
    }
    return true;
  }

  SequenceSlot headSeq() {
    return seqs[head];
  }

  int headRow() {
    return rows[head];
  }

  int headRank() {
    return ranks[head];
  }

  long headTick() {
    return ticks[head];
  }

  long headNanos() {
    return nanos[head];
  }

  void pop() {
    seqs[head] = null;
    head++;
    if (head == tail) {
      head = 0;
      tail = 0;
    }
  }
}
