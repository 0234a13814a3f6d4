package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKey;
import java.util.List;

/**
 * An immutable picture of one planned module batch (see {@link BatchPlan}): the module and, in
 * batch order, what each entry contributes.
 *
 * @param module  the module that runs
 * @param entries attention: one per sequence; experts, shared expert, LM head: one per row
 */
public record PlannedBatch(ModuleKey module, List<Entry> entries) {

  public PlannedBatch {
    entries = List.copyOf(entries);
  }

  /**
   * One entry of a planned batch.
   *
   * @param sequenceId the request id
   * @param position   the first token position the entry covers
   * @param rows       token rows it contributes (attention: the step's rows; otherwise 1)
   * @param rank       router rank for expert rows, else 0
   * @param kvBlocks   attention: the blocks of this layer the sequence attends over (its block
   *                   table, or in offload mode the device blocks planned for this batch); empty
   *                   for other modules
   */
  public record Entry(String sequenceId, int position, int rows, int rank,
      List<Integer> kvBlocks) {

    public Entry {
      kvBlocks = List.copyOf(kvBlocks);
    }
  }

  /** Rows of the batch: what the module computes over. */
  public int totalRows() {
    return entries.stream().mapToInt(Entry::rows).sum();
  }
}
