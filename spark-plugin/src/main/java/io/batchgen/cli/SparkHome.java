package io.batchgen.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code SPARK_HOME} folder for JVMs that Spark's own launcher starts: Master, Worker,
 * spark-submit, and the executors and drivers a Worker launches. Spark puts
 * {@code SPARK_HOME/jars/*} on each of their classpaths, so what {@code jars/} holds is what
 * those JVMs see.
 *
 * <ul>
 *   <li>{@link #withJars}: {@code jars/} holds links to Spark's own jars and nothing else, as on a
 *       real cluster where the application jar reaches executors through Spark's user class
 *       loader. Standalone clusters ({@link StandaloneCluster}) and {@link #sparkSubmit} use it.
 *   <li>{@link #withEmptyJars}: an empty {@code jars/}, for {@code local-cluster[N,c,m]} masters
 *       whose executors get the driver JVM's whole classpath through
 *       {@code spark.executor.extraClassPath} instead ({@link LocalClusterConf}).
 * </ul>
 *
 * <p>{@link #command} asks Spark's launcher ({@code org.apache.spark.launcher.Main}, what
 * {@code bin/spark-class} and {@code bin/spark-submit} run) for the exact java command line, so
 * processes started from here get the same module options, memory and classpath as with Spark's
 * scripts.
 */
public final class SparkHome {
  /** The Scala binary version of the Spark build this project uses. */
  public static final String SCALA_VERSION = "2.13";

  private static final String LAUNCHER_MAIN = "org.apache.spark.launcher.Main";

  private final Path dir;

  private SparkHome(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  /**
   * A home under {@code dir} whose {@code jars/} holds (links to) exactly {@code sparkJars}.
   * Replaces whatever {@code jars/} held before.
   */
  public static SparkHome withJars(Path dir, List<Path> sparkJars) {
    SparkHome home = new SparkHome(dir);
    try {
      Path jars = home.jars();
      clearFolder(jars);
      for (Path jar : sparkJars) {
        if (!Files.isRegularFile(jar)) {
          throw new IllegalArgumentException("Spark jar " + jar + " does not exist; rebuild with "
              + "'./mvnw -B -DskipTests package -pl spark-dist' to resolve Spark's jars");
        }
        // Two artifacts may share a file name (same artifactId, other groupId): keep both.
        Path link = jars.resolve(jar.getFileName());
        for (int i = 2; Files.exists(link, LinkOption.NOFOLLOW_LINKS); i++) {
          link = jars.resolve(i + "-" + jar.getFileName());
        }
        Files.createSymbolicLink(link, jar.toAbsolutePath());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare the Spark home " + dir + ": " + e, e);
    }
    return home;
  }

  /** A home under {@code dir} with an empty {@code jars/} (for {@code local-cluster} masters). */
  public static SparkHome withEmptyJars(Path dir) {
    SparkHome home = new SparkHome(dir);
    try {
      clearFolder(home.jars());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare the Spark home " + dir + ": " + e, e);
    }
    return home;
  }

  /** An existing Spark home, e.g. an unpacked Spark distribution. */
  public static SparkHome existing(Path dir) {
    SparkHome home = new SparkHome(dir);
    if (!Files.isDirectory(home.jars())) {
      throw new IllegalArgumentException(dir + " is not a Spark home: it has no jars/ folder");
    }
    return home;
  }

  /**
   * The jars listed in a classpath file (one line, entries separated by the path separator), as
   * written by {@code dependency:build-classpath} ({@code spark-dist/target/spark-jars.classpath}).
   */
  public static List<Path> readClasspathFile(Path file) {
    try {
      String text = Files.readString(file).trim();
      List<Path> out = new ArrayList<>();
      for (String entry : text.split(java.io.File.pathSeparator)) {
        if (!entry.isBlank()) {
          out.add(Path.of(entry.trim()));
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the Spark classpath file " + file + " (built "
          + "by './mvnw -B -DskipTests package -pl spark-dist'): " + e, e);
    }
  }

  public Path dir() {
    return dir;
  }

  public Path jars() {
    return dir.resolve("jars");
  }

  /**
   * The environment Spark's launcher and the processes it starts need: {@code SPARK_HOME},
   * {@code SPARK_SCALA_VERSION} (a home without a {@code RELEASE} file cannot tell), and
   * {@code JAVA_HOME} of this JVM so that every process runs the same Java.
   */
  public Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPARK_HOME", dir.toString());
    env.put("SPARK_SCALA_VERSION", SCALA_VERSION);
    env.put("JAVA_HOME", System.getProperty("java.home"));
    return env;
  }

  /**
   * The java command that {@code bin/spark-class CLASS ARGS} would run, from Spark's own launcher;
   * for {@code org.apache.spark.deploy.SparkSubmit} the command of {@code bin/spark-submit ARGS}.
   *
   * @param env extra environment the launcher reads (e.g. {@code SPARK_DAEMON_MEMORY},
   *            {@code SPARK_LOCAL_IP}); the command must later run with the same environment
   */
  public List<String> command(String className, List<String> args, Map<String, String> env) {
    List<String> launcher = new ArrayList<>(List.of(javaBinary(), "-Xmx128m", "-cp",
        jars() + "/*", LAUNCHER_MAIN, className));
    launcher.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(launcher);
    pb.environment().putAll(environment());
    pb.environment().putAll(env);
    pb.environment().remove("SPARK_PRINT_LAUNCH_COMMAND");
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    try {
      Process p = pb.start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = readAll(in);
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("Spark's launcher did not answer within 60 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("Spark's launcher failed (exit " + p.exitValue()
            + ") for " + className + " " + args + " with SPARK_HOME " + dir);
      }
      return parseLauncherOutput(new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot run Spark's launcher from " + jars() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running Spark's launcher", e);
    }
  }

  /**
   * The command from the launcher's output: a NUL and a newline, then the arguments, each ended
   * by a NUL (the contract between {@code launcher.Main} and {@code bin/spark-class}).
   */
  static List<String> parseLauncherOutput(String out) {
    int start = out.indexOf("\0\n");
    if (start < 0) {
      throw new IllegalStateException("Unexpected output from Spark's launcher: " + out);
    }
    String[] parts = out.substring(start + 2).split("\0");
    List<String> cmd = new ArrayList<>(Arrays.asList(parts));
    if (!cmd.isEmpty() && cmd.get(cmd.size() - 1).isBlank()) {
      cmd.remove(cmd.size() - 1);
    }
    return cmd;
  }

  /** The java of this JVM (Spark's launcher uses JAVA_HOME, which {@link #environment} sets). */
  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    in.transferTo(buf);
    return buf.toByteArray();
  }

  private static void clearFolder(Path folder) throws IOException {
    Files.createDirectories(folder);
    try (var entries = Files.list(folder)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        if (Files.isSymbolicLink(p) || Files.isRegularFile(p)) {
          Files.delete(p);
        }
      }
    }
  }
}
