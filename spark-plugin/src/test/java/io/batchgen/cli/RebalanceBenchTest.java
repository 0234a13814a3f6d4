package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RebalanceBenchTest {

  private static String[] run(String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = RebalanceBench.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void theScalePartAloneEndsWithTheSummaryLine() throws Exception {
    String[] r = run("--executors", "2,3", "--rowsPerExecutor", "12", "--costs", "gpu-like",
        "--real", "off", "--threads", "1");
    assertThat(r[0]).isEqualTo("0");
    String[] lines = r[1].strip().split("\n");
    assertThat(lines[lines.length - 1]).matches("bench rebalance: ratio=\\d+\\.\\d{3}"
        + " hash_ratio=\\d+\\.\\d{3} of_bound=\\d+\\.\\d{3} real_ratio=n/a migrations=n/a"
        + " lost=0 duplicated=0 .* costs=gpu-like executors=3 hashreb_ratio=\\d+\\.\\d{3}"
        + " hashreb_gain=\\d+\\.\\d{3} hashreb_of_bound=\\d+\\.\\d{3} .* admission=longest");
    assertThat(r[1]).contains("completion time (virtual seconds)", "gpu-like         3",
        "hash+reb");
  }

  @Test
  void aBadOptionIsNamedWithTheUsage() throws Exception {
    String[] r = run("--costs", "tpu-like");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--costs takes gpu-like and/or cpu-measured, got [tpu-like]",
        "Usage: bin/batchgen bench rebalance");
    assertThat(run("--real", "maybe")[2]).contains("real");
  }
}
