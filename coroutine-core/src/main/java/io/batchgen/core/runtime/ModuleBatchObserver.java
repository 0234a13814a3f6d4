package io.batchgen.core.runtime;

import io.batchgen.core.model.ModuleKey;
import java.util.List;

/**
 * Sees every module batch just before it runs: which rows of which sequences it holds. For
 * tests, tracing and debugging; when none is set the scheduler builds no row lists.
 *
 * <p>Called on the scheduler thread; must not block or throw.
 */
@FunctionalInterface
public interface ModuleBatchObserver {

  /**
   * One row of a module batch.
   *
   * @param sequenceId the request id
   * @param position   the token position of the row
   * @param rank       router rank for expert rows, else 0
   */
  record Row(String sequenceId, int position, int rank) {
  }

  /** {@code rows} in batch row order (for attention: segment by segment). */
  void onBatch(ModuleKey key, List<Row> rows);
}
