package io.batchgen.core.snapshot;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.batchgen.core.sampling.SamplingParams;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The one format in which a sequence's state leaves a runtime: {@link SequenceSnapshot}s to bytes
 * and back, for migration between executors and for tests that resume elsewhere.
 *
 * <p>Format (version {@value #VERSION}), streamed with bounded buffers in both directions:
 * <pre>
 *   "BGSQ" magic (4 bytes), version (int)
 *   frame*: kind (1 byte), payload length (int), payload, CRC32C of the payload (int)
 *     HEADER  once, first: the object state (id, model facts, tokens, positions, sampling),
 *             Kryo 5 (the relocated {@code kryo5} artifact, which does not clash with Spark's
 *             Kryo 4)
 *     KV      zero or more, in order: the KV of positions [0, position) in {@code KvLayout}
 *             order ({@code (layers, 2, position, kvDim)}), little-endian floats, at most
 *             {@value #KV_FRAME_FLOATS} per frame
 *     END     once, last, empty
 * </pre>
 * The KV is indexed by position, not by KV block, so source and destination may use different
 * block sizes. Readers refuse other magics and versions, verify every frame's checksum and every
 * length against what the header declares, so a truncated, corrupted or foreign payload fails
 * with a message instead of resuming garbage.
 *
 * <p>Thread-safe: every call uses its own Kryo instance and buffers.
 */
public final class SnapshotCodec {
  /** Current format version; bump on any layout change. */
  public static final int VERSION = 2;
  private static final int MAGIC = 0x42475351; // "BGSQ"
  /** 1 Mi floats (4 MiB) per KV frame: the most either side buffers at once. */
  static final int KV_FRAME_FLOATS = 1 << 20;
  private static final byte HEADER = 1;
  private static final byte KV = 2;
  private static final byte END = 3;
  /** Upper bound of the header frame (ids and stop strings are short; tokens ≤ 5 bytes each). */
  private static final int MAX_HEADER_BYTES = 64 << 20;

  private SnapshotCodec() {
  }

  /** Serialises one snapshot into a byte array. */
  public static byte[] encode(SequenceSnapshot snapshot) {
    long kvBytes = snapshot.kv() == null ? 0 : 4L * snapshot.kv().length;
    ByteArrayOutputStream out = new ByteArrayOutputStream(
        (int) Math.min(Integer.MAX_VALUE - 16, 256 + snapshot.tokens().length * 5L + kvBytes
            + 16L * (kvBytes / (4L * KV_FRAME_FLOATS) + 3)));
    try {
      encode(snapshot, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array stream does not fail
    }
    return out.toByteArray();
  }

  /** Streams one snapshot to {@code out} (which stays open). */
  public static void encode(SequenceSnapshot snapshot, OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeInt(MAGIC);
    data.writeInt(VERSION);
    byte[] header;
    try (Output o = new Output(256 + snapshot.tokens().length * 5, MAX_HEADER_BYTES)) {
      kryo().writeObject(o, snapshot);
      header = o.toBytes();
    }
    CRC32C crc = new CRC32C();
    writeFrame(data, HEADER, header, header.length, crc);
    float[] kv = snapshot.kv();
    if (kv != null) {
      ByteBuffer buf = ByteBuffer.allocate(4 * Math.min(kv.length, KV_FRAME_FLOATS))
          .order(ByteOrder.LITTLE_ENDIAN);
      for (int off = 0; off < kv.length; off += KV_FRAME_FLOATS) {
        int n = Math.min(KV_FRAME_FLOATS, kv.length - off);
        buf.clear();
        buf.asFloatBuffer().put(kv, off, n);
        writeFrame(data, KV, buf.array(), 4 * n, crc);
      }
    }
    writeFrame(data, END, new byte[0], 0, crc);
    data.flush();
  }

  private static void writeFrame(DataOutputStream out, byte kind, byte[] payload, int length,
      CRC32C crc) throws IOException {
    crc.reset();
    crc.update(payload, 0, length);
    out.writeByte(kind);
    out.writeInt(length);
    out.write(payload, 0, length);
    out.writeInt((int) crc.getValue());
  }

  /**
   * Reads one snapshot from a byte array.
   *
   * @throws IllegalArgumentException if the bytes are not a complete, intact snapshot of a
   *                                  supported version
   */
  public static SequenceSnapshot decode(byte[] bytes) {
    try {
      SequenceSnapshot s = decode(new ByteArrayInputStream(bytes));
      return s;
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read sequence snapshot of " + bytes.length
          + " bytes: " + e.getMessage(), e);
    }
  }

  /**
   * Reads one snapshot from {@code in}, consuming exactly its bytes.
   *
   * @throws IllegalArgumentException if the stream does not hold a complete, intact snapshot of
   *                                  a supported version
   * @throws IOException              when reading {@code in} fails
   */
  public static SequenceSnapshot decode(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    int magic;
    int version;
    try {
      magic = data.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException("Not a sequence snapshot: magic 0x"
            + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(MAGIC));
      }
      version = data.readInt();
    } catch (EOFException e) {
      throw truncated("before its header", e);
    }
    if (version != VERSION) {
      throw new IllegalArgumentException("Sequence snapshot format version " + version
          + " is not supported by this build (reads version " + VERSION + "); run the same"
          + " BatchGen version on source and destination");
    }
    CRC32C crc = new CRC32C();
    byte[] header = readFrame(data, HEADER, MAX_HEADER_BYTES, null, crc);
    Header h;
    try (Input input = new Input(header)) {
      h = kryo().readObject(input, Header.class);
    } catch (KryoException e) {
      throw new IllegalArgumentException("Sequence snapshot header is inconsistent: "
          + e.getMessage(), e);
    }
    float[] kv = null;
    if (h.kvFloats >= 0) {
      kv = new float[Math.toIntExact(h.kvFloats)];
      byte[] frame = new byte[4 * Math.min(kv.length, KV_FRAME_FLOATS)];
      for (int off = 0; off < kv.length; off += KV_FRAME_FLOATS) {
        int n = Math.min(KV_FRAME_FLOATS, kv.length - off);
        readFrame(data, KV, 4 * n, frame, crc);
        ByteBuffer.wrap(frame, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
            .get(kv, off, n);
      }
    }
    readFrame(data, END, 0, null, crc);
    return new SequenceSnapshot(h.id, h.tokens, h.promptLength, h.sampling, h.position, kv,
        h.layers, h.kvDim, h.vocab, h.preemptions);
  }

  /**
   * Reads a frame of {@code kind}: into {@code into} with exactly {@code length} bytes when
   * given, else a new array of at most {@code length} bytes.
   */
  private static byte[] readFrame(DataInputStream in, byte kind, int length, byte[] into,
      CRC32C crc) throws IOException {
    try {
      byte k = in.readByte();
      if (k != kind) {
        throw new IllegalArgumentException("Sequence snapshot is corrupt: expected frame "
            + frameName(kind) + " but found " + frameName(k));
      }
      int n = in.readInt();
      if (into != null ? n != length : n < 0 || n > length) {
        throw new IllegalArgumentException("Sequence snapshot is corrupt: frame "
            + frameName(kind) + " declares " + n + " bytes, expected "
            + (into != null ? "" : "at most ") + length);
      }
      byte[] payload = into != null ? into : new byte[n];
      in.readFully(payload, 0, n);
      int expected = in.readInt();
      crc.reset();
      crc.update(payload, 0, n);
      if ((int) crc.getValue() != expected) {
        throw new IllegalArgumentException("Sequence snapshot is corrupt: the checksum of frame "
            + frameName(kind) + " does not match its " + n + " bytes");
      }
      return payload;
    } catch (EOFException e) {
      throw truncated("in frame " + frameName(kind), e);
    }
  }

  private static String frameName(byte kind) {
    return switch (kind) {
      case HEADER -> "HEADER";
      case KV -> "KV";
      case END -> "END";
      default -> "0x" + Integer.toHexString(kind & 0xff);
    };
  }

  private static IllegalArgumentException truncated(String where, EOFException e) {
    return new IllegalArgumentException("Sequence snapshot is truncated (the stream ended "
        + where + "); it was cut short in transfer or is not a BatchGen snapshot", e);
  }

  private static Kryo kryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.register(SequenceSnapshot.class, new HeaderWriter());
    kryo.register(Header.class, new HeaderReader());
    return kryo;
  }

  /** The object state of a snapshot, as read from its header frame, before the KV. */
  private static final class Header {
    String id;
    int layers;
    int kvDim;
    int vocab;
    int[] tokens;
    int promptLength;
    int position;
    int preemptions;
    SamplingParams sampling;
    long kvFloats;
  }

  private static final class HeaderWriter extends Serializer<SequenceSnapshot> {
    @Override
    public void write(Kryo kryo, Output out, SequenceSnapshot s) {
      out.writeString(s.id());
      out.writeInt(s.numLayers(), true);
      out.writeInt(s.kvDim(), true);
      out.writeInt(s.vocabSize(), true);
      int[] tokens = s.tokens();
      out.writeInt(tokens.length, true);
      out.writeInts(tokens, 0, tokens.length, true);
      out.writeInt(s.promptLength(), true);
      out.writeInt(s.position(), true);
      out.writeInt(s.preemptions(), true);
      SamplingParams p = s.sampling();
      out.writeDouble(p.temperature());
      out.writeInt(p.topK(), true);
      out.writeDouble(p.topP());
      out.writeDouble(p.minP());
      out.writeLong(p.seed());
      out.writeInt(p.maxNewTokens(), true);
      int[] stops = p.stopTokenIds();
      out.writeInt(stops.length, true);
      out.writeInts(stops, 0, stops.length, true);
      out.writeInt(p.stopStrings().size(), true);
      for (String str : p.stopStrings()) {
        out.writeString(str);
      }
      out.writeBoolean(p.ignoreEos());
      out.writeLong(s.kv() == null ? -1 : s.kv().length);
    }

    @Override
    public SequenceSnapshot read(Kryo kryo, Input in, Class<? extends SequenceSnapshot> type) {
      throw new UnsupportedOperationException("snapshots are read through their Header");
    }
  }

  private static final class HeaderReader extends Serializer<Header> {
    @Override
    public void write(Kryo kryo, Output out, Header h) {
      throw new UnsupportedOperationException("snapshots are written from SequenceSnapshot");
    }

    @Override
    public Header read(Kryo kryo, Input in, Class<? extends Header> type) {
      Header h = new Header();
      h.id = in.readString();
      h.layers = in.readInt(true);
      h.kvDim = in.readInt(true);
      h.vocab = in.readInt(true);
      h.tokens = in.readInts(checkedLength(in.readInt(true), in, 1, "tokens"), true);
      h.promptLength = in.readInt(true);
      h.position = in.readInt(true);
      h.preemptions = in.readInt(true);
      double temperature = in.readDouble();
      int topK = in.readInt(true);
      double topP = in.readDouble();
      double minP = in.readDouble();
      long seed = in.readLong();
      int maxNew = in.readInt(true);
      int[] stops = in.readInts(checkedLength(in.readInt(true), in, 1, "stop tokens"), true);
      int nStrings = checkedLength(in.readInt(true), in, 1, "stop strings");
      List<String> strings = new ArrayList<>(nStrings);
      for (int i = 0; i < nStrings; i++) {
        strings.add(in.readString());
      }
      boolean ignoreEos = in.readBoolean();
      h.kvFloats = in.readLong();
      long expected = 2L * h.layers * h.position * h.kvDim;
      if (h.kvFloats >= 0 && h.kvFloats != expected || h.kvFloats < -1
          || expected > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("Sequence snapshot [" + h.id + "] declares "
            + h.kvFloats + " KV floats for " + h.layers + " layers, position " + h.position
            + " and kvDim " + h.kvDim + "; expected " + expected);
      }
      h.sampling = new SamplingParams(temperature, topK, topP, minP, seed, maxNew, stops,
          strings, ignoreEos);
      return h;
    }

    /** Refuses lengths the remaining bytes cannot hold (corrupt data must not allocate GBs). */
    private static int checkedLength(int n, Input in, int minBytesEach, String what) {
      long remaining = in.limit() - in.position();
      if (n < 0 || (long) n * minBytesEach > remaining) {
        throw new IllegalArgumentException("Sequence snapshot declares " + n + " " + what
            + " but only " + remaining + " bytes remain in its header; it is corrupt");
      }
      return n;
    }
  }
}
