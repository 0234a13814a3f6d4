package io.batchgen.core.snapshot;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.batchgen.core.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@link SequenceSnapshot}s into bytes and back, with Kryo 5 (the relocated
 * {@code kryo5} artifact, which does not clash with the Kryo 4 that Spark ships).
 *
 * <p>Format (version {@value #VERSION}): the magic {@code "BGSQ"}, a format version, then the
 * fields in declaration order; KV as a length-prefixed float array, length -1 when absent. Readers
 * refuse other magics and versions and check every length, so a corrupt or foreign payload fails
 * with a message instead of resuming garbage.
 *
 * <p>Thread-safe: every call uses its own Kryo instance (they are cheap with no registrations
 * beyond this one).
 */
public final class SnapshotCodec {
  /** Current format version; bump on any layout change. */
  public static final int VERSION = 1;
  private static final int MAGIC = 0x42475351; // "BGSQ"

  private SnapshotCodec() {
  }

  /** Serialises one snapshot. */
  public static byte[] encode(SequenceSnapshot snapshot) {
    int kvBytes = snapshot.kv() == null ? 0 : snapshot.kv().length * 4;
    try (Output out = new Output(256 + snapshot.tokens().length * 5 + kvBytes, -1)) {
      kryo().writeObject(out, snapshot);
      return out.toBytes();
    }
  }

  /**
   * Reads one snapshot.
   *
   * @throws IllegalArgumentException if the bytes are not a snapshot of a supported version or
   *                                  are inconsistent
   */
  public static SequenceSnapshot decode(byte[] bytes) {
    try (Input in = new Input(bytes)) {
      return kryo().readObject(in, SequenceSnapshot.class);
    } catch (KryoException e) {
      throw new IllegalArgumentException("Cannot read sequence snapshot of " + bytes.length
          + " bytes: " + e.getMessage() + "; it is truncated or not a BatchGen snapshot", e);
    }
  }

  private static Kryo kryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.register(SequenceSnapshot.class, new SnapshotSerializer());
    return kryo;
  }

  private static final class SnapshotSerializer extends Serializer<SequenceSnapshot> {
    @Override
    public void write(Kryo kryo, Output out, SequenceSnapshot s) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION, true);
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
      float[] kv = s.kv();
      if (kv == null) {
        out.writeInt(-1);
      } else {
        out.writeInt(kv.length);
        out.writeFloats(kv, 0, kv.length);
      }
    }

    @Override
    public SequenceSnapshot read(Kryo kryo, Input in, Class<? extends SequenceSnapshot> type) {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException("Not a sequence snapshot: magic 0x"
            + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(MAGIC));
      }
      int version = in.readInt(true);
      if (version != VERSION) {
        throw new IllegalArgumentException("Sequence snapshot format version " + version
            + " is not supported by this build (reads version " + VERSION + "); run the same"
            + " BatchGen version on source and destination");
      }
      String id = in.readString();
      int layers = in.readInt(true);
      int kvDim = in.readInt(true);
      int vocab = in.readInt(true);
      int[] tokens = in.readInts(checkedLength(in.readInt(true), in, 1, "tokens"), true);
      int promptLength = in.readInt(true);
      int position = in.readInt(true);
      int preemptions = in.readInt(true);
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
      int kvLength = in.readInt();
      float[] kv = kvLength < 0 ? null
          : in.readFloats(checkedLength(kvLength, in, 4, "KV floats"));
      SamplingParams params = new SamplingParams(temperature, topK, topP, minP, seed, maxNew,
          stops, strings, ignoreEos);
      return new SequenceSnapshot(id, tokens, promptLength, params, position, kv, layers, kvDim,
          vocab, preemptions);
    }

    /** Refuses lengths the remaining bytes cannot hold (corrupt data must not allocate GBs). */
    private static int checkedLength(int n, Input in, int minBytesEach, String what) {
      long remaining = in.limit() - in.position();
      if (n < 0 || (long) n * minBytesEach > remaining) {
        throw new IllegalArgumentException("Sequence snapshot declares " + n + " " + what
            + " but only " + remaining + " bytes remain; the snapshot is corrupt or truncated");
      }
      return n;
    }
  }
}
