package io.batchgen.spark.sql;

import io.batchgen.io.ArrowPromptConverter;
import io.batchgen.io.BadInputException;
import io.batchgen.io.BadRowPolicy;
import io.batchgen.io.IdType;
import io.batchgen.io.PromptBatch;
import io.batchgen.io.PromptSchema;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.ProjectingInternalRow;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;

/**
 * Spark rows into prompt requests through arrow-io's row assembly, the one place where a row
 * becomes a request: the prompt columns of each row are copied into an Arrow batch (Spark's own
 * {@link ArrowWriter}), and {@link ArrowPromptConverter} reads the batch exactly as it reads Arrow
 * and Parquet prompt files, so a DataFrame row is accepted, rejected and explained the same way
 * as a row of a file (strict UTF-8, struct fields by name, range checks, column names).
 *
 * <p>{@link #bind} runs on the driver and checks the column types before any work starts;
 * {@link #reader} runs in a task.
 */
final class SparkPromptRows implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final PromptSchema schema;
  /** The prompt columns, in input order; other columns never reach Arrow. */
  private final StructType projected;
  /** Their ordinals in the input rows. */
  private final int[] ordinals;
  /** The id column's index within {@link #projected}. */
  private final int idIndex;
  private final IdType idType;

  private SparkPromptRows(String source, PromptSchema schema, StructType projected,
      int[] ordinals, int idIndex, IdType idType) {
    this.source = source;
    this.schema = schema;
    this.projected = projected;
    this.ordinals = ordinals;
    this.idIndex = idIndex;
    this.idType = idType;
  }

  /**
   * Checks {@code input} as a prompt table and binds its prompt columns.
   *
   * @param source names the input in messages ("the DataFrame being written", a path)
   * @throws BadInputException naming the column, its type and the fix
   */
  static SparkPromptRows bind(String source, StructType input, PromptSchema schema) {
    List<String> wanted = new ArrayList<>(List.of(schema.idColumn(), schema.promptColumn(),
        schema.messagesColumn(), PromptSchema.MAX_NEW_TOKENS, PromptSchema.TEMPERATURE,
        PromptSchema.TOP_P, PromptSchema.TOP_K, PromptSchema.SEED, PromptSchema.STOP));
    List<StructField> fields = new ArrayList<>();
    List<Integer> ordinals = new ArrayList<>();
    int idIndex = -1;
    for (int i = 0; i < input.fields().length; i++) {
      StructField f = input.fields()[i];
      if (wanted.contains(f.name())) {
        if (f.name().equals(schema.idColumn())) {
          idIndex = fields.size();
        }
        fields.add(f);
        ordinals.add(i);
      }
    }
    StructType projected = DataTypes.createStructType(fields);
    Schema arrow = arrowSchema(source, projected);
    ArrowPromptConverter.checkSchema(source, arrow, schema);
    IdType idType = ArrowPromptConverter.idType(arrow, schema);
    return new SparkPromptRows(source, schema, projected,
        ordinals.stream().mapToInt(Integer::intValue).toArray(), idIndex, idType);
  }

  private static Schema arrowSchema(String source, StructType projected) {
    for (StructField f : projected.fields()) {
      try {
        ArrowUtils.toArrowSchema(DataTypes.createStructType(new StructField[] {f}), "UTC", true,
            false);
      } catch (RuntimeException e) {
        throw BadInputException.schema(source, f.name(), "the column has type "
            + f.dataType().simpleString() + ", which a prompt column cannot have. See "
            + "docs/schemas.md for the accepted types; cast it, or drop or rename the column.");
      }
    }
    return ArrowUtils.toArrowSchema(projected, "UTC", true, false);
  }

  /** The id type the result table keeps. */
  IdType idType() {
    return idType;
  }

  PromptSchema schema() {
    return schema;
  }

  String source() {
    return source;
  }

  /**
   * The id of {@code row} as the result table writes it (a long id in decimal), without
   * validating it; null when the id is null. Used to skip rows an earlier run finished.
   */
  String idText(InternalRow row) {
    int ordinal = ordinals[idIndex];
    if (row.isNullAt(ordinal)) {
      return null;
    }
    DataType t = projected.fields()[idIndex].dataType();
    if (t == DataTypes.StringType) {
      return row.getUTF8String(ordinal).toString();
    }
    long v = t == DataTypes.LongType ? row.getLong(ordinal)
        : t == DataTypes.IntegerType ? row.getInt(ordinal)
        : t == DataTypes.ShortType ? row.getShort(ordinal) : row.getByte(ordinal);
    return Long.toString(v);
  }

  /** A reader for one task's rows; the caller closes it (it holds Arrow buffers). */
  Reader reader(String taskSource, BufferAllocator allocator, BadRowPolicy policy,
      boolean checkDuplicates) {
    return new Reader(taskSource, allocator, policy, checkDuplicates);
  }

  /**
   * Collects rows into Arrow batches of up to {@code capacity} rows and converts each batch.
   * Row numbers count this reader's rows from 0. Not thread-safe: one per task.
   */
  final class Reader implements AutoCloseable {
    private final VectorSchemaRoot root;
    private final ArrowWriter writer;
    private final ProjectingInternalRow projection;
    private final ArrowPromptConverter converter;
    private int rows;

    private Reader(String taskSource, BufferAllocator allocator, BadRowPolicy policy,
        boolean checkDuplicates) {
      this.root = VectorSchemaRoot.create(arrowSchema(source, projected), allocator);
      this.writer = ArrowWriter.create(root);
      List<Object> cols = new ArrayList<>();
      for (int o : ordinals) {
        cols.add(o);
      }
      this.projection = new ProjectingInternalRow(projected,
          scala.jdk.javaapi.CollectionConverters.asScala(cols).toIndexedSeq());
      this.converter = new ArrowPromptConverter(taskSource,
          schema.withDuplicateIdCheck(checkDuplicates), policy);
    }

    /** Adds one row to the current batch. */
    void add(InternalRow row) {
      projection.project(row);
      writer.write(projection);
      rows++;
    }

    /** Rows added since the last {@link #flush}. */
    int pending() {
      return rows;
    }

    /**
     * Converts the rows added since the last call.
     *
     * @throws BadInputException for a bad row under {@link BadRowPolicy#FAIL}
     */
    PromptBatch flush() {
      writer.finish();
      try {
        return converter.convert(root);
      } finally {
        writer.reset();
        rows = 0;
      }
    }

    @Override
    public void close() {
      root.close();
    }
  }
}
