package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.core.sampling.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

class GenerationDefaultsTest {

  private static GenerationDefaults job(boolean ignoreEos) {
    return new GenerationDefaults(64, 0, 1, 0, 0, 7, List.of("###"), ignoreEos);
  }

  @Test
  void aRowTakesTheJobsSettingsWhereItHasNoOverride() {
    SamplingParams p = job(false).forRow("r1", GenerationOverrides.NONE);
    assertThat(p.maxNewTokens()).isEqualTo(64);
    assertThat(p.stopStrings()).containsExactly("###");
    assertThat(p.ignoreEos()).isFalse();
  }

  @Test
  void ignoreEosReachesEveryRowWhileItsOwnLimitsStillApply() {
    SamplingParams p = job(true).forRow("r1",
        new GenerationOverrides(300, null, null, null, null, null));
    assertThat(p.ignoreEos()).isTrue();
    assertThat(p.maxNewTokens()).isEqualTo(300);
    assertThat(p.stopStrings()).containsExactly("###");
  }
}
