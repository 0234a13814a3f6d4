package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKey;
import io.batchgen.core.model.ModuleKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The next module batch, as data: which module runs, with which rows of which sequences, and (for
 * attention) which KV blocks each sequence reads and writes. {@link BatchPlanner} fills it;
 * {@link Dispatcher} executes it. One instance is reused for every batch (no allocation per
 * batch on the hot path); {@link #describe()} copies it into an immutable {@link PlannedBatch}
 * for tests, observers and diagnostics.
 *
 * <p>Entries: for attention one per sequence (its whole step, {@code stepRows} rows); for experts,
 * the shared expert and the LM head one per row, with the router rank for experts.
 *
 * <p>Not thread-safe: scheduler thread only.
 */
final class BatchPlan {
  ModuleKey key;
  int size;
  SequenceSlot[] slots = new SequenceSlot[64];
  /** Row of the sequence's step (0 for attention entries, which take the whole step). */
  int[] rows = new int[64];
  int[] ranks = new int[64];
  /** Expert entries: the routed expert each row runs (entries of one expert lie together). */
  int[] experts = new int[64];
  /**
   * Whether the plan holds rows of several experts of {@code key}'s layer (the executor groups
   * experts); {@code key} is then the expert the planner chose first.
   */
  boolean grouped;
  /** Attention only: the block table each entry attends over (layer blocks of its KV). */
  int[][] pages = new int[64][];
  /** Rows of the batch (attention: the sum of the entries' step rows). */
  int totalRows;
  /** Attention only: context tokens of the batch (positions attended over, new rows included). */
  long contextTokens;
  /** Summed wait of the entries since they were queued. */
  long waitedNanos;

  void reset(ModuleKey key) {
    this.key = key;
    for (int i = 0; i < size; i++) {
      slots[i] = null;
      pages[i] = null;
    }
    size = 0;
    grouped = false;
    totalRows = 0;
    contextTokens = 0;
    waitedNanos = 0;
  }

  void add(SequenceSlot slot, int row, int rank, int[] blocks) {
    if (size == slots.length) {
      int cap = size * 2;
      slots = Arrays.copyOf(slots, cap);
      rows = Arrays.copyOf(rows, cap);
      ranks = Arrays.copyOf(ranks, cap);
      experts = Arrays.copyOf(experts, cap);
      pages = Arrays.copyOf(pages, cap);
    }
    slots[size] = slot;
    rows[size] = row;
    ranks[size] = rank;
    experts[size] = key.kind() == ModuleKind.EXPERT ? key.expert() : -1;
    pages[size] = blocks;
    size++;
  }

  /** An immutable copy of the plan. */
  PlannedBatch describe() {
    List<PlannedBatch.Entry> entries = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      SequenceCoroutine s = slots[i].seq;
      boolean attention = key.kind() == ModuleKind.ATTENTION;
      entries.add(new PlannedBatch.Entry(s.id,
          attention ? s.position() : s.stepStart() + rows[i],
          attention ? s.stepRows() : 1, ranks[i],
          pages[i] == null ? List.of() : Arrays.stream(pages[i]).boxed().toList()));
    }
    return new PlannedBatch(key, entries);
  }
}
