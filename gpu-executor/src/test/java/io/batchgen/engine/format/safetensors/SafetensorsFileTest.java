package io.batchgen.engine.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
  @TempDir
  Path tmp;

  static TensorSource floats(float... v) {
    return new TensorSource() {
      @Override
      public long bytes() {
        return 4L * v.length;
      }

      @Override
      public void write(OutputStream out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
          b.putFloat(f);
        }
        out.write(b.array());
      }
    };
  }

  /** A raw file: 8-byte length, the header text, then {@code dataBytes} zero bytes. */
  Path raw(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path p = tmp.resolve("x.safetensors");
    Files.write(p, b.array());
    return p;
  }

  @Test
  void writesAndReadsBackTensorsMapped() throws IOException {
    Path p = tmp.resolve("ok.safetensors");
    new SafetensorsWriter().add("a", DType.F32, new long[] {2, 3}, floats(1, 2, 3, 4, 5, 6))
        .add("b", DType.F32, new long[] {1}, floats(-7)).write(p, Map.of("format", "pt"));
    SafetensorsFile f = SafetensorsFile.open(p);
    assertThat(f.tensors()).containsOnlyKeys("a", "b");
    assertThat(f.tensors().get("a").shape()).containsExactly(2, 3);
    assertThat(f.tensors().get("a").data().getFloat(5 * 4)).isEqualTo(6f);
    assertThat(f.tensors().get("a").data().isDirect()).as("memory-mapped").isTrue();
    assertThat(f.tensors().get("b").data().getFloat(0)).isEqualTo(-7f);
    assertThat(f.metadata()).containsEntry("format", "pt");
  }

  @Test
  void rejectsBadHeaderLength() throws IOException {
    Path p = tmp.resolve("bad.safetensors");
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(Long.MAX_VALUE - 3);
    Files.write(p, b.array());
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("bad safetensors header length");
    Files.write(p, new byte[3]);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("shorter than its 8-byte header length");
  }

  @Test
  void rejectsHeaderThatIsNotJson() throws IOException {
    Path p = raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], ", 0);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void rejectsOffsetsPastEndOfFile() throws IOException {
    Path p = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor [a] data_offsets [0, 16] are outside the 8-byte data"
            + " section");
  }

  @Test
  void rejectsDtypeShapeSizeMismatch() throws IOException {
    Path p = raw("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor [a] has 16 bytes but dtype BF16 and shape [4] need 8");
  }

  @Test
  void rejectsUnsupportedDtypeAndOverlaps() throws IOException {
    Path p = raw("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("dtype [I64], supported: F32, F16, BF16");
    Path q = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    assertThatThrownBy(() -> SafetensorsFile.open(q)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("overlap");
  }

  @Test
  void missingFileIsNamed() {
    Path p = tmp.resolve("nope.safetensors");
    assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
        .hasMessage(p + ": file not found");
  }
}
