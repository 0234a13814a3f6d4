package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.io.IdType;
import io.batchgen.io.ParquetPromptWriter;
import io.batchgen.io.PromptRequest;
import io.batchgen.spark.TestData;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A terminal recording: {@code bin/batchgen generate} (its main class, in a JVM of its own) run
 * under {@code script}, which gives it a pseudo-terminal, redraws one progress line in place
 * (carriage returns, no new line between frames) and ends it at 100% when the job commits. The
 * plain lines of a run off a terminal are held by {@code BatchGenJobTest}.
 */
class ProgressTerminalTest {
  @TempDir
  Path dir;

  @Test
  void onATerminalGenerateRedrawsOneProgressLine() throws Exception {
    Path model = TestData.tinyModel(dir);
    Path prompts = dir.resolve("prompts.parquet");
    try (ParquetPromptWriter w = ParquetPromptWriter.create(
        new org.apache.hadoop.fs.Path(prompts.toUri()), new Configuration(), IdType.LONG)) {
      for (Row r : TestData.promptRows(100)) {
        w.write(PromptRequest.ofText(Long.toString(r.getLong(0)), r.getString(1)));
      }
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.add("-Xmx1g");
    command.add("-Dlog4j2.configurationFile="
        + Path.of("src/main/launcher/log4j2-cli.properties").toAbsolutePath());
    command.add("-Dspark.batchgen.progress.interval=300ms");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.addAll(List.of(BatchGenCli.class.getName(), "generate", "--model", model.toString(),
        "--input", prompts.toString(), "--output", dir.resolve("out").toString(),
        "--master", "local[2]", "--maxNewTokens", "8"));
    String shell = command.stream().map(a -> "'" + a.replace("'", "'\\''") + "'")
        .collect(Collectors.joining(" "));
    Path recording = dir.resolve("recording.txt");
    ProcessBuilder pb = new ProcessBuilder("script", "-q", "-e", "-c", shell, "/dev/null")
        .redirectInput(new File("/dev/null")).redirectErrorStream(true)
        .redirectOutput(recording.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    boolean exited = p.waitFor(5, TimeUnit.MINUTES);
    if (!exited) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    String out = Files.readString(recording, StandardCharsets.UTF_8);
    assertThat(exited).as("generate finished; it printed:%n%s", out).isTrue();
    assertThat(p.exitValue()).as("exit status; output:%n%s", out).isZero();

    // Redrawn in place: a frame, a carriage return and the next frame, no new line between.
    assertThat(Pattern.compile("\rbatchgen: [^\r\n]*\rbatchgen: ").matcher(out).find())
        .as("a redrawn progress line in:%n%s", out).isTrue();
    assertThat(out).contains("\rbatchgen: 0/100 rows (0.0%)");
    // The last frame: every row, 100% once the job committed, and the line ended (the pty
    // writes a new line as \r\n).
    assertThat(out).containsPattern("\rbatchgen: 100/100 rows \\(100%\\), 0 failed, [^\r\n]*done"
        + " *\r\n");
    assertThat(out).contains("batchgen: 100 rows (0 failed)");
  }
}
