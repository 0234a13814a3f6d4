package io.batchgen.io.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StateCodecTest {

  private static final int F = 2 * 16 * 2 * 8; // (2, blockSize 16, kvHeads 2, headDim 8)

  private final BufferAllocator allocator = new RootAllocator();

  @AfterEach
  void closeAllocator() {
    allocator.close(); // throws if the codec leaked Arrow memory
  }

  private static float[] block(long seed) {
    Random r = new Random(seed);
    float[] b = new float[F];
    for (int i = 0; i < F; i++) {
      b[i] = (float) r.nextGaussian();
    }
    return b;
  }

  private static List<SequenceState> states() {
    float[] special = block(9);
    special[0] = Float.intBitsToFloat(0x7fc0_1234); // a NaN with a payload
    special[1] = -0.0f;
    special[2] = Float.POSITIVE_INFINITY;
    special[3] = Float.MIN_VALUE;
    byte[] kryoLike = new byte[1000];
    new Random(3).nextBytes(kryoLike);
    return List.of(
        new SequenceState("seq-0", 1, kryoLike, List.of(block(1), block(2), special)),
        new SequenceState("queued, not started", 1, new byte[] {1, 2, 3}, List.of()),
        new SequenceState("séquence-🦊-3", 7, new byte[0], List.of(block(4))),
        new SequenceState("9", 1, "x".getBytes(StandardCharsets.UTF_8),
            List.of(block(5), block(6), block(7), block(8))));
  }

  @Test
  void roundTripsBitExactlyIncludingNanPayloadsAndEmptyParts() {
    StateCodec codec = new StateCodec(allocator, F);

    List<SequenceState> back = codec.decode(codec.encode(states()));

    assertThat(back).containsExactlyElementsOf(states());
    assertThat(Float.floatToRawIntBits(back.get(0).kvBlocks().get(2)[0])).isEqualTo(0x7fc0_1234);
    assertThat(Float.floatToRawIntBits(back.get(0).kvBlocks().get(2)[1]))
        .isEqualTo(Float.floatToRawIntBits(-0.0f));
  }

  @Test
  void splitsIntoBoundedBatchesAndStreamsThemOut() {
    StateCodec small = new StateCodec(allocator, F, 2L * F); // about two blocks per batch
    byte[] bytes = small.encode(states());
    List<SequenceState> seen = new ArrayList<>();

    small.read(new ByteArrayInputStream(bytes), seen::add);

    assertThat(seen).containsExactlyElementsOf(states());
    // Larger batches give fewer IPC messages, so fewer bytes for the same content.
    assertThat(bytes.length).isGreaterThan(new StateCodec(allocator, F).encode(states()).length);
  }

  @Test
  void emptyListRoundTrips() {
    StateCodec codec = new StateCodec(allocator, F);
    assertThat(codec.decode(codec.encode(List.of()))).isEmpty();
  }

  @Test
  void refusesBlocksOfTheWrongLengthOnWrite() {
    StateCodec codec = new StateCodec(allocator, F);
    SequenceState bad = new SequenceState("s", 1, new byte[0], List.of(new float[F - 1]));
    assertThatThrownBy(() -> codec.encode(List.of(bad)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Sequence [s] KV block 0 has " + (F - 1) + " floats but this codec"
            + " writes blocks of " + F);
  }

  @Test
  void refusesAnotherModelsBlockSize() {
    byte[] bytes = new StateCodec(allocator, F).encode(states());
    assertThatThrownBy(() -> new StateCodec(allocator, F * 2).decode(bytes))
        .isInstanceOf(CorruptStateException.class)
        .hasMessageContaining("KV blocks of " + F + " floats but this executor's KV blocks hold "
            + (F * 2))
        .hasMessageContaining("same model");
  }

  @Test
  void refusesAnUnknownFormatVersion() throws Exception {
    Schema v1 = StateCodec.arrowSchema(F);
    Schema v2 = new Schema(v1.getFields(),
        Map.of(StateCodec.META_FORMAT, "2", StateCodec.META_FLOATS, Integer.toString(F)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(v2, allocator);
        ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      w.end();
    }
    assertThatThrownBy(() -> new StateCodec(allocator, F).decode(out.toByteArray()))
        .isInstanceOf(CorruptStateException.class)
        .hasMessage("Sequence state was written in format 2 but this executor reads format 1."
            + " Run the same BatchGen version on every executor.");
  }

  @Test
  void detectsAFlippedBitInKvDataAndInMetadata() {
    StateCodec codec = new StateCodec(allocator, F);
    float[] marked = new float[F];
    Arrays.fill(marked, 1234.5678f);
    byte[] meta = "metadata-marker-0123456789".getBytes(StandardCharsets.UTF_8);
    byte[] bytes = codec.encode(List.of(new SequenceState("m", 1, meta, List.of(marked))));

    byte[] kvDamaged = bytes.clone();
    byte[] pattern = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1234.5678f)
        .array();
    kvDamaged[indexOf(kvDamaged, pattern) + 40] ^= 0x01;
    assertThatThrownBy(() -> codec.decode(kvDamaged))
        .isInstanceOf(CorruptStateException.class)
        .hasMessageContaining("Sequence state of [m] (batch 0, row 0) fails its checksum")
        .hasMessageContaining("reclaim the sequence and recompute it");

    byte[] metaDamaged = bytes.clone();
    metaDamaged[indexOf(metaDamaged, meta) + 3] ^= 0x20;
    assertThatThrownBy(() -> codec.decode(metaDamaged))
        .isInstanceOf(CorruptStateException.class)
        .hasMessageContaining("fails its checksum");
  }

  @Test
  void detectsATruncatedStream() {
    StateCodec codec = new StateCodec(allocator, F);
    byte[] bytes = codec.encode(states());
    byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
    assertThatThrownBy(() -> codec.decode(cut))
        .isInstanceOf(CorruptStateException.class)
        .hasMessageContaining("truncated or damaged at record batch 0");
  }

  @Test
  void refusesAStreamThatIsNotState() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Schema other = new Schema(StateCodec.arrowSchema(F).getFields());
    try (VectorSchemaRoot root = VectorSchemaRoot.create(other, allocator);
        ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      w.end();
    }
    assertThatThrownBy(() -> new StateCodec(allocator, F).decode(out.toByteArray()))
        .isInstanceOf(CorruptStateException.class)
        .hasMessageContaining("not BatchGen sequence state");
    assertThatThrownBy(() -> new StateCodec(allocator, F).decode(new byte[] {1, 2, 3}))
        .isInstanceOf(CorruptStateException.class);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("pattern not found");
  }
}
