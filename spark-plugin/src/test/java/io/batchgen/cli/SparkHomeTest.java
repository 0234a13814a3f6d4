package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkHomeTest {

  /** Spark's launcher jar from this test JVM's classpath (Spark is a provided dependency). */
  private static Path sparkLauncherJar() {
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .map(Path::of).filter(p -> p.getFileName().toString().startsWith("spark-launcher_"))
        .findFirst().orElseThrow();
  }

  @Test
  void aHomeWithJarsLinksExactlyThoseJarsAndForgetsEarlierOnes(@TempDir Path dir)
      throws Exception {
    Path a = Files.writeString(dir.resolve("a.jar"), "a");
    Path other = Files.createDirectories(dir.resolve("other"));
    Path a2 = Files.writeString(other.resolve("a.jar"), "a2");
    SparkHome home = SparkHome.withJars(dir.resolve("home"), List.of(a, a2));
    try (var s = Files.list(home.jars())) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("a.jar",
          "2-a.jar");
    }
    SparkHome.withJars(dir.resolve("home"), List.of(a2));
    try (var s = Files.list(home.jars())) {
      assertThat(s.toList()).singleElement().satisfies(p -> assertThat(Files.readString(p))
          .isEqualTo("a2"));
    }
    assertThatThrownBy(() -> SparkHome.withJars(dir.resolve("h2"), List.of(dir.resolve("no.jar"))))
        .hasMessageContaining("no.jar does not exist")
        .hasMessageContaining("-pl spark-dist");
  }

  @Test
  void theCommandComesFromSparksOwnLauncher(@TempDir Path dir) {
    SparkHome home = SparkHome.withJars(dir.resolve("home"), List.of(sparkLauncherJar()));
    List<String> cmd = home.command("org.apache.spark.deploy.master.Master",
        List.of("--host", "127.0.0.1"), Map.of("SPARK_DAEMON_MEMORY", "321m"));
    assertThat(cmd.get(0)).isEqualTo(SparkHome.javaBinary());
    assertThat(cmd).contains("-Xmx321m", "--add-opens=java.base/java.nio=ALL-UNNAMED")
        .containsSubsequence("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1");
    assertThat(cmd.get(cmd.indexOf("-cp") + 1)).contains(home.jars() + "/*");
  }

  @Test
  void launcherOutputIsSplitAtNuls() {
    assertThat(SparkHome.parseLauncherOutput("noise\0\njava\0-cp\0a b\0Main\0"))
        .containsExactly("java", "-cp", "a b", "Main");
    assertThatThrownBy(() -> SparkHome.parseLauncherOutput("Error: bad"))
        .hasMessageContaining("Unexpected output from Spark's launcher");
  }

  @Test
  void classpathFilesListOneJarPerEntry(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("cp"), "/x/a.jar" + File.pathSeparator + "/y/b.jar\n");
    assertThat(SparkHome.readClasspathFile(f)).containsExactly(Path.of("/x/a.jar"),
        Path.of("/y/b.jar"));
    assertThatThrownBy(() -> SparkHome.readClasspathFile(dir.resolve("none")))
        .hasMessageContaining("-pl spark-dist");
  }
}
