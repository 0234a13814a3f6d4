package io.batchgen.core.runtime;

/**
 * The sequence runtime stopped: a module call threw (the backend is in an unknown state), an
 * {@link Error} reached the scheduler thread, or the runtime was closed while the caller still
 * waited for results. Every caller waiting on the runtime gets it; none waits forever. The
 * runtime cannot be used again: its owner closes it and starts a new one.
 */
public final class RuntimeFailedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public RuntimeFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
