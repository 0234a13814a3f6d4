package io.batchgen.spark.plugin;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PluginStartChecksTest {

  private static ExecutorPluginSettings settings(boolean vectorApiRequired) {
    return new ExecutorPluginSettings(Duration.ofSeconds(1), Duration.ofSeconds(10),
        Duration.ofSeconds(30), 3, vectorApiRequired, Duration.ofMinutes(10),
        MigrationAgent.Upload.defaults());
  }

  @Test
  void anExecutorWithoutTheVectorModuleFailsNamingTheSetting() {
    assertThatThrownBy(() -> BatchGenExecutorPlugin.checkJvm(settings(true), false))
        .hasMessageContaining("lacks the Java Vector API module")
        .hasMessageContaining("--add-modules=jdk.incubator.vector to "
            + "spark.executor.extraJavaOptions");
    assertThatCode(() -> BatchGenExecutorPlugin.checkJvm(settings(true), true))
        .doesNotThrowAnyException();
  }

  @Test
  void theReferenceBackendNeedsNoVectorModule() {
    assertThatCode(() -> BatchGenExecutorPlugin.checkJvm(settings(false), false))
        .doesNotThrowAnyException();
  }

  @Test
  void theDriverPluginAnswersBadMessagesWithAPlainJdkException() {
    // Spark sends the exception back to the executor, which cannot load classes of ours.
    BatchGenDriverPlugin driver = new BatchGenDriverPlugin();
    assertThatThrownBy(() -> driver.receive("not bytes"))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Expected a BatchGen plugin message (byte[]), got java.lang.String")
        .hasNoCause();
  }
}
