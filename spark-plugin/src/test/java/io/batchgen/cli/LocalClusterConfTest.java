package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalClusterConfTest {

  @Test
  void recognisesLocalClusterMasters() {
    assertThat(LocalClusterConf.isLocalCluster("local-cluster[2,1,1024]")).isTrue();
    assertThat(LocalClusterConf.isLocalCluster(" local-cluster[ 2, 1, 1024 ] ")).isTrue();
    assertThat(LocalClusterConf.isLocalCluster("local[2]")).isFalse();
    assertThat(LocalClusterConf.isLocalCluster("spark://h:7077")).isFalse();
    assertThat(LocalClusterConf.master(3, 2, 512)).isEqualTo("local-cluster[3,2,512]");
  }

  @Test
  void executorsGetThisJvmsClasspathAndTheProjectFlags() {
    Map<String, String> conf = LocalClusterConf.settings();
    assertThat(conf.get("spark.executor.extraClassPath"))
        .isEqualTo(System.getProperty("java.class.path"));
    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .contains("--add-modules=jdk.incubator.vector", "--add-opens=java.base/java.nio=ALL-UNNAMED");
    assertThat(JvmFlags.project()).doesNotContain("${batchgen.jvm.flags}").isNotEmpty();
  }

  @Test
  void theEnvironmentCheckNamesWhatToSet(@TempDir Path home) throws Exception {
    assertThatThrownBy(() -> LocalClusterConf.checkEnvironment(Map.of()))
        .hasMessageContaining("SPARK_HOME is unset").hasMessageContaining("bin/batchgen sets");
    assertThatThrownBy(() -> LocalClusterConf.checkEnvironment(Map.of("SPARK_HOME",
        home.toString(), "SPARK_SCALA_VERSION", "2.13")))
        .hasMessageContaining("with a jars/ subfolder");
    SparkHome.withEmptyJars(home);
    assertThatThrownBy(() -> LocalClusterConf.checkEnvironment(Map.of("SPARK_HOME",
        home.toString())))
        .hasMessageContaining("SPARK_SCALA_VERSION=2.13; it is unset");
    assertThatCode(() -> LocalClusterConf.checkEnvironment(Map.of("SPARK_HOME",
        home.toString(), "SPARK_SCALA_VERSION", "2.13"))).doesNotThrowAnyException();
  }
}
