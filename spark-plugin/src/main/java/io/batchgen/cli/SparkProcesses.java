package io.batchgen.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Starts JVMs from a {@link SparkHome}: daemons and {@code spark-submit}, output to a log file. */
public final class SparkProcesses {
  private SparkProcesses() {
  }

  /**
   * Starts {@code spark-submit ARGS} as {@code bin/spark-submit} would, with its output (the
   * client-mode driver's log included) in {@code log}.
   *
   * @param env extra environment, e.g. {@code SPARK_LOCAL_IP}
   */
  public static Process sparkSubmit(SparkHome home, List<String> args, Map<String, String> env,
      Path log) throws IOException {
    return start(home.command("org.apache.spark.deploy.SparkSubmit", args, env), home, env, log);
  }

  /** Starts {@code command} with the home's environment plus {@code env}, output to {@code log}. */
  static Process start(List<String> command, SparkHome home, Map<String, String> env, Path log)
      throws IOException {
    Files.createDirectories(log.toAbsolutePath().getParent());
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(home.environment());
    pb.environment().putAll(env);
    pb.directory(log.toAbsolutePath().getParent().toFile());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    return pb.start();
  }
}
