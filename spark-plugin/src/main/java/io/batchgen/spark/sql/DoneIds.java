package io.batchgen.spark.sql;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;

/**
 * The ids a resumed job must not generate again, held as sorted 128-bit fingerprints (MD5 of the
 * id's UTF-8 text): 16 bytes per finished row whatever the id's length, shipped once to each
 * executor as a broadcast. Two different ids share a fingerprint with probability about
 * n²/2¹²⁹ (below 10⁻²¹ for a billion rows), so for any real table the set is exact.
 *
 * <p>Immutable and thread-safe after construction.
 */
final class DoneIds implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no MD5", e);
    }
  });

  /** Fingerprints, sorted: {@code (high, low)} pairs, so 2n longs for n ids. */
  private final long[] sorted;

  private DoneIds(long[] sorted) {
    this.sorted = sorted;
  }

  /** The set of {@code ids}; repeated ids count once. */
  static DoneIds of(Iterator<String> ids) {
    long[] pairs = new long[1024];
    int n = 0;
    while (ids.hasNext()) {
      String id = ids.next();
      if (id == null) {
        continue;
      }
      if (2 * n + 2 > pairs.length) {
        pairs = Arrays.copyOf(pairs, pairs.length * 2);
      }
      long[] f = fingerprint(id);
      pairs[2 * n] = f[0];
      pairs[2 * n + 1] = f[1];
      n++;
    }
    return new DoneIds(sortUnique(pairs, n));
  }

  /** How many distinct ids. */
  int size() {
    return sorted.length / 2;
  }

  boolean contains(String id) {
    if (id == null || sorted.length == 0) {
      return false;
    }
    long[] f = fingerprint(id);
    int lo = 0;
    int hi = size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = compare(sorted[2 * mid], sorted[2 * mid + 1], f[0], f[1]);
      if (c == 0) {
        return true;
      }
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return false;
  }

  private static long[] fingerprint(String id) {
    MessageDigest md = MD5.get();
    ByteBuffer d = ByteBuffer.wrap(md.digest(id.getBytes(StandardCharsets.UTF_8)));
    return new long[] {d.getLong(), d.getLong()};
  }

  private static int compare(long h1, long l1, long h2, long l2) {
    int c = Long.compare(h1, h2);
    return c != 0 ? c : Long.compare(l1, l2);
  }

  /** Sorts n pairs (an index sort keeps the pairs together) and drops repeats. */
  private static long[] sortUnique(long[] pairs, int n) {
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> compare(pairs[2 * a], pairs[2 * a + 1], pairs[2 * b],
        pairs[2 * b + 1]));
    long[] out = new long[2 * n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      long h = pairs[2 * order[i]];
      long l = pairs[2 * order[i] + 1];
      if (m > 0 && out[2 * m - 2] == h && out[2 * m - 1] == l) {
        continue;
      }
      out[2 * m] = h;
      out[2 * m + 1] = l;
      m++;
    }
    return Arrays.copyOf(out, 2 * m);
  }
}
