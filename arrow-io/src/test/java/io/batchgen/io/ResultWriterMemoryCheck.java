package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Writes N results through both streaming writers in one JVM: a Parquet file and an Arrow IPC
 * stream (to a byte-counting sink). Run by {@link ResultWriterMemoryTest} in a forked JVM with a
 * small {@code -Xmx}: finishing at all proves the writers do not hold the partition. Prints one
 * line of figures. Usage: {@code ResultWriterMemoryCheck ROWS OUTPUT_FILE}.
 */
public final class ResultWriterMemoryCheck {

  /** Completion text per row, about 200 characters; each row also gets its index prepended. */
  private static final String TEXT = Fixtures.longText(200);
  private static final int TOKENS = 8;

  public static void main(String[] args) {
    long rows = Long.parseLong(args[0]);
    Path file = new Path(args[1]);
    long start = System.nanoTime();
    long parquetBytes;
    try (ParquetResultWriter w = ParquetResultWriter.open(file, new Configuration(),
        new ResultSchema(IdType.LONG, true))) {
      for (long i = 0; i < rows; i++) {
        w.write(result(i));
        sampleLiveHeap(i);
      }
      parquetBytes = w.bytesWritten();
    }
    double parquetSeconds = (System.nanoTime() - start) / 1e9;

    start = System.nanoTime();
    CountingSink sink = new CountingSink();
    long arrowPeak;
    // The allocator limit makes an unbounded Arrow buffer fail loudly instead of growing.
    try (BufferAllocator allocator = new RootAllocator(32L << 20)) {
      try (ArrowResultBatcher w = ArrowResultBatcher.toIpcStream(
          new ResultSchema(IdType.LONG, true), allocator, 4096, 4L << 20, sink)) {
        for (long i = 0; i < rows; i++) {
          w.write(result(i));
          sampleLiveHeap(i);
        }
      }
      arrowPeak = allocator.getPeakMemoryAllocation();
    }
    double arrowSeconds = (System.nanoTime() - start) / 1e9;

    System.out.printf("rows=%d maxHeapBytes=%d maxLiveHeapBytes=%d parquetFileBytes=%d"
            + " parquetSeconds=%.1f arrowIpcBytes=%d arrowPeakDirectBytes=%d arrowSeconds=%.1f%n",
        rows, Runtime.getRuntime().maxMemory(), maxLiveHeap, parquetBytes, parquetSeconds,
        sink.bytes, arrowPeak, arrowSeconds);
  }

  private static long maxLiveHeap;

  /**
   * Every 100,000 rows: a full GC, then the heap in use, which is the writer's live set (plus
   * the JVM's own classes and Hadoop's configuration). The maximum over the run is reported.
   */
  private static void sampleLiveHeap(long i) {
    if (i % 100_000 == 99_999) {
      System.gc();
      maxLiveHeap = Math.max(maxLiveHeap,
          ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
  }

  private static GenerationResult result(long i) {
    int[] tokens = new int[TOKENS];
    for (int k = 0; k < TOKENS; k++) {
      tokens[k] = (int) (i * 31 + k);
    }
    return GenerationResult.completed(Long.toString(i), i + " " + TEXT, tokens, 100,
        i % 7 == 0 ? FinishReason.LENGTH : FinishReason.STOP, i, Fixtures.PROVENANCE);
  }

  private static final class CountingSink extends OutputStream {
    long bytes;

    @Override
    public void write(int b) {
      bytes++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      bytes += len;
    }
  }
}
