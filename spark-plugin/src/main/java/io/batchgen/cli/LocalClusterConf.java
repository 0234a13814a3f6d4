package io.batchgen.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/**
 * What a {@code local-cluster[N,cores,memoryMb]} master needs when Spark is not installed but on
 * this JVM's classpath (bin/batchgen, tests, benchmarks): Spark starts a Master and N Workers
 * inside the driver JVM, and each Worker launches real executor JVMs through Spark's launcher,
 * which puts {@code SPARK_HOME/jars/*} on their classpath. So
 * <ul>
 *   <li>the driver's environment must hold {@code SPARK_HOME}, pointing at a folder whose
 *       {@code jars/} exists and is empty (see {@link SparkHome#withEmptyJars}), and
 *       {@code SPARK_SCALA_VERSION=2.13}; a JVM cannot set its own environment, so whoever starts
 *       it does ({@code bin/batchgen} does, as does the integration tests' failsafe setup);
 *   <li>executors get this JVM's whole classpath as {@code spark.executor.extraClassPath}, and
 *       the project's JVM flags ({@link JvmFlags}).
 * </ul>
 * Unlike a real cluster ({@link StandaloneCluster}), executors then load BatchGen from their
 * system classpath.
 */
public final class LocalClusterConf {
  private static final Pattern LOCAL_CLUSTER =
      Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]");

  private LocalClusterConf() {
  }

  /** Whether {@code master} is a {@code local-cluster[N,c,m]} URL. */
  public static boolean isLocalCluster(String master) {
    return master != null && LOCAL_CLUSTER.matcher(master.trim()).matches();
  }

  /** {@code local-cluster[executors,cores,memoryMb]}. */
  public static String master(int executors, int cores, int memoryMb) {
    return "local-cluster[" + executors + "," + cores + "," + memoryMb + "]";
  }

  /**
   * The Spark settings for a local-cluster master started from this JVM: executors get this
   * JVM's classpath and the project's JVM flags; the driver binds to the loopback address.
   */
  public static Map<String, String> settings() {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.executor.extraClassPath", System.getProperty("java.class.path"));
    conf.put("spark.executor.extraJavaOptions", JvmFlags.projectString());
    conf.put("spark.driver.host", "127.0.0.1");
    return conf;
  }

  /**
   * Configures {@code builder} for {@code master}, after checking this JVM's environment.
   *
   * @throws IllegalStateException naming the variable to set when the environment cannot start
   *                               a local-cluster master
   */
  public static SparkSession.Builder configure(SparkSession.Builder builder, String master) {
    Matcher m = LOCAL_CLUSTER.matcher(master.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("Not a local-cluster master: " + master
          + "; expected local-cluster[executors,cores,memoryMb], e.g. local-cluster[2,1,1024]");
    }
    checkEnvironment(System.getenv());
    builder.master(master.trim());
    settings().forEach(builder::config);
    return builder;
  }

  /**
   * Checks that {@code env} lets Spark's in-driver Workers launch executors.
   *
   * @throws IllegalStateException naming what to set otherwise
   */
  static void checkEnvironment(Map<String, String> env) {
    String home = env.get("SPARK_HOME");
    String fix = " (bin/batchgen sets both: SPARK_HOME to spark-plugin/target/launcher/spark-home,"
        + " SPARK_SCALA_VERSION to " + SparkHome.SCALA_VERSION + ")";
    if (home == null || home.isBlank() || !Files.isDirectory(Path.of(home, "jars"))) {
      throw new IllegalStateException("A local-cluster master needs the environment variable "
          + "SPARK_HOME set to a folder with a jars/ subfolder (empty: executors get this JVM's "
          + "classpath instead); SPARK_HOME is " + (home == null ? "unset" : "[" + home + "]")
          + fix);
    }
    if (!SparkHome.SCALA_VERSION.equals(env.get("SPARK_SCALA_VERSION"))) {
      throw new IllegalStateException("A local-cluster master needs the environment variable "
          + "SPARK_SCALA_VERSION=" + SparkHome.SCALA_VERSION + "; it is "
          + (env.get("SPARK_SCALA_VERSION") == null ? "unset" : env.get("SPARK_SCALA_VERSION"))
          + fix);
    }
  }
}
