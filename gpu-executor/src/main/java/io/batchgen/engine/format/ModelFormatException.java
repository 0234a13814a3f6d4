package io.batchgen.engine.format;

import java.nio.file.Path;

/**
 * A checkpoint file or directory is missing, malformed or inconsistent with its config. The
 * message always names the file and the problem; loading never goes on with a half-read model.
 */
public class ModelFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }

  /** {@code "<file>: <problem>"}. */
  public static ModelFormatException of(Path file, String problem) {
    return new ModelFormatException(file + ": " + problem);
  }

  public static ModelFormatException of(Path file, String problem, Throwable cause) {
    return new ModelFormatException(file + ": " + problem, cause);
  }
}
