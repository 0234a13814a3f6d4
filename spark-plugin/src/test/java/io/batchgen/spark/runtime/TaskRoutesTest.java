package io.batchgen.spark.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.runtime.ResultListener;
import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executor's task routes: which sequences may move (a task of a job with
 * {@code rebalance=false} keeps its own here) and how many stay, counted per runtime.
 */
class TaskRoutesTest {
  @TempDir
  static Path dir;
  private static ExecutorRuntime executor;
  private static ModelRuntime first;
  private static ModelRuntime second;
  private static final ResultListener NOBODY = r -> { };

  @BeforeAll
  static void start() throws Exception {
    Path model = TinyModels.write("tiny", "mixtral", "f32", 1, dir.resolve("model"));
    executor = new ExecutorRuntime(1, 256L << 20);
    // Two settings of one model: two runtimes on this executor.
    first = executor.acquire(new EngineSpec(model.toString(), "reference", 1,
        SchedulingMode.COROUTINE, 16L << 20, 4));
    second = executor.acquire(new EngineSpec(model.toString(), "reference", 1,
        SchedulingMode.COROUTINE, 16L << 20, 8));
  }

  @AfterAll
  static void stop() {
    executor.close();
  }

  @Test
  void onlySequencesOfATaskHereWhoseJobAllowsMovesAreMovable() {
    TaskRoutes routes = new TaskRoutes();
    routes.register("w1", first, NOBODY, true);
    routes.register("w2", first, NOBODY, false);

    assertThat(routes.movable("w1/17")).isTrue();
    assertThat(routes.movable("w2/17")).as("its job has rebalance=false").isFalse();
    assertThat(routes.route("w2/17")).as("its results still come home").isSameAs(NOBODY);
    assertThat(routes.movable("w3/17")).as("no task here owns it (hosted)").isFalse();
    assertThat(routes.movable("17")).isFalse();
    routes.unregister("w1");
    assertThat(routes.movable("w1/17")).as("its task ended").isFalse();
  }

  @Test
  void pinnedCountsWhatTasksOfOptedOutJobsHoldInEachRuntime() {
    TaskRoutes routes = new TaskRoutes();
    TaskRoutes.Route moves = routes.register("w1", first, NOBODY, true);
    TaskRoutes.Route stays = routes.register("w2", first, NOBODY, false);
    TaskRoutes.Route elsewhere = routes.register("w3", second, NOBODY, false);
    for (int i = 0; i < 5; i++) {
      moves.submitted();
      stays.submitted();
    }
    stays.finished();
    stays.finished();
    elsewhere.submitted();

    assertThat(routes.pinned(first).count()).isEqualTo(3);
    assertThat(routes.pinned(second).count()).isEqualTo(1);
    routes.unregister("w2");
    assertThat(routes.pinned(first).count()).as("its task ended").isZero();
  }

  @Test
  void aCountTakenAroundAMetricsReadNeverFallsBelowWhatTheRuntimeHeldMeanwhile() {
    TaskRoutes routes = new TaskRoutes();
    TaskRoutes.Route stays = routes.register("w1", first, NOBODY, false);
    stays.submitted();
    stays.submitted();

    TaskRoutes.PinnedCount count = routes.pinned(first);
    // While the metrics are read: one result is taken, one more row submitted, and a second
    // opted-out task starts and submits. Each may or may not be in the metrics: all count.
    stays.finished();
    stays.submitted();
    routes.register("w2", first, NOBODY, false).submitted();

    assertThat(count.count()).isEqualTo(4);
  }
}
