package io.batchgen.io;

/**
 * A row that could not become a {@link PromptRequest}, kept under
 * {@link BadRowPolicy#ERROR_RECORD}.
 *
 * @param source    the file or stream the row came from (a path, or a caller-chosen name)
 * @param rowNumber 0-based row index within {@code source}; for a JSON Lines input, the 0-based
 *                  line index
 * @param id        the row's id when it could be read, else null
 * @param column    the column at fault (for JSON Lines, the field, e.g. {@code body.messages})
 * @param message   what is wrong and how to fix it
 * @param line      whether {@code source} is JSON Lines, one request a line (messages then name
 *                  the 1-based line, as editors number them)
 */
public record RowError(String source, long rowNumber, String id, String column, String message,
    boolean line) {

  /** A row of a table. */
  public RowError(String source, long rowNumber, String id, String column, String message) {
    this(source, rowNumber, id, column, message, false);
  }

  /** The full sentence, the same as the {@link BadInputException} message under {@code FAIL}. */
  public String describe() {
    if (line) {
      return "Bad request in [" + source + "] at line " + (rowNumber + 1)
          + (id == null ? "" : " (custom_id " + id + ")") + ", field '" + column + "': " + message;
    }
    return "Bad prompt row in [" + source + "] at row " + rowNumber
        + (id == null ? "" : " (id " + id + ")") + ", column '" + column + "': " + message;
  }
}
