package io.batchgen.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.model.ModuleKey;
import org.junit.jupiter.api.Test;

class PoliciesTest {

  /** Queues given as (modelOrder, rows, oldestTick). */
  private static QueueView view(double kv, int[]... queues) {
    return new QueueView() {
      @Override
      public int size() {
        return queues.length;
      }

      @Override
      public ModuleKey key(int i) {
        return ModuleKey.attention(queues[i][0]);
      }

      @Override
      public int rows(int i) {
        return queues[i][1];
      }

      @Override
      public long oldestTick(int i) {
        return queues[i][2];
      }

      @Override
      public long nowTick() {
        return 100;
      }

      @Override
      public double kvUtilization() {
        return kv;
      }

      @Override
      public int modelOrder(int i) {
        return queues[i][0];
      }
    };
  }

  @Test
  void builtInPoliciesPickWhatTheySay() {
    QueueView v = view(0.5, new int[] {3, 10, 50}, new int[] {7, 40, 60}, new int[] {1, 5, 20});
    assertThat(SchedulingPolicy.largestBatch().choose(v)).isEqualTo(1);
    assertThat(SchedulingPolicy.oldestWait().choose(v)).isEqualTo(2);
    assertThat(SchedulingPolicy.modelOrder().choose(v)).isEqualTo(2);
    assertThat(SchedulingPolicy.memoryPressureFirst(0.9).choose(v)).isEqualTo(1);
    QueueView full = view(0.95, new int[] {3, 10, 50}, new int[] {7, 1, 60},
        new int[] {1, 5, 20});
    assertThat(SchedulingPolicy.memoryPressureFirst(0.9).choose(full)).isEqualTo(1);
  }

  @Test
  void sweepMovesForwardThroughTheModelAndWraps() {
    SchedulingPolicy sweep = SchedulingPolicy.sweep();
    assertThat(sweep.choose(view(0, new int[] {4, 1, 0}, new int[] {2, 1, 0}))).isEqualTo(1);
    // The cursor is at 2: module 4 comes before the new arrival at 0.
    assertThat(sweep.choose(view(0, new int[] {0, 9, 0}, new int[] {4, 1, 0}))).isEqualTo(1);
    assertThat(sweep.choose(view(0, new int[] {0, 9, 0}, new int[] {1, 1, 0}))).isEqualTo(0);
    // Each runtime gets its own cursor.
    assertThat(sweep.fresh()).isNotSameAs(sweep);
    assertThat(SchedulingPolicy.largestBatch().fresh()).isNotNull();
  }

  @Test
  void configErrorsNameTheField() {
    assertThatThrownBy(() -> RuntimeConfig.defaults().withBatchLimits(64, 32, 100, 8, 8))
        .hasMessageContaining("'maxAttentionRows'").hasMessageContaining("prefillChunkTokens");
    assertThatThrownBy(() -> RuntimeConfig.defaults().withKv(0, 1, 1))
        .hasMessageContaining("'kvBlockSize'");
    assertThatThrownBy(() -> RuntimeConfig.defaults().withMaxRunningSequences(0))
        .hasMessageContaining("'maxRunningSequences'");
  }
}
