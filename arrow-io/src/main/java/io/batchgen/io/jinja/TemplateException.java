package io.batchgen.io.jinja;

/**
 * A template could not be parsed or failed while rendering. {@link #line()} is the 1-based line
 * of the template source where it happened (0 when unknown). The message never contains values
 * of the render (prompt text): only template names, types and the template's own words.
 */
public class TemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int line;

  public TemplateException(String message, int line) {
    super(message, null, false, false);
    this.line = line;
  }

  /** The template source line, 1-based; 0 when unknown. */
  public int line() {
    return line;
  }

  /** The message without the line suffix. */
  public String reason() {
    return super.getMessage();
  }

  @Override
  public String getMessage() {
    return line > 0 ? super.getMessage() + " (template line " + line + ")" : super.getMessage();
  }

  /**
   * The template itself stopped the render with {@code raise_exception(message)}: the input is
   * one the template refuses (e.g. roles that do not alternate). The message is the template's.
   */
  public static final class Raised extends TemplateException {
    private static final long serialVersionUID = 1L;

    public Raised(String message, int line) {
      super(message, line);
    }
  }

  /** A sandbox limit was hit (output size, loop iterations, recursion depth). */
  public static final class LimitExceeded extends TemplateException {
    private static final long serialVersionUID = 1L;

    public LimitExceeded(String message, int line) {
      super(message, line);
    }
  }
}
