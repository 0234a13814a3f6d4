package io.batchgen.core.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.core.sampling.SamplingParams;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotCodecTest {

  private static SequenceSnapshot sample(boolean withKv) {
    int layers = 2;
    int kvDim = 3;
    int position = 4;
    float[] kv = null;
    if (withKv) {
      kv = new float[2 * layers * position * kvDim];
      for (int i = 0; i < kv.length; i++) {
        kv[i] = i * 0.25f - 3;
      }
    }
    SamplingParams p = new SamplingParams(0.7, 12, 0.9, 0.05, -77L, 30, new int[] {2, 9},
        List.of("\n\n", "END"), true);
    return new SequenceSnapshot("row-17", new int[] {1, 2, 3, 4, 5, 6}, 3, p,
        withKv ? position : 0, kv, layers, kvDim, 10, 2);
  }

  @Test
  void roundTripsEveryField() {
    for (boolean withKv : new boolean[] {true, false}) {
      SequenceSnapshot s = sample(withKv);
      SequenceSnapshot back = SnapshotCodec.decode(SnapshotCodec.encode(s));
      assertThat(back).isEqualTo(s);
      assertThat(back.sampling()).isEqualTo(s.sampling());
      assertThat(back.generated()).containsExactly(4, 5, 6);
    }
  }

  @Test
  void refusesForeignBytes() {
    byte[] bytes = SnapshotCodec.encode(sample(true));
    byte[] wrongMagic = bytes.clone();
    wrongMagic[0] ^= 0x55;
    assertThatThrownBy(() -> SnapshotCodec.decode(wrongMagic))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("magic");
  }

  @Test
  void refusesOtherVersions() {
    byte[] bytes = SnapshotCodec.encode(sample(false));
    byte[] future = bytes.clone();
    ByteBuffer.wrap(future).putInt(4, 9); // the version follows the 4-byte magic
    assertThatThrownBy(() -> SnapshotCodec.decode(future))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version 9").hasMessageContaining("reads version 2");
  }

  @Test
  void refusesTruncatedBytes() {
    byte[] bytes = SnapshotCodec.encode(sample(true));
    for (int cut : new int[] {3, 12, bytes.length / 2, bytes.length - 1}) {
      byte[] part = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> SnapshotCodec.decode(part)).as("cut at " + cut)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void refusesInconsistentKv() {
    assertThatThrownBy(() -> new SequenceSnapshot("a", new int[] {1, 2}, 1,
        SamplingParams.greedy(2), 1, new float[5], 2, 3, 10, 0))
        .hasMessageContaining("expected 12");
    assertThatThrownBy(() -> new SequenceSnapshot("a", new int[] {1, 20}, 1,
        SamplingParams.greedy(2), 0, null, 2, 3, 10, 0))
        .hasMessageContaining("token id 20");
    assertThat(ByteBuffer.wrap(SnapshotCodec.encode(sample(false))).getInt()).isNotZero();
  }

  @Test
  void aFlippedBitAnywhereInTheKvFailsItsChecksum() {
    byte[] bytes = SnapshotCodec.encode(sample(true));
    byte[] bad = bytes.clone();
    bad[bad.length - 20] ^= 0x04; // inside the KV frame's payload
    assertThatThrownBy(() -> SnapshotCodec.decode(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("checksum of frame KV");
  }

  @Test
  void streamsKvLargerThanOneFrameAndConsumesExactlyItsBytes() throws Exception {
    int layers = 3;
    int kvDim = 64;
    int position = 7000; // 2 * 3 * 7000 * 64 = 2.7 Mi floats: three KV frames
    float[] kv = new float[2 * layers * position * kvDim];
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    for (int i = 0; i < kv.length; i++) {
      kv[i] = (float) r.nextGaussian();
    }
    int[] tokens = new int[position + 1];
    SequenceSnapshot big = new SequenceSnapshot("big", tokens, 1, SamplingParams.greedy(9),
        position, kv, layers, kvDim, 10, 0);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    SnapshotCodec.encode(big, out);
    SnapshotCodec.encode(sample(false), out);
    java.io.InputStream in = new java.io.ByteArrayInputStream(out.toByteArray());

    assertThat(SnapshotCodec.decode(in)).isEqualTo(big);
    assertThat(SnapshotCodec.decode(in)).isEqualTo(sample(false));
    assertThat(in.read()).isEqualTo(-1);
  }
}
