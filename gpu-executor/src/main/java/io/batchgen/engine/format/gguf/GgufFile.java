package io.batchgen.engine.format.gguf;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.FileRegion;
import io.batchgen.engine.format.MappedRegions;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.TensorInfo;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a GGUF (version 2 or 3) file as llama.cpp writes it: magic, version, tensor and key/value
 * counts, typed metadata, tensor infos (dims innermost first, ggml type, offset), padding to
 * {@code general.alignment}, then tensor data, which is memory-mapped.
 *
 * <p>Metadata values are {@link Long} (all integer types; uint64 above 2^63 wraps), {@link Double}
 * (float32/float64), {@link Boolean}, {@link String}, or an unmodifiable {@link List} of those.
 * Every count and length is checked against the bytes left before anything is allocated, so a
 * corrupt file fails with a {@link ModelFormatException}, never an out-of-memory error.
 */
public final class GgufFile {
  static final int MAGIC = 0x46554747; // "GGUF" little-endian
  static final int DEFAULT_ALIGNMENT = 32;
  private static final int MAX_DIMS = 4;
  /** Largest metadata array accepted (vocabularies are a few hundred thousand entries). */
  private static final long MAX_ARRAY = 1L << 24;

  private final Path path;
  private final int version;
  private final Map<String, Object> metadata;
  private final Map<String, TensorInfo> tensors;

  private GgufFile(Path path, int version, Map<String, Object> metadata,
      Map<String, TensorInfo> tensors) {
    this.path = path;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  public Path path() {
    return path;
  }

  public int version() {
    return version;
  }

  /** Metadata in file order. */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /** Tensors in file order; shapes are row-major (GGUF dims reversed). */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** Parses, validates and maps {@code file}. */
  public static GgufFile open(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long headerWindow = Math.min(size, Integer.MAX_VALUE - 16);
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, headerWindow)
          .order(ByteOrder.LITTLE_ENDIAN);
      return new Parser(file, buf, size).parse(ch);
    } catch (NoSuchFileException e) {
      throw ModelFormatException.of(file, "file not found");
    } catch (IOException e) {
      throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
    }
  }

  /** ggml type id to our dtype, or null when unsupported. */
  static DType dtypeOf(int ggmlType) {
    return switch (ggmlType) {
      case GgmlType.F32 -> DType.F32;
      case GgmlType.F16 -> DType.F16;
      case GgmlType.Q8_0 -> DType.Q8_0;
      case GgmlType.BF16 -> DType.BF16;
      default -> null;
    };
  }

  private static final class Parser {
    private final Path file;
    private final ByteBuffer buf;
    private final long fileSize;

    Parser(Path file, ByteBuffer buf, long fileSize) {
      this.file = file;
      this.buf = buf;
      this.fileSize = fileSize;
    }

    GgufFile parse(FileChannel ch) {
      try {
        return doParse(ch);
      } catch (BufferUnderflowException e) {
        throw fail("unexpected end of header at byte " + buf.position()
            + "; the file is truncated");
      }
    }

    private GgufFile doParse(FileChannel ch) {
      if (buf.remaining() < 4 || buf.getInt() != MAGIC) {
        throw fail("not a GGUF file (bad magic)");
      }
      int version = buf.getInt();
      if (version != 2 && version != 3) {
        throw fail("GGUF version " + version + " is not supported (2 and 3 are)");
      }
      long tensorCount = buf.getLong();
      long kvCount = buf.getLong();
      // Each tensor info takes at least 8+4+8+4+8 bytes, each kv at least 8+4+1.
      if (tensorCount < 0 || tensorCount > buf.remaining() / 32) {
        throw fail("tensor count " + tensorCount + " is impossible for a "
            + fileSize + "-byte file");
      }
      if (kvCount < 0 || kvCount > buf.remaining() / 13) {
        throw fail("metadata count " + kvCount + " is impossible for a " + fileSize
            + "-byte file");
      }
      Map<String, Object> meta = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = string("metadata key #" + i);
        int type = buf.getInt();
        Object value = value(type, key, 0);
        if (meta.put(key, value) != null) {
          throw fail("metadata key [" + key + "] appears twice");
        }
      }
      long alignment = DEFAULT_ALIGNMENT;
      Object al = meta.get("general.alignment");
      if (al != null) {
        if (!(al instanceof Long a) || a <= 0 || Long.bitCount(a) != 1 || a > (1 << 20)) {
          throw fail("general.alignment [" + al + "] is not a power of two");
        }
        alignment = (Long) al;
      }
      List<String> names = new ArrayList<>();
      List<DType> dtypes = new ArrayList<>();
      List<long[]> shapes = new ArrayList<>();
      List<long[]> offsets = new ArrayList<>();
      for (long i = 0; i < tensorCount; i++) {
        String name = string("tensor name #" + i);
        int nDims = buf.getInt();
        if (nDims < 1 || nDims > MAX_DIMS) {
          throw fail("tensor [" + name + "] has " + nDims + " dimensions (1.." + MAX_DIMS
              + " allowed)");
        }
        long[] ne = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
          ne[d] = buf.getLong();
          if (ne[d] <= 0 || ne[d] > (1L << 40)) {
            throw fail("tensor [" + name + "] has invalid dimension " + ne[d]);
          }
          elements = multiply(elements, ne[d], name);
        }
        int type = buf.getInt();
        DType dtype = dtypeOf(type);
        if (dtype == null) {
          throw fail("tensor [" + name + "] has ggml type " + type + " ("
              + GgmlType.name(type) + "); supported: F32, F16, BF16, Q8_0");
        }
        if (ne[0] % dtype.blockElements() != 0) {
          throw fail("tensor [" + name + "] row length " + ne[0] + " is not a multiple of the "
              + dtype + " block size " + dtype.blockElements());
        }
        long offset = buf.getLong();
        if (offset < 0 || offset % alignment != 0) {
          throw fail("tensor [" + name + "] offset " + offset + " is not aligned to "
              + alignment);
        }
        long bytes = dtype.bytesFor(elements);
        if (names.contains(name)) {
          throw fail("tensor [" + name + "] appears twice");
        }
        long[] shape = new long[nDims];
        for (int d = 0; d < nDims; d++) {
          shape[d] = ne[nDims - 1 - d];
        }
        names.add(name);
        dtypes.add(dtype);
        shapes.add(shape);
        offsets.add(new long[] {offset, bytes});
      }
      long dataStart = (buf.position() + alignment - 1) / alignment * alignment;
      long dataLen = fileSize - dataStart;
      List<MappedRegions.Range> ranges = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        long off = offsets.get(i)[0];
        long bytes = offsets.get(i)[1];
        if (dataLen < 0 || off > dataLen || bytes > dataLen - off) {
          throw fail("tensor [" + names.get(i) + "] data [" + off + ", " + (off + bytes)
              + ") runs past the end of the data section (" + Math.max(dataLen, 0)
              + " bytes); the file is truncated");
        }
        ranges.add(new MappedRegions.Range(dataStart + off, dataStart + off + bytes));
      }
      List<ByteBuffer> data = MappedRegions.map(file, ch, ranges);
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        tensors.put(names.get(i), new TensorInfo(names.get(i), dtypes.get(i), shapes.get(i),
            data.get(i), new FileRegion(file, ranges.get(i).start())));
      }
      return new GgufFile(file, version, Collections.unmodifiableMap(meta),
          Collections.unmodifiableMap(tensors));
    }

    private long multiply(long a, long b, String name) {
      try {
        return Math.multiplyExact(a, b);
      } catch (ArithmeticException e) {
        throw fail("tensor [" + name + "] element count overflows");
      }
    }

    private Object value(int type, String key, int depth) {
      switch (type) {
        case GgufValueType.UINT8:
          return (long) (buf.get() & 0xff);
        case GgufValueType.INT8:
          return (long) buf.get();
        case GgufValueType.UINT16:
          return (long) (buf.getShort() & 0xffff);
        case GgufValueType.INT16:
          return (long) buf.getShort();
        case GgufValueType.UINT32:
          return buf.getInt() & 0xffffffffL;
        case GgufValueType.INT32:
          return (long) buf.getInt();
        case GgufValueType.FLOAT32:
          return (double) buf.getFloat();
        case GgufValueType.BOOL: {
          byte b = buf.get();
          if (b != 0 && b != 1) {
            throw fail("metadata [" + key + "] bool has byte value " + b);
          }
          return b == 1;
        }
        case GgufValueType.STRING:
          return string("metadata [" + key + "]");
        case GgufValueType.UINT64:
        case GgufValueType.INT64:
          return buf.getLong();
        case GgufValueType.FLOAT64:
          return buf.getDouble();
        case GgufValueType.ARRAY: {
          if (depth > 0) {
            throw fail("metadata [" + key + "] nests arrays, which GGUF readers do not support");
          }
          int elemType = buf.getInt();
          long count = buf.getLong();
          int minSize = GgufValueType.minSize(elemType);
          if (minSize <= 0) {
            throw fail("metadata [" + key + "] array has unknown element type " + elemType);
          }
          if (count < 0 || count > buf.remaining() / minSize || count > MAX_ARRAY) {
            throw fail("metadata [" + key + "] array claims " + count + " elements, more than"
                + " the " + buf.remaining() + " bytes left; the file is truncated or corrupt");
          }
          List<Object> list = new ArrayList<>((int) count);
          for (long i = 0; i < count; i++) {
            list.add(value(elemType, key, depth + 1));
          }
          return Collections.unmodifiableList(list);
        }
        default:
          throw fail("metadata [" + key + "] has unknown value type " + type);
      }
    }

    private String string(String what) {
      long len = buf.getLong();
      if (len < 0 || len > buf.remaining()) {
        throw fail(what + " has string length " + len + " but only " + buf.remaining()
            + " bytes are left; the file is truncated or corrupt");
      }
      byte[] b = new byte[(int) len];
      buf.get(b);
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(b)).toString();
      } catch (CharacterCodingException e) {
        throw fail(what + " is not valid UTF-8");
      }
    }

    private ModelFormatException fail(String problem) {
      return ModelFormatException.of(file, problem);
    }
  }
}
