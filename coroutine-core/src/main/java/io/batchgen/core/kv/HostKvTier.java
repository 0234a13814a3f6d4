package io.batchgen.core.kv;

/**
 * Byte accounting for the host tier that parked sequences' KV moves to. The data itself is held
 * by the parked sequence (in {@link KvLayout} form); this only enforces the budget, so parking
 * fails over to recompute instead of growing the heap without bound.
 *
 * <p>Not thread-safe: used by the scheduler thread only.
 */
public final class HostKvTier {
  private final long budgetBytes;
  private long usedBytes;
  private long peakBytes;

  public HostKvTier(long budgetBytes) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("Host KV budget must be >= 0 bytes, got " + budgetBytes);
    }
    this.budgetBytes = budgetBytes;
  }

  /** Reserves {@code bytes}; false (and nothing reserved) when they do not fit. */
  public boolean tryReserve(long bytes) {
    if (usedBytes + bytes > budgetBytes) {
      return false;
    }
    usedBytes += bytes;
    peakBytes = Math.max(peakBytes, usedBytes);
    return true;
  }

  public void release(long bytes) {
    usedBytes -= bytes;
    if (usedBytes < 0) {
      throw new IllegalStateException("Host KV tier released more than it reserved ("
          + usedBytes + " bytes)");
    }
  }

  public long usedBytes() {
    return usedBytes;
  }

  public long peakBytes() {
    return peakBytes;
  }

  public long budgetBytes() {
    return budgetBytes;
  }
}
