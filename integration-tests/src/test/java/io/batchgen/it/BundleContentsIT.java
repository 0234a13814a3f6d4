package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.cli.SparkHome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The bundle is safe beside Spark and Hadoop: no Java package in it, other than BatchGen's own
 * (relocated libraries included, under {@code io.batchgen.shaded}), is also in one of the jars a
 * Spark distribution ships. What Spark ships is read from Spark's actual jars (spark-dist's list:
 * core, SQL, Hive, YARN, Kubernetes, Hadoop client, logging), not from a hand-kept list, so a new
 * dependency that clashes fails here until it is relocated or left to the cluster.
 */
class BundleContentsIT {
  private static final Path BUNDLE = Path.of(System.getProperty("batchgen.it.bundleJar"));
  private static final List<Path> SPARK_JARS = SparkHome.readClasspathFile(
      Path.of(System.getProperty("batchgen.it.sparkJars")));

  @Test
  void noBundledPackageIsAlsoShippedBySparkUnrelocated() throws IOException {
    Map<String, String> sparkPackages = new TreeMap<>();
    for (Path jar : SPARK_JARS) {
      for (String pkg : classPackages(jar)) {
        sparkPackages.putIfAbsent(pkg, jar.getFileName().toString());
      }
    }
    assertThat(sparkPackages).as("packages read from Spark's jars").containsKey("org/apache/spark")
        .containsKey("com/google/common/collect").hasSizeGreaterThan(1000);

    Set<String> bundled = classPackages(BUNDLE);
    assertThat(bundled).as("the bundle's own classes").contains("io/batchgen/spark/plugin");

    Map<String, Set<String>> clashesBySparkJar = new TreeMap<>();
    for (String pkg : bundled) {
      if (!pkg.startsWith("io/batchgen/") && sparkPackages.containsKey(pkg)) {
        clashesBySparkJar.computeIfAbsent(sparkPackages.get(pkg), k -> new TreeSet<>())
            .add(pkg.replace('/', '.'));
      }
    }
    assertThat(clashesBySparkJar).as("packages in " + BUNDLE.getFileName() + " that Spark "
        + "also ships, by the Spark jar that has them; relocate them under io.batchgen.shaded "
        + "in spark-plugin/pom.xml, or leave the library to the cluster").isEmpty();
  }

  @Test
  void theBundleShipsNoLoggingConfigurationOrSignatures() throws IOException {
    // A log4j2.properties at the root would replace the cluster's logging setup; a signature
    // file from one of the shaded jars would make the JVM reject the whole bundle.
    Set<String> offending = new TreeSet<>();
    try (ZipFile zip = new ZipFile(BUNDLE.toFile())) {
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (name.matches("log4j2?(-test)?\\.(properties|xml|json|yaml|yml)|logback(-test)?\\.xml")
            || name.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)")) {
          offending.add(name);
        }
      }
    }
    assertThat(offending).isEmpty();
  }

  /** The packages (as paths, e.g. {@code org/apache/spark}) that hold classes in {@code jar}. */
  static Set<String> classPackages(Path jar) throws IOException {
    Set<String> out = new TreeSet<>();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (!name.endsWith(".class") || name.endsWith("module-info.class")) {
          continue;
        }
        // Multi-release jars keep per-version classes under META-INF/versions/N/.
        name = name.replaceFirst("^META-INF/versions/\\d+/", "");
        int slash = name.lastIndexOf('/');
        out.add(slash < 0 ? "" : name.substring(0, slash));
      }
    }
    return out;
  }
}
