package io.batchgen.io;

import java.util.List;

/**
 * The prompts read from one record batch (or row group, or chunk of lines), in input order, with
 * the rows that failed validation beside them. {@code errors} is empty under
 * {@link BadRowPolicy#FAIL}, because a bad row throws there.
 */
public record PromptBatch(List<PromptRequest> requests, List<RowError> errors) {

  public PromptBatch {
    requests = List.copyOf(requests);
    errors = List.copyOf(errors);
  }

  /** Rows seen: good plus bad. */
  public int rowCount() {
    return requests.size() + errors.size();
  }
}
