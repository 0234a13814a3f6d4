package io.batchgen.io;

/**
 * Input that cannot be read as prompts: a missing or mistyped column (always thrown), or a bad row
 * under {@link BadRowPolicy#FAIL}. The message names the source, the column, the row when there is
 * one, and the fix.
 */
public class BadInputException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String column;
  private final long rowNumber;

  BadInputException(String message, String column, long rowNumber) {
    super(message);
    this.column = column;
    this.rowNumber = rowNumber;
  }

  public static BadInputException schema(String source, String column, String message) {
    return new BadInputException(
        "Bad prompt input in [" + source + "], column '" + column + "': " + message, column, -1);
  }

  static BadInputException row(RowError error) {
    return new BadInputException(error.describe() + " To keep going and get an error result for"
        + " such rows instead, read with BadRowPolicy.ERROR_RECORD.", error.column(),
        error.rowNumber());
  }

  /** The column at fault. */
  public String column() {
    return column;
  }

  /** The 0-based row at fault, or -1 for a schema problem. */
  public long rowNumber() {
    return rowNumber;
  }
}
