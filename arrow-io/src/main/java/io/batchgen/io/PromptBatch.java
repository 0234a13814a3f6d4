package io.batchgen.io;

import java.util.List;

/**
 * The prompts read from one record batch (or row group, or chunk of lines), in input order, with
 * the rows that failed validation beside them. {@code errors} is empty under
 * {@link BadRowPolicy#FAIL}, because a bad row throws there.
 *
 * @param requests    the rows that became requests, in input order
 * @param errors      the rows that did not, in input order
 * @param requestRows the row number (as in {@link RowError#rowNumber()}) of each request, so
 *                    that {@link #forEachRow} can replay the batch in input order
 */
public record PromptBatch(List<PromptRequest> requests, List<RowError> errors,
    long[] requestRows) {

  /** What {@link #forEachRow} hands over, one call per row of the batch, in input order. */
  public interface RowVisitor {
    void request(long rowNumber, PromptRequest request);

    void error(RowError error);
  }

  public PromptBatch {
    requests = List.copyOf(requests);
    errors = List.copyOf(errors);
    if (requestRows.length != requests.size()) {
      throw new IllegalArgumentException("requestRows has " + requestRows.length
          + " entries for " + requests.size() + " requests");
    }
    requestRows = requestRows.clone();
  }

  /** A batch whose requests carry no row numbers (they count as rows 0, 1, ... ). */
  public PromptBatch(List<PromptRequest> requests, List<RowError> errors) {
    this(requests, errors, sequence(requests.size()));
  }

  private static long[] sequence(int n) {
    long[] rows = new long[n];
    for (int i = 0; i < n; i++) {
      rows[i] = i;
    }
    return rows;
  }

  /** Rows seen: good plus bad. */
  public int rowCount() {
    return requests.size() + errors.size();
  }

  @Override
  public long[] requestRows() {
    return requestRows.clone();
  }

  /** Replays the batch in input order: requests and errors merged by row number. */
  public void forEachRow(RowVisitor visitor) {
    int r = 0;
    int e = 0;
    while (r < requests.size() || e < errors.size()) {
      boolean takeRequest = e >= errors.size()
          || (r < requests.size() && requestRows[r] < errors.get(e).rowNumber());
      if (takeRequest) {
        visitor.request(requestRows[r], requests.get(r));
        r++;
      } else {
        visitor.error(errors.get(e++));
      }
    }
  }
}
