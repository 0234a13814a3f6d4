package io.batchgen.engine.format.gguf;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.TensorSource;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a GGUF v3 file the way llama.cpp's gguf writer lays it out: header, metadata, tensor
 * infos with dims innermost first, padding to 32 bytes, then each tensor's data at an aligned
 * offset. Tensor bytes are streamed from their sources.
 */
public final class GgufWriter {
  private interface Value {
    void write(LeOut out) throws IOException;
  }

  private record Kv(String key, Value value) {
  }

  private record Tensor(String name, DType dtype, long[] shape, TensorSource source) {
  }

  private final List<Kv> kvs = new ArrayList<>();
  private final List<Tensor> tensors = new ArrayList<>();

  public GgufWriter putString(String key, String v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.STRING);
      o.str(v);
    }));
    return this;
  }

  public GgufWriter putU32(String key, long v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.UINT32);
      o.i32((int) v);
    }));
    return this;
  }

  public GgufWriter putF32(String key, float v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.FLOAT32);
      o.f32(v);
    }));
    return this;
  }

  public GgufWriter putBool(String key, boolean v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.BOOL);
      o.u8(v ? 1 : 0);
    }));
    return this;
  }

  public GgufWriter putStrings(String key, List<String> v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.ARRAY);
      o.i32(GgufValueType.STRING);
      o.i64(v.size());
      for (String s : v) {
        o.str(s);
      }
    }));
    return this;
  }

  public GgufWriter putI32s(String key, int[] v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.ARRAY);
      o.i32(GgufValueType.INT32);
      o.i64(v.length);
      for (int x : v) {
        o.i32(x);
      }
    }));
    return this;
  }

  public GgufWriter putF32s(String key, float[] v) {
    kvs.add(new Kv(key, o -> {
      o.i32(GgufValueType.ARRAY);
      o.i32(GgufValueType.FLOAT32);
      o.i64(v.length);
      for (float x : v) {
        o.f32(x);
      }
    }));
    return this;
  }

  /** Adds a tensor; {@code shape} is row-major (outermost first) and is reversed into GGUF dims. */
  public GgufWriter addTensor(String name, DType dtype, long[] shape, TensorSource source) {
    long elements = 1;
    for (long d : shape) {
      elements *= d;
    }
    if (dtype.bytesFor(elements) != source.bytes()) {
      throw new IllegalArgumentException("Tensor " + name + " source has " + source.bytes()
          + " bytes, shape needs " + dtype.bytesFor(elements));
    }
    tensors.add(new Tensor(name, dtype, shape.clone(), source));
    return this;
  }

  public void write(Path file) throws IOException {
    long align = GgufFile.DEFAULT_ALIGNMENT;
    try (LeOut o = new LeOut(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20))) {
      o.i32(GgufFile.MAGIC);
      o.i32(3);
      o.i64(tensors.size());
      o.i64(kvs.size());
      for (Kv kv : kvs) {
        o.str(kv.key());
        kv.value().write(o);
      }
      long offset = 0;
      for (Tensor t : tensors) {
        o.str(t.name());
        o.i32(t.shape().length);
        for (int d = t.shape().length - 1; d >= 0; d--) {
          o.i64(t.shape()[d]);
        }
        o.i32(GgmlType.of(t.dtype()));
        o.i64(offset);
        offset += pad(t.source().bytes(), align);
      }
      o.padTo(align);
      for (Tensor t : tensors) {
        long start = o.written;
        t.source().write(o);
        if (o.written - start != t.source().bytes()) {
          throw new IOException("Tensor " + t.name() + " wrote " + (o.written - start)
              + " bytes, declared " + t.source().bytes());
        }
        o.padTo(align);
      }
    }
  }

  private static long pad(long n, long align) {
    return (n + align - 1) / align * align;
  }

  /** Little-endian output that counts bytes. */
  private static final class LeOut extends OutputStream {
    private final DataOutputStream out;
    long written;

    LeOut(OutputStream out) {
      this.out = new DataOutputStream(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      written++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      written += len;
    }

    void u8(int v) throws IOException {
      write(v);
    }

    void i32(int v) throws IOException {
      out.writeInt(Integer.reverseBytes(v));
      written += 4;
    }

    void i64(long v) throws IOException {
      out.writeLong(Long.reverseBytes(v));
      written += 8;
    }

    void f32(float v) throws IOException {
      i32(Float.floatToRawIntBits(v));
    }

    void str(String s) throws IOException {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      i64(b.length);
      write(b, 0, b.length);
    }

    void padTo(long align) throws IOException {
      while (written % align != 0) {
        write(0);
      }
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
