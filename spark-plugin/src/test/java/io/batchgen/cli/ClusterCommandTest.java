package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line of {@code bin/batchgen cluster}; StandaloneClusterIT runs real clusters. */
class ClusterCommandTest {
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

  private String output() {
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void withoutAnActionItPrintsTheUsage() throws Exception {
    assertThat(ClusterCommand.run(new String[0], out, out)).isEqualTo(2);
    assertThat(output()).contains("bin/batchgen cluster start", "cluster submit");
  }

  @Test
  void unknownActionsAndOptionsAreUsageErrors(@TempDir Path dir) throws Exception {
    assertThat(ClusterCommand.run(new String[] {"restart"}, out, out)).isEqualTo(2);
    assertThat(output()).contains("unknown action 'restart'");
    assertThat(ClusterCommand.run(new String[] {"stop", "--workers", "2"}, out, out))
        .isEqualTo(2);
    assertThat(output()).contains("Unknown option --workers");
  }

  @Test
  void statusStopAndSubmitSayWhenNoClusterRuns(@TempDir Path dir) throws Exception {
    String work = dir.toString();
    assertThat(ClusterCommand.run(new String[] {"status", "--work", work}, out, out))
        .isEqualTo(3);
    assertThat(ClusterCommand.run(new String[] {"stop", "--work", work}, out, out)).isZero();
    assertThat(ClusterCommand.run(new String[] {"submit", "--work", work, "--class", "X",
        "app.jar"}, out, out)).isEqualTo(2);
    assertThat(output()).contains("none recorded in " + dir, "nothing to stop",
        "no cluster runs from " + dir);
    assertThat(Files.list(dir)).isEmpty();
  }
}
