package io.batchgen.io;

/**
 * A row that could not become a {@link PromptRequest}, kept under
 * {@link BadRowPolicy#ERROR_RECORD}.
 *
 * @param source    the file or stream the row came from (a path, or a caller-chosen name)
 * @param rowNumber 0-based row index within {@code source}
 * @param id        the row's id when it could be read, else null
 * @param column    the column at fault
 * @param message   what is wrong and how to fix it
 */
public record RowError(String source, long rowNumber, String id, String column, String message) {

  /** The full sentence, the same as the {@link BadInputException} message under {@code FAIL}. */
  public String describe() {
    return "Bad prompt row in [" + source + "] at row " + rowNumber
        + (id == null ? "" : " (id " + id + ")") + ", column '" + column + "': " + message;
  }
}
