package io.batchgen.spark.sql;

import io.batchgen.io.PromptBatch;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.RowError;

/**
 * Finds repeated ids in a row stream ordered by id (the sink asks Spark to sort each write task's
 * rows by id), holding one id's rows at a time: memory does not grow with the input. An id that
 * appears once passes through; an id that appears several times becomes one row error saying how
 * many copies there are, so the output keeps one row per id and the input's ambiguity is
 * explained rather than resolved by chance.
 *
 * <p>Rows whose id is null pass straight through (they already carry their error).
 * Not thread-safe: one per task.
 */
final class DuplicateIdGuard implements PromptBatch.RowVisitor {
  private final String source;
  private final String idColumn;
  private final PromptBatch.RowVisitor downstream;
  private final boolean lines;
  private String id;
  private long firstRow;
  private PromptRequest firstRequest;
  private RowError firstError;
  private int copies;

  /** @param lines whether row numbers are request lines ({@link RowError#line()}) */
  DuplicateIdGuard(String source, String idColumn, boolean lines,
      PromptBatch.RowVisitor downstream) {
    this.source = source;
    this.idColumn = idColumn;
    this.lines = lines;
    this.downstream = downstream;
  }

  @Override
  public void request(long rowNumber, PromptRequest request) {
    offer(request.id(), rowNumber, request, null);
  }

  @Override
  public void error(RowError error) {
    if (error.id() == null) {
      flush();
      downstream.error(error);
    } else {
      offer(error.id(), error.rowNumber(), null, error);
    }
  }

  private void offer(String rowId, long rowNumber, PromptRequest request, RowError error) {
    if (rowId.equals(id)) {
      copies++;
      return;
    }
    flush();
    id = rowId;
    firstRow = rowNumber;
    firstRequest = request;
    firstError = error;
    copies = 1;
  }

  /** The explanation every entry point gives for an id found {@code copies} times. */
  static String duplicateMessage(String id, long copies) {
    return "the id [" + id + "] appears " + copies + " times in the input, so its result would"
        + " be ambiguous. Ids must be unique because results are matched to prompts by id:"
        + " de-duplicate the input (e.g. dropDuplicates on the id column).";
  }

  /** Hands on the id held; call once after the last row. */
  void flush() {
    if (id == null) {
      return;
    }
    if (copies == 1) {
      if (firstRequest != null) {
        downstream.request(firstRow, firstRequest);
      } else {
        downstream.error(firstError);
      }
    } else {
      downstream.error(new RowError(source, firstRow, id, lines ? "custom_id" : idColumn,
          duplicateMessage(id, copies), lines));
    }
    id = null;
    firstRequest = null;
    firstError = null;
    copies = 0;
  }
}
