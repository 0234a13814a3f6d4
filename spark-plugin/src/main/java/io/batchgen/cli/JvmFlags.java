package io.batchgen.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The project's JVM flags (the parent pom's {@code batchgen.jvm.flags}: Spark's module opens and
 * the Vector API module), as built into this jar, for JVMs the tools start or configure.
 *
 * <p>Spark 4.2 itself adds its module options, {@code --add-modules=jdk.incubator.vector}
 * included, to every JVM its launcher starts (spark-submit drivers, Masters, Workers) and to
 * every executor ({@code SparkContext} prepends them to {@code spark.executor.extraJavaOptions});
 * the standalone-cluster test runs the bundle with no flags of ours. These flags are for JVMs
 * started without Spark's launcher: {@code bin/batchgen}, tests, and executors of
 * {@code local-cluster} masters that should match them exactly.
 */
public final class JvmFlags {
  private static final List<String> PROJECT = load();

  private JvmFlags() {
  }

  /** Every project flag, in order. */
  public static List<String> project() {
    return PROJECT;
  }

  /** The project flags as one string, e.g. for {@code spark.executor.extraJavaOptions}. */
  public static String projectString() {
    return String.join(" ", PROJECT);
  }

  private static List<String> load() {
    Properties p = new Properties();
    try (InputStream in = JvmFlags.class.getResourceAsStream("jvm-flags.properties")) {
      if (in == null) {
        throw new IllegalStateException("jvm-flags.properties is missing from the BatchGen jar; "
            + "rebuild with ./mvnw -B -DskipTests package");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String flags = p.getProperty("flags", "").trim();
    if (flags.isEmpty() || flags.contains("${")) {
      throw new IllegalStateException("jvm-flags.properties was not filled in by the build: ["
          + flags + "]");
    }
    return List.copyOf(Arrays.asList(flags.split("\\s+")));
  }
}
