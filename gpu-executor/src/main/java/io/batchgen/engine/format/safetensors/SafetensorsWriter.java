package io.batchgen.engine.format.safetensors;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.TensorSource;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes one {@code .safetensors} file, streaming each tensor's bytes from its source. */
public final class SafetensorsWriter {
  private record Entry(String name, DType dtype, long[] shape, TensorSource source) {
  }

  private final List<Entry> entries = new ArrayList<>();

  /** Adds a tensor; shape is row-major (outermost first). */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, TensorSource source) {
    if (dtype == DType.Q8_0) {
      throw new IllegalArgumentException("safetensors has no Q8_0 dtype (tensor " + name + ")");
    }
    long elements = 1;
    for (long d : shape) {
      elements *= d;
    }
    if (dtype.bytesFor(elements) != source.bytes()) {
      throw new IllegalArgumentException("Tensor " + name + " source has " + source.bytes()
          + " bytes, shape needs " + dtype.bytesFor(elements));
    }
    entries.add(new Entry(name, dtype, shape.clone(), source));
    return this;
  }

  public long dataBytes() {
    long n = 0;
    for (Entry e : entries) {
      n += e.source().bytes();
    }
    return n;
  }

  public void write(Path file, Map<String, String> metadata) throws IOException {
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add("__metadata__", meta);
    }
    long offset = 0;
    for (Entry e : entries) {
      JsonObject t = new JsonObject();
      t.addProperty("dtype", e.dtype().name());
      JsonArray shape = new JsonArray();
      for (long d : e.shape()) {
        shape.add(d);
      }
      t.add("shape", shape);
      JsonArray offs = new JsonArray();
      offs.add(offset);
      offs.add(offset + e.source().bytes());
      t.add("data_offsets", offs);
      header.add(e.name(), t);
      offset += e.source().bytes();
    }
    StringBuilder json = new StringBuilder(header.toString());
    while ((json.length() + 8) % 8 != 0 || json.toString().getBytes(StandardCharsets.UTF_8).length
        % 8 != 0) {
      json.append(' ');
    }
    byte[] headerBytes = json.toString().getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      len.putLong(headerBytes.length);
      out.write(len.array());
      out.write(headerBytes);
      for (Entry e : entries) {
        e.source().write(out);
      }
    }
  }
}
