package io.batchgen.spark.sql;

import io.batchgen.io.RowGroupCost;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Plans read partitions by estimated cost, not row count: row groups are cut into slices, each
 * costed as prompt tokens (from the footer's uncompressed prompt bytes, ~4 bytes a token) plus
 * expected output tokens, and the slices are dealt largest first to the currently cheapest
 * partition (longest-processing-time first, within 4/3 of optimal).
 */
final class CostPlanner {
  /** Slices per partition to aim for, so LPT has enough pieces to balance. */
  private static final int SLICES_PER_PARTITION = 8;
  static final double BYTES_PER_TOKEN = 4.0;

  private CostPlanner() {
  }

  static List<PromptPartition> plan(List<RowGroupCost> groups, int partitions,
      int expectedOutputTokens) {
    long totalRows = groups.stream().mapToLong(RowGroupCost::rowCount).sum();
    long sliceRows = Math.max(1, totalRows / ((long) partitions * SLICES_PER_PARTITION));
    List<PromptSlice> slices = new ArrayList<>();
    // Row groups are numbered per file; slices address rows within their file.
    String file = null;
    long fileRow = 0;
    for (RowGroupCost g : groups) {
      if (!g.file().equals(file)) {
        file = g.file();
        fileRow = 0;
      }
      double perRow = g.rowCount() == 0 ? 0
          : g.promptBytes() / (double) g.rowCount() / BYTES_PER_TOKEN + expectedOutputTokens;
      for (long r = 0; r < g.rowCount(); r += sliceRows) {
        long end = Math.min(g.rowCount(), r + sliceRows);
        slices.add(new PromptSlice(file, fileRow + r, fileRow + end, perRow * (end - r)));
      }
      fileRow += g.rowCount();
    }
    return deal(slices, partitions);
  }

  /**
   * Plans the lines of OpenAI batch files: each file's lines (from {@code lineOffsets}: where
   * each line starts, the file's length last) cut into slices, each costed as its bytes over
   * {@link #BYTES_PER_TOKEN} plus expected output per line, then dealt as for Parquet.
   */
  static List<PromptPartition> planLines(java.util.Map<String, long[]> lineOffsets,
      int partitions, int expectedOutputTokens) {
    long totalLines = 0;
    for (long[] offsets : lineOffsets.values()) {
      totalLines += offsets.length - 1;
    }
    long sliceLines = Math.max(1, totalLines / ((long) partitions * SLICES_PER_PARTITION));
    List<PromptSlice> slices = new ArrayList<>();
    for (java.util.Map.Entry<String, long[]> f : lineOffsets.entrySet()) {
      long[] o = f.getValue();
      for (int start = 0; start < o.length - 1; start += (int) sliceLines) {
        int end = (int) Math.min(o.length - 1, start + sliceLines);
        double cost = (o[end] - o[start]) / BYTES_PER_TOKEN
            + (double) expectedOutputTokens * (end - start);
        slices.add(new PromptSlice(f.getKey(), start, end, cost, o[start]));
      }
    }
    return deal(slices, partitions);
  }

  /** Longest-processing-time first: each slice, largest first, to the cheapest partition. */
  private static List<PromptPartition> deal(List<PromptSlice> slices, int partitions) {
    slices.sort(Comparator.comparingDouble(PromptSlice::cost).reversed());
    int n = (int) Math.max(1, Math.min(partitions, slices.size()));
    List<List<PromptSlice>> assigned = new ArrayList<>();
    double[] cost = new double[n];
    PriorityQueue<Integer> cheapest = new PriorityQueue<>(
        Comparator.<Integer>comparingDouble(i -> cost[i]).thenComparingInt(i -> i));
    for (int i = 0; i < n; i++) {
      assigned.add(new ArrayList<>());
      cheapest.add(i);
    }
    for (PromptSlice s : slices) {
      int p = cheapest.poll();
      assigned.get(p).add(s);
      cost[p] += s.cost();
      cheapest.add(p);
    }
    List<PromptPartition> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<PromptSlice> mine = assigned.get(i);
      mine.sort(Comparator.comparing(PromptSlice::file).thenComparingLong(PromptSlice::rowStart));
      out.add(new PromptPartition(i, mine, cost[i]));
    }
    return out;
  }
}
