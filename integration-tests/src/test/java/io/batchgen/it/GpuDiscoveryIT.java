package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import io.batchgen.spark.plugin.ExecutorRuntimeHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With Spark resource scheduling, each executor host is bound to the GPU address Spark gave its
 * executor (a fake discovery script stands in for nvidia-smi, as Spark's own plugin tests do).
 */
class GpuDiscoveryIT {

  /** Runs in a task: the GPU address of the executor's BatchGen host. */
  static final class GpuOfHost implements Function<Integer, String> {
    @Override
    public String call(Integer ignored) {
      return ExecutorRuntimeHost.get().gpuAddress();
    }
  }

  @Test
  void executorHostKnowsTheGpuAddressSparkAssigned(@TempDir Path dir) throws Exception {
    Path script = dir.resolve("discover-gpu.sh");
    Files.writeString(script, "#!/usr/bin/env bash\n"
        + "echo '{\"name\": \"gpu\", \"addresses\": [\"3\"]}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

    SparkSession spark = LocalCluster.builder("gpu-discovery-it", 1, 1, 1024)
        .config("spark.worker.resource.gpu.amount", "1")
        .config("spark.worker.resource.gpu.discoveryScript", script.toString())
        .config("spark.executor.resource.gpu.amount", "1")
        .config("spark.executor.resource.gpu.discoveryScript", script.toString())
        .config("spark.task.resource.gpu.amount", "1")
        .getOrCreate();
    try {
      BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
      Map<String, ExecutorInfo> executors = await().atMost(Duration.ofMinutes(2))
          .until(driver::executors, m -> m.size() == 1);
      assertThat(executors.values().iterator().next().registration().gpuAddress()).isEqualTo("3");

      List<String> seen = JavaSparkContext.fromSparkContext(spark.sparkContext())
          .parallelize(List.of(1, 2), 2)
          .map(new GpuOfHost())
          .collect();
      assertThat(seen).containsOnly("3");
    } finally {
      spark.stop();
    }
  }
}
