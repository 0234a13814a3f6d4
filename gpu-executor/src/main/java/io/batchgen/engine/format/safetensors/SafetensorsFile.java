package io.batchgen.engine.format.safetensors;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.FileRegion;
import io.batchgen.engine.format.MappedRegions;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and {@code data_offsets}, then the raw data. Every field is checked
 * against the file before anything is mapped; tensor data is memory-mapped, never read onto the
 * heap.
 */
public final class SafetensorsFile {
  /** The format's own limit on the JSON header. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private final Path path;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path path, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.path = path;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public Path path() {
    return path;
  }

  /** Tensors by name, in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The optional {@code __metadata__} string map. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Parses and validates {@code file} and maps its tensors.
   *
   * @throws ModelFormatException naming the file and the first problem found
   */
  public static SafetensorsFile open(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw ModelFormatException.of(file, "safetensors file is " + size
            + " bytes, shorter than its 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, file);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
        throw ModelFormatException.of(file, "bad safetensors header length " + headerLen
            + " (file is " + size + " bytes, limit " + MAX_HEADER_BYTES + "); the file is"
            + " truncated or not a safetensors file");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8, file);
      String json = new String(header.array(), StandardCharsets.UTF_8);
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      return parse(file, ch, json, dataStart, dataLen);
    } catch (NoSuchFileException e) {
      throw ModelFormatException.of(file, "file not found");
    } catch (IOException e) {
      throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
    }
  }

  private static SafetensorsFile parse(Path file, FileChannel ch, String json, long dataStart,
      long dataLen) {
    JsonObject root;
    try {
      JsonElement el = JsonParser.parseString(json);
      if (!el.isJsonObject()) {
        throw ModelFormatException.of(file, "safetensors header is not a JSON object");
      }
      root = el.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw ModelFormatException.of(file, "safetensors header is not valid JSON: " + e.getMessage());
    } catch (StackOverflowError e) {
      throw ModelFormatException.of(file, "safetensors header JSON is nested too deeply");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    List<DType> dtypes = new ArrayList<>();
    List<long[]> shapes = new ArrayList<>();
    List<MappedRegions.Range> ranges = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : root.entrySet()) {
      String name = e.getKey();
      if (name.equals("__metadata__")) {
        if (!e.getValue().isJsonObject()) {
          throw ModelFormatException.of(file, "__metadata__ is not a JSON object");
        }
        for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
          if (!m.getValue().isJsonPrimitive()) {
            throw ModelFormatException.of(file, "__metadata__ value [" + m.getKey()
                + "] is not a string");
          }
          metadata.put(m.getKey(), m.getValue().getAsString());
        }
        continue;
      }
      if (!e.getValue().isJsonObject()) {
        throw ModelFormatException.of(file, "tensor [" + name + "] entry is not a JSON object");
      }
      JsonObject t = e.getValue().getAsJsonObject();
      DType dtype = dtype(file, name, t.get("dtype"));
      long[] shape = longArray(file, name, "shape", t.get("shape"), -1);
      long[] offsets = longArray(file, name, "data_offsets", t.get("data_offsets"), 2);
      long elements = 1;
      for (long d : shape) {
        if (d < 0) {
          throw ModelFormatException.of(file, "tensor [" + name + "] has negative dimension in"
              + " shape " + java.util.Arrays.toString(shape));
        }
        try {
          elements = Math.multiplyExact(elements, d);
        } catch (ArithmeticException ex) {
          throw ModelFormatException.of(file, "tensor [" + name + "] shape "
              + java.util.Arrays.toString(shape) + " overflows");
        }
      }
      long bytes;
      try {
        bytes = dtype.bytesFor(elements);
      } catch (ArithmeticException ex) {
        bytes = -1;
      }
      long begin = offsets[0];
      long end = offsets[1];
      if (begin < 0 || end < begin || end > dataLen) {
        throw ModelFormatException.of(file, "tensor [" + name + "] data_offsets [" + begin + ", "
            + end + "] are outside the " + dataLen + "-byte data section; the file is truncated"
            + " or corrupt");
      }
      if (end - begin != bytes) {
        throw ModelFormatException.of(file, "tensor [" + name + "] has " + (end - begin)
            + " bytes but dtype " + dtype + " and shape " + java.util.Arrays.toString(shape)
            + " need " + bytes);
      }
      names.add(name);
      dtypes.add(dtype);
      shapes.add(shape);
      ranges.add(new MappedRegions.Range(dataStart + begin, dataStart + end));
    }
    checkNoOverlap(file, names, ranges);
    List<MappedRegions.Range> nonEmpty = new ArrayList<>();
    for (MappedRegions.Range r : ranges) {
      nonEmpty.add(r.end() > r.start() ? r : new MappedRegions.Range(dataStart, dataStart));
    }
    List<ByteBuffer> buffers = MappedRegions.map(file, ch, nonEmpty);
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      tensors.put(names.get(i), new TensorInfo(names.get(i), dtypes.get(i), shapes.get(i),
          buffers.get(i), new FileRegion(file, nonEmpty.get(i).start())));
    }
    return new SafetensorsFile(file, tensors, metadata);
  }

  private static void checkNoOverlap(Path file, List<String> names, List<MappedRegions.Range> r) {
    Integer[] order = new Integer[r.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compare(r.get(a).start(), r.get(b).start()));
    for (int i = 1; i < order.length; i++) {
      MappedRegions.Range prev = r.get(order[i - 1]);
      MappedRegions.Range cur = r.get(order[i]);
      if (cur.start() < prev.end() && cur.end() > cur.start()) {
        throw ModelFormatException.of(file, "tensors [" + names.get(order[i - 1]) + "] and ["
            + names.get(order[i]) + "] overlap in the data section");
      }
    }
  }

  private static DType dtype(Path file, String name, JsonElement el) {
    if (el == null || !el.isJsonPrimitive() || !el.getAsJsonPrimitive().isString()) {
      throw ModelFormatException.of(file, "tensor [" + name + "] has no string dtype");
    }
    String s = el.getAsString();
    return switch (s) {
      case "F32" -> DType.F32;
      case "F16" -> DType.F16;
      case "BF16" -> DType.BF16;
      default -> throw ModelFormatException.of(file, "tensor [" + name + "] has dtype [" + s
          + "], supported: F32, F16, BF16");
    };
  }

  private static long[] longArray(Path file, String name, String field, JsonElement el,
      int expectedLength) {
    if (el == null || !el.isJsonArray()) {
      throw ModelFormatException.of(file, "tensor [" + name + "] has no array [" + field + "]");
    }
    var arr = el.getAsJsonArray();
    if (expectedLength >= 0 && arr.size() != expectedLength) {
      throw ModelFormatException.of(file, "tensor [" + name + "] field [" + field + "] has "
          + arr.size() + " entries, expected " + expectedLength);
    }
    if (arr.size() > 8) {
      throw ModelFormatException.of(file, "tensor [" + name + "] has " + arr.size()
          + " dimensions; at most 8 are supported");
    }
    long[] out = new long[arr.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement v = arr.get(i);
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
        throw ModelFormatException.of(file, "tensor [" + name + "] field [" + field
            + "] holds a non-number " + v);
      }
      try {
        out[i] = v.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        throw ModelFormatException.of(file, "tensor [" + name + "] field [" + field
            + "] holds " + v + ", not a 64-bit integer");
      }
    }
    return out;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file)
      throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw ModelFormatException.of(file, "unexpected end of file");
      }
    }
  }

  /** Lists the {@code .safetensors} files of {@code dir} (sorted). */
  public static List<Path> list(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
    }
  }
}
