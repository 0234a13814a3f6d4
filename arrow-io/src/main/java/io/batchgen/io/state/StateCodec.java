package io.batchgen.io.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Encodes {@link SequenceState}s as an Arrow IPC stream for migration between executors, and
 * decodes and validates them on the other side.
 *
 * <p>Layout (one row per sequence; {@code F} = floats per KV block):
 * <pre>
 *   sequence_id      utf8, not null
 *   metadata_version int32, not null      the runtime's snapshot format version
 *   metadata         binary, not null     the runtime's snapshot bytes
 *   kv_blocks        list&lt;fixed_size_list&lt;float32&gt;[F]&gt;, not null   (blocks, F)
 *   checksum         int64, not null      CRC32C of id, version, metadata and KV bytes
 * </pre>
 * Schema metadata: {@code batchgen.state.format} (this codec's format, {@value #FORMAT_VERSION})
 * and {@code batchgen.state.floatsPerBlock} ({@code F}). Reading checks the format version, the
 * layout, {@code F} against this executor's, nulls and every checksum, and throws
 * {@link CorruptStateException} on any mismatch; it never returns partial state.
 *
 * <p>KV floats are copied once into Arrow memory on write (one bulk copy per block) and the IPC
 * writer sends those buffers as they are; on read, each block is one bulk copy out of the
 * received buffer. Sequences are grouped into record batches of about {@code maxBatchFloats}
 * floats so that memory stays bounded on both sides.
 *
 * <p>Thread-safe if the allocator is (Arrow's are); each call uses its own vectors.
 */
public final class StateCodec {

  /** The version of this encoding; bump it on any layout change. */
  public static final int FORMAT_VERSION = 1;
  static final String META_FORMAT = "batchgen.state.format";
  static final String META_FLOATS = "batchgen.state.floatsPerBlock";
  static final String SEQUENCE_ID = "sequence_id";
  static final String METADATA_VERSION = "metadata_version";
  static final String METADATA = "metadata";
  static final String KV_BLOCKS = "kv_blocks";
  static final String CHECKSUM = "checksum";

  private final BufferAllocator allocator;
  private final int floatsPerBlock;
  private final long maxBatchFloats;

  /**
   * @param floatsPerBlock floats in one KV block ({@code KvStore.floatsPerBlock()}); every block
   *                       written must have this length and every stream read must declare it
   */
  public StateCodec(BufferAllocator allocator, int floatsPerBlock) {
    this(allocator, floatsPerBlock, 16L << 20);
  }

  /** As above, with record batches of about {@code maxBatchFloats} KV floats (at least one row). */
  public StateCodec(BufferAllocator allocator, int floatsPerBlock, long maxBatchFloats) {
    if (floatsPerBlock <= 0 || maxBatchFloats <= 0) {
      throw new IllegalArgumentException("State codec needs floatsPerBlock > 0 and"
          + " maxBatchFloats > 0, got " + floatsPerBlock + " and " + maxBatchFloats);
    }
    this.allocator = allocator;
    this.floatsPerBlock = floatsPerBlock;
    this.maxBatchFloats = maxBatchFloats;
  }

  /** The Arrow schema of a state stream with blocks of {@code floatsPerBlock} floats. */
  public static Schema arrowSchema(int floatsPerBlock) {
    Field floats = Field.notNullable("element",
        new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE));
    Field block = new Field("block",
        FieldType.notNullable(new ArrowType.FixedSizeList(floatsPerBlock)), List.of(floats));
    return new Schema(List.of(
        Field.notNullable(SEQUENCE_ID, ArrowType.Utf8.INSTANCE),
        Field.notNullable(METADATA_VERSION, new ArrowType.Int(32, true)),
        Field.notNullable(METADATA, ArrowType.Binary.INSTANCE),
        new Field(KV_BLOCKS, FieldType.notNullable(ArrowType.List.INSTANCE), List.of(block)),
        Field.notNullable(CHECKSUM, new ArrowType.Int(64, true))),
        Map.of(META_FORMAT, Integer.toString(FORMAT_VERSION),
            META_FLOATS, Integer.toString(floatsPerBlock)));
  }

  /** Writes {@code states} as one IPC stream; does not close {@code out}. */
  public void write(List<SequenceState> states, OutputStream out) {
    for (SequenceState s : states) {
      for (int b = 0; b < s.kvBlocks().size(); b++) {
        if (s.kvBlocks().get(b).length != floatsPerBlock) {
          throw new IllegalArgumentException("Sequence [" + s.sequenceId() + "] KV block " + b
              + " has " + s.kvBlocks().get(b).length + " floats but this codec writes blocks of "
              + floatsPerBlock + " (KvStore.floatsPerBlock()); all blocks must have that length");
        }
      }
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(arrowSchema(floatsPerBlock), allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      int from = 0;
      while (from < states.size()) {
        int to = from;
        long floats = 0;
        do {
          floats += states.get(to).kvFloats();
          to++;
        } while (to < states.size() && floats + states.get(to).kvFloats() <= maxBatchFloats);
        fill(root, states.subList(from, to));
        writer.writeBatch();
        from = to;
      }
      writer.end();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write sequence state: " + e.getMessage(), e);
    }
  }

  /** {@link #write} into a byte array. */
  public byte[] encode(List<SequenceState> states) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(states, out);
    return out.toByteArray();
  }

  /** Reads and validates every sequence of a stream written by {@link #write}. */
  public List<SequenceState> read(InputStream in) {
    List<SequenceState> out = new ArrayList<>();
    read(in, out::add);
    return out;
  }

  /** {@link #read} from a byte array. */
  public List<SequenceState> decode(byte[] bytes) {
    return read(new ByteArrayInputStream(bytes));
  }

  /**
   * Reads a stream batch by batch, handing each validated sequence to {@code each} as soon as its
   * record batch is checked (so a large transfer is never held whole). A corrupt batch throws
   * before any of its sequences is handed over.
   */
  public void read(InputStream in, Consumer<SequenceState> each) {
    try (ArrowStreamReader reader = new ArrowStreamReader(in, allocator)) {
      VectorSchemaRoot root;
      try {
        root = reader.getVectorSchemaRoot();
      } catch (IOException | RuntimeException e) {
        throw new CorruptStateException("Cannot read a sequence-state stream: no valid Arrow"
            + " schema at its start (" + e.getMessage() + "). The sender must write it with"
            + " StateCodec.", e);
      }
      validateSchema(root.getSchema());
      int batch = 0;
      while (loadNext(reader, batch)) {
        for (SequenceState s : decodeBatch(root, batch)) {
          each.accept(s);
        }
        batch++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot close the sequence-state stream", e);
    }
  }

  private static boolean loadNext(ArrowStreamReader reader, int batch) {
    try {
      return reader.loadNextBatch();
    } catch (IOException | RuntimeException e) {
      throw new CorruptStateException("Sequence-state stream is truncated or damaged at record"
          + " batch " + batch + " (" + e.getMessage() + "). The owner should reclaim these"
          + " sequences and recompute them.", e);
    }
  }

  private void validateSchema(Schema schema) {
    String format = schema.getCustomMetadata().get(META_FORMAT);
    if (format == null) {
      throw new CorruptStateException("Arrow stream is not BatchGen sequence state: schema"
          + " metadata '" + META_FORMAT + "' is missing (fields " + schema.getFields() + ").");
    }
    if (!format.equals(Integer.toString(FORMAT_VERSION))) {
      throw new CorruptStateException("Sequence state was written in format " + format
          + " but this executor reads format " + FORMAT_VERSION + ". Run the same BatchGen"
          + " version on every executor.");
    }
    String floats = schema.getCustomMetadata().get(META_FLOATS);
    if (!Integer.toString(floatsPerBlock).equals(floats)) {
      throw new CorruptStateException("Sequence state has KV blocks of " + floats + " floats but"
          + " this executor's KV blocks hold " + floatsPerBlock + " (2 * blockSize * numKvHeads *"
          + " headDim). Both executors must run the same model with the same KV block size.");
    }
    if (!arrowSchema(floatsPerBlock).equals(schema)) {
      throw new CorruptStateException("Sequence state has an unexpected layout: " + schema
          + "; expected " + arrowSchema(floatsPerBlock) + ".");
    }
  }

  private void fill(VectorSchemaRoot root, List<SequenceState> states) {
    VarCharVector ids = (VarCharVector) root.getVector(SEQUENCE_ID);
    IntVector versions = (IntVector) root.getVector(METADATA_VERSION);
    VarBinaryVector metadata = (VarBinaryVector) root.getVector(METADATA);
    ListVector kv = (ListVector) root.getVector(KV_BLOCKS);
    BigIntVector checksums = (BigIntVector) root.getVector(CHECKSUM);
    FixedSizeListVector blocks = (FixedSizeListVector) kv.getDataVector();
    Float4Vector floats = (Float4Vector) blocks.getDataVector();

    long totalFloats = 0;
    for (SequenceState s : states) {
      totalFloats += s.kvFloats();
    }
    if (totalFloats > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("One record batch of sequence state would hold "
          + totalFloats + " floats, more than Arrow's int index allows; a single sequence's KV"
          + " must stay under " + Integer.MAX_VALUE + " floats");
    }
    root.allocateNew();
    floats.allocateNew((int) Math.max(totalFloats, 1));
    ArrowBuf data = floats.getDataBuffer();
    // The floats are never null: mark them all valid at once instead of bit by bit.
    floats.getValidityBuffer().setOne(0L, (totalFloats + 7) / 8);

    int block = 0;
    for (int row = 0; row < states.size(); row++) {
      SequenceState s = states.get(row);
      byte[] id = s.sequenceId().getBytes(StandardCharsets.UTF_8);
      ids.setSafe(row, id);
      versions.setSafe(row, s.metadataVersion());
      metadata.setSafe(row, s.metadata());
      CRC32C crc = header(id, s.metadataVersion(), s.metadata());
      kv.startNewValue(row);
      for (float[] b : s.kvBlocks()) {
        ByteBuffer region = region(data, block);
        region.asFloatBuffer().put(b);
        crc.update(region(data, block));
        blocks.setNotNull(block);
        block++;
      }
      kv.endValue(row, s.kvBlocks().size());
      checksums.setSafe(row, crc.getValue());
    }
    floats.setValueCount((int) totalFloats);
    blocks.setValueCount(block);
    kv.setValueCount(states.size());
    root.setRowCount(states.size());
  }

  private List<SequenceState> decodeBatch(VectorSchemaRoot root, int batch) {
    VarCharVector ids = (VarCharVector) root.getVector(SEQUENCE_ID);
    IntVector versions = (IntVector) root.getVector(METADATA_VERSION);
    VarBinaryVector metadata = (VarBinaryVector) root.getVector(METADATA);
    ListVector kv = (ListVector) root.getVector(KV_BLOCKS);
    BigIntVector checksums = (BigIntVector) root.getVector(CHECKSUM);
    FixedSizeListVector blocks = (FixedSizeListVector) kv.getDataVector();
    Float4Vector floats = (Float4Vector) blocks.getDataVector();
    if (ids.getNullCount() + versions.getNullCount() + metadata.getNullCount()
        + kv.getNullCount() + checksums.getNullCount() + blocks.getNullCount()
        + floats.getNullCount() > 0) {
      throw new CorruptStateException("Sequence-state batch " + batch + " has null values in"
          + " columns that are never null; the stream is damaged.");
    }
    if ((long) blocks.getValueCount() * floatsPerBlock != floats.getValueCount()) {
      throw new CorruptStateException("Sequence-state batch " + batch + " has "
          + blocks.getValueCount() + " blocks but " + floats.getValueCount() + " floats; "
          + "expected " + floatsPerBlock + " per block.");
    }
    ArrowBuf data = floats.getDataBuffer();
    List<SequenceState> out = new ArrayList<>(root.getRowCount());
    for (int row = 0; row < root.getRowCount(); row++) {
      byte[] id = ids.get(row);
      String sequenceId = new String(id, StandardCharsets.UTF_8);
      byte[] meta = metadata.get(row);
      CRC32C crc = header(id, versions.get(row), meta);
      int start = kv.getElementStartIndex(row);
      int end = kv.getElementEndIndex(row);
      List<float[]> kvBlocks = new ArrayList<>(end - start);
      for (int b = start; b < end; b++) {
        crc.update(region(data, b));
        float[] block = new float[floatsPerBlock];
        region(data, b).asFloatBuffer().get(block);
        kvBlocks.add(block);
      }
      if (crc.getValue() != checksums.get(row)) {
        throw new CorruptStateException("Sequence state of [" + sequenceId + "] (batch " + batch
            + ", row " + row + ") fails its checksum: stored " + checksums.get(row)
            + ", computed " + crc.getValue() + ". The bytes were damaged in transit; the owner"
            + " should reclaim the sequence and recompute it.");
      }
      out.add(new SequenceState(sequenceId, versions.get(row), meta, kvBlocks));
    }
    return out;
  }

  /** The little-endian bytes of block {@code b} inside the float buffer. */
  private ByteBuffer region(ArrowBuf data, int b) {
    return data.nioBuffer((long) b * floatsPerBlock * Float.BYTES, floatsPerBlock * Float.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  private static CRC32C header(byte[] id, int version, byte[] metadata) {
    CRC32C crc = new CRC32C();
    crc.update(id);
    crc.update(ByteBuffer.allocate(8).putInt(version).putInt(metadata.length).flip());
    crc.update(metadata);
    return crc;
  }
}
