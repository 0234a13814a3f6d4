package io.batchgen.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AttentionBatchTest {

  @Test
  void growingTheSegmentTablesKeepsEarlierSegments() {
    AttentionBatch b = new AttentionBatch().reset(0, 10, 4, 1, null);
    int[][] blocks = new int[5][];
    for (int s = 0; s < 5; s++) {
      blocks[s] = new int[] {s};
      b.addSegment(2 * s, 2, 10 * s, blocks[s]);
    }
    assertThat(b.segments()).isEqualTo(5);
    for (int s = 0; s < 5; s++) {
      assertThat(b.segmentRowStart(s)).isEqualTo(2 * s);
      assertThat(b.segmentRowCount(s)).isEqualTo(2);
      assertThat(b.segmentPosition(s)).isEqualTo(10 * s);
      assertThat(b.segmentBlocks(s)).isSameAs(blocks[s]);
    }
  }

  @Test
  void segmentsMustContinueTheRows() {
    AttentionBatch b = new AttentionBatch().reset(0, 4, 4, 1, null);
    b.addSegment(0, 2, 0, new int[1]);
    assertThatThrownBy(() -> b.addSegment(3, 1, 0, new int[1]))
        .hasMessageContaining("do not continue the batch at row 2");
  }
}
