package io.batchgen.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;

/**
 * A {@link ResultWriter} that fills one Arrow record batch in the {@link ResultSchema} layout and
 * hands it to a sink when it holds {@code maxRows} rows or about {@code maxTextBytes} of text,
 * then reuses it. Memory is bounded by one batch, whatever the number of results.
 *
 * <p>The sink sees the batch only during its call (copy or serialise it there); it runs on the
 * writing thread. {@link #close} flushes the last, partial batch and frees the Arrow memory.
 */
public final class ArrowResultBatcher implements ResultWriter {

  private final ResultSchema schema;
  private final VectorSchemaRoot root;
  private final Consumer<VectorSchemaRoot> sink;
  private final int maxRows;
  private final long maxTextBytes;
  private final Runnable onClose;
  // The columns, looked up once (VectorSchemaRoot.getVector is a search by name).
  private final FieldVector id;
  private final VarCharVector completion;
  private final ListVector tokenIds;
  private final IntVector promptTokens;
  private final IntVector completionTokens;
  private final VarCharVector finishReason;
  private final VarCharVector error;
  private final BigIntVector seed;
  private final VarCharVector modelId;
  private final VarCharVector modelHash;
  private final VarCharVector engineVersion;
  private int rows;
  private long textBytes;
  private long written;
  private boolean closed;

  private ArrowResultBatcher(ResultSchema schema, VectorSchemaRoot root, int maxRows,
      long maxTextBytes, Consumer<VectorSchemaRoot> sink, Runnable onClose) {
    if (maxRows <= 0 || maxTextBytes <= 0) {
      throw new IllegalArgumentException("Result batches need maxRows > 0 and maxTextBytes > 0,"
          + " got " + maxRows + " and " + maxTextBytes);
    }
    this.schema = schema;
    this.root = root;
    this.maxRows = maxRows;
    this.maxTextBytes = maxTextBytes;
    this.sink = sink;
    this.onClose = onClose;
    root.allocateNew();
    this.id = root.getVector(ResultSchema.ID);
    this.completion = (VarCharVector) root.getVector(ResultSchema.COMPLETION);
    this.tokenIds = schema.includeTokenIds()
        ? (ListVector) root.getVector(ResultSchema.COMPLETION_TOKEN_IDS) : null;
    this.promptTokens = (IntVector) root.getVector(ResultSchema.PROMPT_TOKENS);
    this.completionTokens = (IntVector) root.getVector(ResultSchema.COMPLETION_TOKENS);
    this.finishReason = (VarCharVector) root.getVector(ResultSchema.FINISH_REASON);
    this.error = (VarCharVector) root.getVector(ResultSchema.ERROR);
    this.seed = (BigIntVector) root.getVector(ResultSchema.SEED);
    this.modelId = (VarCharVector) root.getVector(ResultSchema.MODEL_ID);
    this.modelHash = (VarCharVector) root.getVector(ResultSchema.MODEL_HASH);
    this.engineVersion = (VarCharVector) root.getVector(ResultSchema.ENGINE_VERSION);
  }

  /**
   * A batcher that calls {@code sink} with each full batch.
   *
   * @param maxRows      rows per batch (e.g. 4096)
   * @param maxTextBytes completion bytes per batch before an early flush (e.g. 8 MiB)
   */
  public static ArrowResultBatcher toSink(ResultSchema schema, BufferAllocator allocator,
      int maxRows, long maxTextBytes, Consumer<VectorSchemaRoot> sink) {
    VectorSchemaRoot root = VectorSchemaRoot.create(schema.arrowSchema(), allocator);
    return new ArrowResultBatcher(schema, root, maxRows, maxTextBytes, sink, () -> {});
  }

  /** A batcher that writes an Arrow IPC stream to {@code out} (closed with this writer). */
  public static ArrowResultBatcher toIpcStream(ResultSchema schema, BufferAllocator allocator,
      int maxRows, long maxTextBytes, OutputStream out) {
    VectorSchemaRoot root = VectorSchemaRoot.create(schema.arrowSchema(), allocator);
    ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out));
    try {
      writer.start();
    } catch (IOException e) {
      root.close();
      throw new UncheckedIOException("Cannot start the Arrow result stream", e);
    }
    Consumer<VectorSchemaRoot> sink = r -> {
      try {
        writer.writeBatch();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write an Arrow result batch", e);
      }
    };
    return new ArrowResultBatcher(schema, root, maxRows, maxTextBytes, sink, () -> {
      try {
        writer.end();
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot end the Arrow result stream", e);
      }
    });
  }

  @Override
  public void write(GenerationResult r) {
    if (closed) {
      throw new IllegalStateException("Result writer is closed");
    }
    int i = rows;
    if (r.id() != null) {
      if (schema.idType() == IdType.LONG) {
        ((BigIntVector) id).setSafe(i, ResultSchema.longId(r.id()));
      } else {
        ((VarCharVector) id).setSafe(i, utf8(r.id()));
      }
    }
    if (r.completion() != null) {
      byte[] text = utf8(r.completion());
      completion.setSafe(i, text);
      textBytes += text.length;
    }
    if (tokenIds != null && r.tokenIdsUnsafe() != null) {
      ListVector list = tokenIds;
      IntVector data = (IntVector) list.getDataVector();
      int start = list.startNewValue(i);
      int[] ids = r.tokenIdsUnsafe();
      for (int k = 0; k < ids.length; k++) {
        data.setSafe(start + k, ids[k]);
      }
      list.endValue(i, ids.length);
      textBytes += 4L * ids.length;
    }
    promptTokens.setSafe(i, r.promptTokens());
    completionTokens.setSafe(i, r.completionTokens());
    finishReason.setSafe(i, utf8(r.finishReason().wireName()));
    if (r.error() != null) {
      error.setSafe(i, utf8(r.error()));
    }
    if (r.seed() != null) {
      seed.setSafe(i, r.seed());
    }
    modelId.setSafe(i, utf8(r.provenance().modelId()));
    modelHash.setSafe(i, utf8(r.provenance().modelHash()));
    engineVersion.setSafe(i, utf8(r.provenance().engineVersion()));
    rows++;
    written++;
    if (rows >= maxRows || textBytes >= maxTextBytes) {
      flush();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Hands the buffered rows (if any) to the sink and starts a new batch. */
  public void flush() {
    if (rows == 0) {
      return;
    }
    for (FieldVector v : root.getFieldVectors()) {
      v.setValueCount(rows);
    }
    root.setRowCount(rows);
    sink.accept(root);
    for (FieldVector v : root.getFieldVectors()) {
      v.reset(); // keeps the buffers: the next batch reuses the same memory
    }
    root.setRowCount(0);
    rows = 0;
    textBytes = 0;
  }

  @Override
  public long rowsWritten() {
    return written;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flush();
      onClose.run();
    } finally {
      root.close();
    }
  }
}
