package io.batchgen.core.runtime;

/**
 * Receives a sequence's result when it finishes.
 *
 * <p>Called on the runtime's scheduler thread, exactly once per submitted sequence (unless the
 * sequence is detached by a migration snapshot). It must return quickly and never block: hand the
 * result to a queue (see {@link ResultQueue}) or another thread. A throw is logged and ignored.
 */
@FunctionalInterface
public interface ResultListener {
  void onResult(SequenceResult result);
}
