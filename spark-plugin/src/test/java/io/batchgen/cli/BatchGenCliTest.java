package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BatchGenCliTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) throws Throwable {
    return BatchGenCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void helpListsEveryCommandAndExitsZero() throws Throwable {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("demo", "generate", "make-model", "logits", "bench NAME");
  }

  @Test
  void noArgumentsPrintsUsageAndFails() throws Throwable {
    assertThat(run()).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: bin/batchgen");
  }

  @Test
  void benchHelpListsTheBenchmarks() throws Throwable {
    assertThat(run("bench", "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("kernels", "runtime", "spark");
  }

  @Test
  void unknownCommandNamesItAndPointsToHelp() throws Throwable {
    assertThat(run("generat")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown command 'generat'", "bin/batchgen --help");
  }

  @Test
  void unknownBenchmarkIsRejected() throws Throwable {
    assertThat(run("bench", "nope")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command 'bench nope'");
  }
}
