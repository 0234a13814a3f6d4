package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ExecutorCoresTest {
  /** A standalone Worker's executor command, as the Worker writes it atop the executor's log. */
  private static final List<String> STANDALONE = List.of("-cp",
      "/opt/spark/conf/:/opt/spark/jars/*", "-Xmx1024M", "-Dspark.driver.port=41955",
      "-XX:+IgnoreUnrecognizedVMOptions",
      "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--driver-url",
      "spark://CoarseGrainedScheduler@localhost:41955", "--executor-id", "0", "--hostname",
      "127.0.0.1", "--cores", "3", "--app-id", "app-20261203142118-0000", "--worker-url",
      "spark://Worker@127.0.0.1:37221", "--resourceProfileId", "0");

  @Test
  void aStandaloneExecutorWithoutSparkExecutorCoresComputesOnTheCoresItsWorkerGaveIt() {
    ExecutorCores c = ExecutorCores.resolve(false, OptionalInt.empty(), STANDALONE, 16);

    assertThat(c.count()).isEqualTo(3);
    assertThat(c.source()).contains("--cores");
    assertThat(c.guessed()).isFalse();
  }

  @Test
  void sparkExecutorCoresWinsOverTheLaunchCommand() {
    ExecutorCores c = ExecutorCores.resolve(false, OptionalInt.of(2), STANDALONE, 16);

    assertThat(c.count()).isEqualTo(2);
    assertThat(c.source()).isEqualTo("spark.executor.cores");
  }

  @Test
  void neverMoreThanTheMachinesCores() {
    assertThat(ExecutorCores.resolve(false, OptionalInt.empty(), STANDALONE, 2).count())
        .isEqualTo(2);
    ExecutorCores c = ExecutorCores.resolve(false, OptionalInt.of(8), List.of(), 4);
    assertThat(c.count()).isEqualTo(4);
    assertThat(c.source()).contains("(8)").contains("capped at the machine's 4 cores");
  }

  @Test
  void theDriverJvmOfLocalModeTakesTheMachineWhateverTheConfSays() {
    ExecutorCores c = ExecutorCores.resolve(true, OptionalInt.of(1), STANDALONE, 6);

    assertThat(c.count()).isEqualTo(6);
    assertThat(c.guessed()).isFalse();
  }

  @Test
  void withNothingToGoOnAClusterExecutorTakesTheMachineAndSaysHowToFixIt() {
    ExecutorCores c = ExecutorCores.resolve(false, OptionalInt.empty(),
        List.of("-cp", "x.jar", "com.example.Main", "--cores", "2"), 6);

    assertThat(c.count()).isEqualTo(6);
    assertThat(c.guessed()).isTrue();
    assertThat(c.source()).contains("set spark.executor.cores");
  }

  @Test
  void onlyAPositiveCountAfterTheExecutorsMainClassCounts() {
    assertThat(ExecutorCores.grantedCores(List.of("--cores", "4",
        "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--executor-id", "1")))
        .isEmpty();
    assertThat(ExecutorCores.grantedCores(List.of(
        "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--cores", "0"))).isEmpty();
    assertThat(ExecutorCores.grantedCores(List.of(
        "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--cores", "many"))).isEmpty();
    assertThat(ExecutorCores.grantedCores(List.of(
        "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--cores"))).isEmpty();
    assertThat(ExecutorCores.grantedCores(List.of(
        "org.apache.spark.executor.YarnCoarseGrainedExecutorBackend", "--cores", "5")))
        .hasValue(5);
  }
}
