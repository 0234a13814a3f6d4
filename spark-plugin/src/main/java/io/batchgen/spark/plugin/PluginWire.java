package io.batchgen.spark.plugin;

import io.batchgen.spark.plugin.PluginMessages.Message;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The wire format of the plugin messages: what crosses Spark's plugin RPC is a {@code byte[]}
 * and nothing else, because the executor's RPC layer deserialises replies with the JVM's system
 * class loader, which on a real cluster holds Spark's jars but not the application jar (a class
 * of ours fails there with ClassNotFoundException). A byte array is a JDK type every side can
 * read; the bytes inside are this project's own encoding.
 *
 * <p>Frame: {@code 'B' 'G'}, the protocol {@link #VERSION} (one byte), the message's tag (one
 * byte), then the message's fields in the order its {@code write} puts them: integers big-endian,
 * strings as a length and UTF-8 bytes (length -1 for a null), byte arrays as a length and the
 * bytes (payloads of several MB are fine). Decoding is strict: a wrong magic, another version, an
 * unknown tag, a field that runs past the end, a bad length, invalid UTF-8 or bytes left over all
 * fail with a {@link PluginProtocolException} that names the message and field.
 *
 * <p>Adding a message kind: a record implementing {@link Message} with its {@code write} and a
 * static {@code read}, and one line with the next free tag in {@link #BY_TAG}. A field added to an
 * existing message changes the layout: bump {@link #VERSION}. Driver and executors always run the
 * same jar, so the version must simply match.
 */
public final class PluginWire {
  /** The protocol version this build speaks; a message of any other version is refused. */
  public static final int VERSION = 4;

  private static final byte MAGIC_0 = 'B';
  private static final byte MAGIC_1 = 'G';
  private static final int HEADER_BYTES = 4;

  /** One message kind: its tag on the wire (never reused), name, class and field reader. */
  private record Kind(int tag, String name, Class<? extends Message> type,
      Function<In, Message> read) {
  }

  /** Every kind, by tag. A new kind takes the next free tag; a tag is never reused. */
  private static final Map<Integer, Kind> BY_TAG = kinds(
      new Kind(1, "Register", PluginMessages.Register.class, PluginMessages.Register::read),
      new Kind(2, "Welcome", PluginMessages.Welcome.class, PluginMessages.Welcome::read),
      new Kind(3, "LoadReport", PluginMessages.LoadReport.class, PluginMessages.LoadReport::read),
      new Kind(4, "Ping", PluginMessages.Ping.class, PluginMessages.Ping::read),
      new Kind(5, "Pong", PluginMessages.Pong.class, PluginMessages.Pong::read),
      new Kind(6, "StartFailed", PluginMessages.StartFailed.class,
          PluginMessages.StartFailed::read),
      new Kind(7, "Orders", PluginMessages.Orders.class, PluginMessages.Orders::read),
      new Kind(8, "StateChunk", PluginMessages.StateChunk.class, PluginMessages.StateChunk::read),
      new Kind(9, "FetchChunk", PluginMessages.FetchChunk.class, PluginMessages.FetchChunk::read),
      new Kind(10, "Ack", PluginMessages.Ack.class, PluginMessages.Ack::read),
      new Kind(11, "MoveDone", PluginMessages.MoveDone.class, PluginMessages.MoveDone::read),
      new Kind(12, "TaskProgress", PluginMessages.TaskProgress.class,
          PluginMessages.TaskProgress::read));

  private static Map<Integer, Kind> kinds(Kind... kinds) {
    Map<Integer, Kind> m = new LinkedHashMap<>();
    for (Kind k : kinds) {
      if (m.put(k.tag(), k) != null || k.tag() < 1 || k.tag() > 255) {
        throw new IllegalStateException("Plugin message tag " + k.tag() + " reused or out of "
            + "range 1..255");
      }
    }
    return Collections.unmodifiableMap(m);
  }

  private PluginWire() {
  }

  /** The message as the bytes to hand to {@code PluginContext.ask/send} or to return as a reply. */
  public static byte[] encode(Message message) {
    Out out = new Out();
    out.u8(MAGIC_0).u8(MAGIC_1).u8(VERSION).u8(tagOf(message));
    message.write(out);
    return out.toByteArray();
  }

  /**
   * The message in {@code received}, which must be bytes made by {@link #encode}.
   *
   * @throws PluginProtocolException when it is anything else, naming what is wrong
   */
  public static Message decode(Object received) {
    if (!(received instanceof byte[] bytes)) {
      throw new PluginProtocolException("Expected a BatchGen plugin message (byte[]), got "
          + (received == null ? "null" : received.getClass().getName())
          + "; driver and executors must run the same BatchGen version");
    }
    if (bytes.length < HEADER_BYTES || bytes[0] != MAGIC_0 || bytes[1] != MAGIC_1) {
      throw new PluginProtocolException("Not a BatchGen plugin message: " + bytes.length
          + " bytes starting " + hexPrefix(bytes));
    }
    int version = bytes[2] & 0xff;
    if (version != VERSION) {
      throw new PluginProtocolException("BatchGen plugin message of protocol version " + version
          + ", this side speaks version " + VERSION + ": driver and executors run different "
          + "BatchGen versions; deploy the same BatchGen jar to both");
    }
    int tag = bytes[3] & 0xff;
    Kind kind = BY_TAG.get(tag);
    if (kind == null) {
      throw new PluginProtocolException("Unknown BatchGen plugin message tag " + tag
          + " (protocol version " + VERSION + " knows " + knownTags() + ")");
    }
    In in = new In(ByteBuffer.wrap(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES),
        kind.name());
    Message m = kind.read().apply(in);
    in.expectEnd();
    return m;
  }

  /** {@link #decode} checked against the expected type. */
  public static <T extends Message> T decode(Object received, Class<T> expected) {
    Message m = decode(received);
    if (!expected.isInstance(m)) {
      throw new PluginProtocolException("Expected a " + expected.getSimpleName()
          + " message, got " + m.getClass().getSimpleName());
    }
    return expected.cast(m);
  }

  /** The wire tag of {@code message}'s kind. */
  static int tagOf(Message message) {
    for (Kind k : BY_TAG.values()) {
      if (k.type() == message.getClass()) {
        return k.tag();
      }
    }
    throw new IllegalStateException(message.getClass().getSimpleName() + " has no tag in "
        + "PluginWire; register its kind there");
  }

  private static String knownTags() {
    StringBuilder sb = new StringBuilder();
    BY_TAG.forEach((tag, k) -> sb.append(sb.length() == 0 ? "" : ", ").append(tag).append(' ')
        .append(k.name()));
    return sb.toString();
  }

  private static String hexPrefix(byte[] bytes) {
    StringBuilder sb = new StringBuilder("0x");
    for (int i = 0; i < Math.min(8, bytes.length); i++) {
      sb.append(String.format("%02x", bytes[i]));
    }
    return sb.toString();
  }

  /** Writes fields; what each message's {@code write} gets. */
  public static final class Out {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    private final DataOutputStream data = new DataOutputStream(bytes);

    Out u8(int v) {
      return run(() -> data.writeByte(v));
    }

    public Out i32(int v) {
      return run(() -> data.writeInt(v));
    }

    public Out i64(long v) {
      return run(() -> data.writeLong(v));
    }

    public Out bool(boolean v) {
      return u8(v ? 1 : 0);
    }

    public Out f64(double v) {
      return run(() -> data.writeDouble(v));
    }

    /** An int array (not null): length, then the values. */
    public Out ints(int[] v) {
      i32(v.length);
      for (int x : v) {
        i32(x);
      }
      return this;
    }

    /** A list: its size, then each element as {@code element} writes it. */
    public <T> Out list(java.util.List<T> items, java.util.function.BiConsumer<Out, T> element) {
      i32(items.size());
      for (T t : items) {
        element.accept(this, t);
      }
      return this;
    }

    /** A string, null allowed. */
    public Out string(String s) {
      if (s == null) {
        return i32(-1);
      }
      return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A byte array (not null): length, then the bytes. */
    public Out bytes(byte[] b) {
      i32(b.length);
      return run(() -> data.write(b));
    }

    byte[] toByteArray() {
      return bytes.toByteArray();
    }

    private interface Write {
      void run() throws IOException;
    }

    private Out run(Write w) {
      try {
        w.run();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
      }
      return this;
    }
  }

  /** Reads fields of one message, naming the message and field in every error. */
  public static final class In {
    private final ByteBuffer buf;
    private final String message;

    In(ByteBuffer buf, String message) {
      this.buf = buf;
      this.message = message;
    }

    public int i32(String field) {
      need(field, Integer.BYTES);
      return buf.getInt();
    }

    public long i64(String field) {
      need(field, Long.BYTES);
      return buf.getLong();
    }

    public boolean bool(String field) {
      need(field, 1);
      int v = buf.get();
      if (v != 0 && v != 1) {
        throw bad(field, "boolean byte " + v + " is neither 0 nor 1");
      }
      return v == 1;
    }

    public double f64(String field) {
      need(field, Double.BYTES);
      return buf.getDouble();
    }

    public int[] ints(String field) {
      int n = count(field);
      need(field, (int) Math.min(Integer.MAX_VALUE, 4L * n));
      int[] v = new int[n];
      for (int i = 0; i < n; i++) {
        v[i] = buf.getInt();
      }
      return v;
    }

    /** A list written by {@link Out#list}. */
    public <T> java.util.List<T> list(String field, java.util.function.Function<In, T> element) {
      int n = count(field);
      if (n > buf.remaining()) {
        throw bad(field, "declares " + n + " elements in " + buf.remaining() + " bytes"
            + " (truncated message)");
      }
      java.util.List<T> out = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(element.apply(this));
      }
      return out;
    }

    /** One of {@code values} by its ordinal. */
    public <E extends Enum<E>> E enumValue(String field, E[] values) {
      int v = i32(field);
      if (v < 0 || v >= values.length) {
        throw bad(field, "value " + v + " is not one of 0.." + (values.length - 1));
      }
      return values[v];
    }

    /** A non-negative int, e.g. a count. */
    public int count(String field) {
      int v = i32(field);
      if (v < 0) {
        throw bad(field, "count " + v + " is negative");
      }
      return v;
    }

    /** A string that may be null. */
    public String nullableString(String field) {
      int n = i32(field);
      if (n == -1) {
        return null;
      }
      return utf8(field, rawBytes(field, n));
    }

    /** A string that must be present. */
    public String string(String field) {
      String s = nullableString(field);
      if (s == null) {
        throw bad(field, "is null but required");
      }
      return s;
    }

    public byte[] bytes(String field) {
      return rawBytes(field, i32(field));
    }

    private byte[] rawBytes(String field, int n) {
      if (n < 0) {
        throw bad(field, "length " + n + " is negative");
      }
      need(field, n);
      byte[] b = new byte[n];
      buf.get(b);
      return b;
    }

    private String utf8(String field, byte[] b) {
      try {
        CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(b));
        return chars.toString();
      } catch (CharacterCodingException e) {
        throw bad(field, "is not valid UTF-8");
      }
    }

    private void need(String field, int n) {
      if (buf.remaining() < n) {
        throw bad(field, "needs " + n + " bytes but only " + buf.remaining() + " remain "
            + "(truncated message)");
      }
    }

    void expectEnd() {
      if (buf.hasRemaining()) {
        throw new PluginProtocolException("BatchGen plugin message " + message + " has "
            + buf.remaining() + " unexpected trailing bytes");
      }
    }

    private PluginProtocolException bad(String field, String what) {
      return new PluginProtocolException("Malformed BatchGen plugin message " + message
          + ": field " + field + " " + what);
    }
  }

  /** A message that cannot be decoded; its text says why. Never sent over the RPC itself. */
  public static final class PluginProtocolException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    PluginProtocolException(String message) {
      super(message);
    }
  }
}
