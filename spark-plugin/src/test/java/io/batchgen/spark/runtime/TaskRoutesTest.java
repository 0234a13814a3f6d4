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
    elsewhere.submitted();
    assertThat(routes.pinned(first)).as("w2's 5; w1 may move, w3 runs elsewhere").isEqualTo(5);
    assertThat(routes.pinned(second)).isEqualTo(1);

    stays.finished();
    stays.finished();
    routes.unregister("w3");
    assertThat(routes.pinned(second)).as("its task ended").isZero();
    assertThat(routes.pinned(first)).as("results taken since the last report still count: the"
        + " runtime's gauges may not show them finished yet").isEqualTo(5);
    assertThat(routes.pinned(first)).as("one report later they are off").isEqualTo(3);
    stays.submitted();
    assertThat(routes.pinned(first)).as("a row submitted after the metrics read").isEqualTo(4);
  }
}
