package io.batchgen.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
  @TempDir
  Path tmp;

  static TensorSource bytes(int n, int fill) {
    return new TensorSource() {
      @Override
      public long bytes() {
        return n;
      }

      @Override
      public void write(OutputStream out) throws IOException {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) fill);
        out.write(b);
      }
    };
  }

  Path valid() throws IOException {
    Path p = tmp.resolve("ok.gguf");
    new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 2)
        .putF32("llama.rope.freq_base", 10000f).putBool("flag", true)
        .putStrings("tokenizer.ggml.tokens", List.of("a", "b", "ü"))
        .putI32s("tokenizer.ggml.token_type", new int[] {1, 1, 3})
        .addTensor("w", DType.F32, new long[] {3, 2}, bytes(24, 0))
        .addTensor("q", DType.Q8_0, new long[] {2, 32}, bytes(68, 1))
        .write(p);
    return p;
  }

  @Test
  void roundTripsMetadataAndTensors() throws IOException {
    GgufFile g = GgufFile.open(valid());
    assertThat(g.version()).isEqualTo(3);
    assertThat(g.metadata()).containsEntry("general.architecture", "llama")
        .containsEntry("llama.block_count", 2L).containsEntry("llama.rope.freq_base", 10000.0)
        .containsEntry("flag", true)
        .containsEntry("tokenizer.ggml.tokens", List.of("a", "b", "ü"))
        .containsEntry("tokenizer.ggml.token_type", List.of(1L, 1L, 3L));
    assertThat(g.tensors().get("w").shape()).containsExactly(3, 2);
    assertThat(g.tensors().get("q").shape()).containsExactly(2, 32);
    assertThat(g.tensors().get("q").dtype()).isEqualTo(DType.Q8_0);
    assertThat(g.tensors().get("q").data().get(67)).isEqualTo((byte) 1);
  }

  ModelFormatException fails(byte[] content) throws IOException {
    Path p = tmp.resolve("bad.gguf");
    Files.write(p, content);
    try {
      GgufFile.open(p);
    } catch (ModelFormatException e) {
      assertThat(e.getMessage()).startsWith(p.toString());
      return e;
    }
    throw new AssertionError("no error for a corrupt file");
  }

  @Test
  void rejectsBadMagicAndVersion() throws IOException {
    byte[] ok = Files.readAllBytes(valid());
    byte[] b = ok.clone();
    b[0] = 'X';
    assertThat(fails(b)).hasMessageContaining("bad magic");
    b = ok.clone();
    b[4] = 9;
    assertThat(fails(b)).hasMessageContaining("GGUF version 9 is not supported");
  }

  @Test
  void rejectsEveryTruncation() throws IOException {
    byte[] ok = Files.readAllBytes(valid());
    // the last tensor's 68 bytes are followed by 28 bytes of alignment padding, which may go
    int dataEnd = ok.length - 28;
    for (int len = 0; len < dataEnd; len++) {
      ModelFormatException e = fails(Arrays.copyOf(ok, len));
      assertThat(e.getMessage()).as("cut at " + len).containsAnyOf("truncated", "bad magic", "impossible",
          "end of");
    }
  }

  @Test
  void rejectsHugeCountsWithoutAllocating() throws IOException {
    byte[] ok = Files.readAllBytes(valid());
    ByteBuffer b = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(8, Long.MAX_VALUE); // tensor count
    assertThat(fails(b.array())).hasMessageContaining("tensor count");
    b = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(24, 1L << 40); // length of the first key string
    assertThat(fails(b.array())).hasMessageContaining("string length");
  }

  @Test
  void rejectsUnsupportedTensorTypeAndOffsetPastEnd() throws IOException {
    Path p = tmp.resolve("t.gguf");
    new GgufWriter().addTensor("w", DType.F32, new long[] {4}, bytes(16, 0)).write(p);
    byte[] ok = Files.readAllBytes(p);
    // header: magic, version, counts (24) + name (8+1) + ndims (4) + dim (8) -> type at 45
    ByteBuffer b = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(45, 12); // Q4_K
    assertThat(fails(b.array())).hasMessageContaining("ggml type 12 (Q4_K)");
    b = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(49, 4096); // offset
    assertThat(fails(b.array())).hasMessageContaining("runs past the end of the data section");
  }
}
