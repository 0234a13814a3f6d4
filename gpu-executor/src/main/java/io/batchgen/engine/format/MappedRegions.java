package io.batchgen.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Memory-maps byte ranges of one file with few mappings: consecutive ranges share a window of at
 * most {@link #WINDOW_BYTES}, so a model of thousands of tensors needs tens of mappings, and a file
 * larger than 2 GiB is covered by several. Nothing is copied onto the heap.
 */
public final class MappedRegions {
  /** Largest window mapped at once; a single range may not exceed it either. */
  public static final long WINDOW_BYTES = 1L << 30;

  private MappedRegions() {
  }

  /** A byte range {@code [start, end)} of the file, absolute. */
  public record Range(long start, long end) {
  }

  /**
   * Maps every range and returns little-endian read-only buffers in the order of {@code ranges}.
   *
   * @throws ModelFormatException when a range exceeds the window size or the file
   */
  public static List<ByteBuffer> map(Path file, FileChannel channel, List<Range> ranges) {
    ByteBuffer[] out = new ByteBuffer[ranges.size()];
    Integer[] order = new Integer[ranges.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, Comparator.comparingLong(i -> ranges.get(i).start()));
    try {
      long fileSize = channel.size();
      int i = 0;
      while (i < order.length) {
        Range first = ranges.get(order[i]);
        long winStart = first.start();
        long winEnd = first.end();
        int j = i + 1;
        while (j < order.length && Math.max(winEnd, ranges.get(order[j]).end()) - winStart
            <= WINDOW_BYTES) {
          winEnd = Math.max(winEnd, ranges.get(order[j]).end());
          j++;
        }
        if (winEnd - winStart > WINDOW_BYTES) {
          throw ModelFormatException.of(file, "a tensor of " + (winEnd - winStart)
              + " bytes is larger than the " + WINDOW_BYTES + "-byte limit for one tensor");
        }
        if (winEnd > fileSize) {
          throw ModelFormatException.of(file, "tensor data [" + winStart + ", " + winEnd
              + ") runs past the end of the file (" + fileSize + " bytes)");
        }
        MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, winStart,
            winEnd - winStart);
        for (int k = i; k < j; k++) {
          Range r = ranges.get(order[k]);
          out[order[k]] = window.slice((int) (r.start() - winStart), (int) (r.end() - r.start()))
              .order(ByteOrder.LITTLE_ENDIAN);
        }
        i = j;
      }
    } catch (IOException e) {
      throw ModelFormatException.of(file, "cannot memory-map tensor data: " + e.getMessage(), e);
    }
    List<ByteBuffer> list = new ArrayList<>(out.length);
    for (ByteBuffer b : out) {
      list.add(b);
    }
    return list;
  }
}
