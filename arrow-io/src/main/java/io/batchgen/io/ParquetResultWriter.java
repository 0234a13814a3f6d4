package io.batchgen.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * A {@link ResultWriter} that streams results into one Parquet file (any Hadoop path) in the
 * {@link ResultSchema} layout. Rows go straight into Parquet's column writers; only the current
 * row group is in memory (at most about {@code rowGroupBytes}), never the whole partition.
 *
 * <p>The file is complete and readable only after {@link #close}. The writer refuses to replace
 * an existing file: each task writes its own file (Spark's commit protocol names it).
 */
public final class ParquetResultWriter implements ResultWriter {

  /** Default row group: small enough to bound executor memory, large enough to scan well. */
  public static final long DEFAULT_ROW_GROUP_BYTES = 8L << 20;
  static final String META_FORMAT = "batchgen.result.format";

  private final ParquetWriter<GenerationResult> writer;
  private final String path;
  private long written;
  private boolean closed;

  private ParquetResultWriter(ParquetWriter<GenerationResult> writer, String path) {
    this.writer = writer;
    this.path = path;
  }

  /** A writer for {@code file} with an 8 MiB row group and Snappy compression. */
  public static ParquetResultWriter open(Path file, Configuration conf, ResultSchema schema) {
    return open(file, conf, schema, DEFAULT_ROW_GROUP_BYTES);
  }

  /** A writer for {@code file} with row groups of about {@code rowGroupBytes}. */
  public static ParquetResultWriter open(Path file, Configuration conf, ResultSchema schema,
      long rowGroupBytes) {
    try {
      OutputFile out = HadoopOutputFile.fromPath(file, conf);
      ParquetWriter<GenerationResult> w = new Builder(out, schema)
          .withConf(conf)
          .withWriteMode(ParquetFileWriter.Mode.CREATE)
          .withCompressionCodec(CompressionCodecName.SNAPPY)
          .withRowGroupSize(rowGroupBytes)
          .withPageSize((int) Math.min(1 << 20, rowGroupBytes))
          // Ids, texts, token ids and seeds are nearly unique: a dictionary would be built and
          // thrown away every row group. The low-cardinality columns keep theirs.
          .withDictionaryEncoding(ResultSchema.ID, false)
          .withDictionaryEncoding(ResultSchema.COMPLETION, false)
          .withDictionaryEncoding(ResultSchema.COMPLETION_TOKEN_IDS + ".list.element", false)
          .withDictionaryEncoding(ResultSchema.SEED, false)
          .build();
      return new ParquetResultWriter(w, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create result file [" + file + "]: " + e.getMessage()
          + ". Check that the output folder is writable and the file does not exist yet.", e);
    }
  }

  /** The Parquet schema of the result table. */
  public static MessageType parquetSchema(ResultSchema schema) {
    Types.MessageTypeBuilder b = Types.buildMessage();
    if (schema.idType() == IdType.LONG) {
      b.optional(PrimitiveTypeName.INT64).named(ResultSchema.ID);
    } else {
      b.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType())
          .named(ResultSchema.ID);
    }
    b.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType())
        .named(ResultSchema.COMPLETION);
    if (schema.includeTokenIds()) {
      b.optionalList().requiredElement(PrimitiveTypeName.INT32)
          .named(ResultSchema.COMPLETION_TOKEN_IDS);
    }
    b.required(PrimitiveTypeName.INT32).named(ResultSchema.PROMPT_TOKENS);
    b.required(PrimitiveTypeName.INT32).named(ResultSchema.COMPLETION_TOKENS);
    b.required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType())
        .named(ResultSchema.FINISH_REASON);
    b.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType())
        .named(ResultSchema.ERROR);
    b.optional(PrimitiveTypeName.INT64).named(ResultSchema.SEED);
    for (String name : new String[] {ResultSchema.MODEL_ID, ResultSchema.MODEL_HASH,
        ResultSchema.ENGINE_VERSION}) {
      b.required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(name);
    }
    return b.named("batchgen_result");
  }

  @Override
  public void write(GenerationResult result) {
    if (closed) {
      throw new IllegalStateException("Result writer for [" + path + "] is closed");
    }
    try {
      writer.write(result);
      written++;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write result [" + result.id() + "] to [" + path
          + "]: " + e.getMessage(), e);
    }
  }

  @Override
  public long rowsWritten() {
    return written;
  }

  /** Bytes written to the file so far (whole row groups; the open one is still in memory). */
  public long bytesWritten() {
    return writer.getDataSize();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      writer.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot finish result file [" + path + "]: "
          + e.getMessage(), e);
    }
  }

  private static final class Builder extends ParquetWriter.Builder<GenerationResult, Builder> {
    private final ResultSchema schema;

    Builder(OutputFile file, ResultSchema schema) {
      super(file);
      this.schema = schema;
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<GenerationResult> getWriteSupport(Configuration conf) {
      return new ResultWriteSupport(schema);
    }
  }

  /** Emits one result as one Parquet record, field by field. */
  private static final class ResultWriteSupport extends WriteSupport<GenerationResult> {
    private final ResultSchema schema;
    private final MessageType type;
    private RecordConsumer out;

    ResultWriteSupport(ResultSchema schema) {
      this.schema = schema;
      this.type = parquetSchema(schema);
    }

    @Override
    public WriteContext init(Configuration configuration) {
      Map<String, String> meta = new HashMap<>();
      meta.put(META_FORMAT, "1");
      return new WriteContext(type, meta);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
      this.out = recordConsumer;
    }

    @Override
    public void write(GenerationResult r) {
      out.startMessage();
      if (r.id() != null) {
        int i = type.getFieldIndex(ResultSchema.ID);
        out.startField(ResultSchema.ID, i);
        if (schema.idType() == IdType.LONG) {
          out.addLong(ResultSchema.longId(r.id()));
        } else {
          out.addBinary(Binary.fromString(r.id()));
        }
        out.endField(ResultSchema.ID, i);
      }
      string(ResultSchema.COMPLETION, r.completion());
      if (schema.includeTokenIds() && r.tokenIdsUnsafe() != null) {
        int i = type.getFieldIndex(ResultSchema.COMPLETION_TOKEN_IDS);
        out.startField(ResultSchema.COMPLETION_TOKEN_IDS, i);
        out.startGroup();
        int[] ids = r.tokenIdsUnsafe();
        if (ids.length > 0) {
          out.startField("list", 0);
          for (int id : ids) {
            out.startGroup();
            out.startField("element", 0);
            out.addInteger(id);
            out.endField("element", 0);
            out.endGroup();
          }
          out.endField("list", 0);
        }
        out.endGroup();
        out.endField(ResultSchema.COMPLETION_TOKEN_IDS, i);
      }
      integer(ResultSchema.PROMPT_TOKENS, r.promptTokens());
      integer(ResultSchema.COMPLETION_TOKENS, r.completionTokens());
      string(ResultSchema.FINISH_REASON, r.finishReason().wireName());
      string(ResultSchema.ERROR, r.error());
      if (r.seed() != null) {
        int i = type.getFieldIndex(ResultSchema.SEED);
        out.startField(ResultSchema.SEED, i);
        out.addLong(r.seed());
        out.endField(ResultSchema.SEED, i);
      }
      string(ResultSchema.MODEL_ID, r.provenance().modelId());
      string(ResultSchema.MODEL_HASH, r.provenance().modelHash());
      string(ResultSchema.ENGINE_VERSION, r.provenance().engineVersion());
      out.endMessage();
    }

    private void string(String name, String value) {
      if (value == null) {
        return;
      }
      int i = type.getFieldIndex(name);
      out.startField(name, i);
      out.addBinary(Binary.fromReusedByteArray(value.getBytes(StandardCharsets.UTF_8)));
      out.endField(name, i);
    }

    private void integer(String name, int value) {
      int i = type.getFieldIndex(name);
      out.startField(name, i);
      out.addInteger(value);
      out.endField(name, i);
    }
  }
}
