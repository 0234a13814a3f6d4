package io.batchgen.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.plugin.ExecutorInfo;
import io.batchgen.spark.plugin.ExecutorRuntimeHost;
import io.batchgen.spark.plugin.PluginMessages.Pong;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The plugin on a real two-executor cluster: both executors register, report, and serve tasks. */
class PluginClusterIT {
  private static SparkSession spark;

  @BeforeAll
  static void startCluster() {
    spark = LocalCluster.builder("plugin-cluster-it", 2, 1, 1024)
        .config("spark.batchgen.rebalance.loadReportInterval", "200ms")
        .getOrCreate();
  }

  @AfterAll
  static void stopCluster() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void bothExecutorPluginsRegisterAndReportToTheDriver() {
    BatchGenDriverPlugin driver = BatchGenDriverPlugin.active().orElseThrow();
    long driverPid = ProcessHandle.current().pid();

    // Registration is an ask (answered with Welcome), load reports are sends.
    Map<String, ExecutorInfo> executors = await().atMost(Duration.ofMinutes(2))
        .until(driver::executors, m -> m.size() == 2
            && m.values().stream().allMatch(i -> i.reportsReceived() >= 2));

    Set<Long> pids = executors.values().stream().map(i -> i.registration().pid())
        .collect(Collectors.toSet());
    assertThat(pids).hasSize(2).doesNotContain(driverPid);
    assertThat(executors.keySet()).doesNotContain("driver");
  }

  @Test
  void tasksReachTheirExecutorsHostAndTheDriverThroughIt() {
    long driverPid = ProcessHandle.current().pid();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // Enough partitions that both single-core executors run some; each task reports the host it
    // reached and the driver's answer to a ping sent through that host.
    List<String> seen = jsc.parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8), 8)
        .map(i -> {
          ExecutorRuntimeHost host = ExecutorRuntimeHost.get();
          Pong pong = host.pingDriver();
          return host.executorId() + "/" + host.pid() + "/" + ProcessHandle.current().pid() + "/"
              + pong.driverPid() + "/" + host.welcome().driverPid();
        })
        .collect();

    assertThat(seen).hasSize(8);
    Set<String> executorPids = seen.stream().map(s -> s.split("/")[1]).collect(Collectors.toSet());
    assertThat(executorPids).hasSize(2).doesNotContain(Long.toString(driverPid));
    for (String s : seen) {
      String[] f = s.split("/");
      assertThat(f[1]).as("host pid is the task's own JVM").isEqualTo(f[2]);
      assertThat(f[3]).as("ping answered by the driver JVM").isEqualTo(Long.toString(driverPid));
      assertThat(f[4]).as("registration answered by the driver JVM")
          .isEqualTo(Long.toString(driverPid));
    }

    Set<String> executorIds = seen.stream().map(s -> s.split("/")[0]).collect(Collectors.toSet());
    assertThat(BatchGenDriverPlugin.active().orElseThrow().executors().keySet())
        .containsExactlyInAnyOrderElementsOf(executorIds);
  }
}
