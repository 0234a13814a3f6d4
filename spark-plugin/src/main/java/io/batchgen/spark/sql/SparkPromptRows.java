package io.batchgen.spark.sql;

import io.batchgen.io.ArrowPromptConverter;
import io.batchgen.io.BadInputException;
import io.batchgen.io.BadRowPolicy;
import io.batchgen.io.IdType;
import io.batchgen.io.OpenAiBatchReader;
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
 * <p>Rows may instead carry OpenAI batch request lines ({@link #bindRequests}: option
 * {@code requestColumn}); each is then read by arrow-io's {@link OpenAiBatchReader}, the same
 * reader as a JSONL file's lines.
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
  /** Request-line rows: the request column's ordinal, else -1. */
  private final int requestOrdinal;
  /** Request-line rows: the optional line-number column's ordinal, else -1. */
  private final int lineOrdinal;

  private SparkPromptRows(String source, PromptSchema schema, StructType projected,
      int[] ordinals, int idIndex, IdType idType, int requestOrdinal, int lineOrdinal) {
    this.source = source;
    this.schema = schema;
    this.projected = projected;
    this.ordinals = ordinals;
    this.idIndex = idIndex;
    this.idType = idType;
    this.requestOrdinal = requestOrdinal;
    this.lineOrdinal = lineOrdinal;
  }

  /** The column of a request-line input that numbers the lines (0-based), when present. */
  static final String LINE_COLUMN = "line";

  /**
   * Checks {@code input} as rows of OpenAI batch request lines: {@code requestColumn} (string)
   * holds one line each, {@code idColumn} (string) its custom_id (the sink clusters and sorts
   * by it), and an optional long column {@value #LINE_COLUMN} the line's 0-based index in its
   * file, for messages (else rows are numbered from 0 per task).
   *
   * @throws BadInputException naming the column, its type and the fix
   */
  static SparkPromptRows bindRequests(String source, StructType input, String idColumn,
      String requestColumn) {
    int request = stringColumn(source, input, requestColumn, "the request column (option"
        + " requestColumn) holds one OpenAI batch request line per row");
    int id = stringColumn(source, input, idColumn, "the id column holds each request's"
        + " custom_id, e.g. get_json_object(" + requestColumn + ", '$.custom_id')");
    int line = -1;
    if (java.util.Arrays.asList(input.fieldNames()).contains(LINE_COLUMN)) {
      line = input.fieldIndex(LINE_COLUMN);
      DataType t = input.fields()[line].dataType();
      if (t != DataTypes.LongType) {
        throw BadInputException.schema(source, LINE_COLUMN, "the column has type "
            + t.simpleString() + "; with requestColumn set it numbers the request lines and"
            + " must be a long. Cast it, or rename it.");
      }
    }
    PromptSchema schema = PromptSchema.DEFAULT.withIdColumn(idColumn)
        .withPromptColumn(requestColumn);
    StructType idOnly = DataTypes.createStructType(new StructField[] {input.fields()[id]});
    return new SparkPromptRows(source, schema, idOnly, new int[] {id}, 0, IdType.STRING,
        request, line);
  }

  private static int stringColumn(String source, StructType input, String name, String what) {
    if (!java.util.Arrays.asList(input.fieldNames()).contains(name)) {
      throw BadInputException.schema(source, name, "no such column; " + what + ". Columns: "
          + String.join(", ", input.fieldNames()) + ".");
    }
    int i = input.fieldIndex(name);
    if (input.fields()[i].dataType() != DataTypes.StringType) {
      throw BadInputException.schema(source, name, "the column has type "
          + input.fields()[i].dataType().simpleString() + " but must be a string; " + what
          + ".");
    }
    return i;
  }

  /** Whether rows are request lines. */
  boolean requestLines() {
    return requestOrdinal >= 0;
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
        ordinals.stream().mapToInt(Integer::intValue).toArray(), idIndex, idType, -1, -1);
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

  /** A reader for one task's rows; the caller closes it (it may hold Arrow buffers). */
  Reader reader(String taskSource, BufferAllocator allocator, BadRowPolicy policy,
      boolean checkDuplicates) {
    return requestLines() ? new RequestReader(taskSource, policy, checkDuplicates)
        : new ArrowReader(taskSource, allocator, policy, checkDuplicates);
  }

  /**
   * Collects rows into batches and converts each batch. Row numbers count this reader's rows from
   * 0 (request lines: their {@value #LINE_COLUMN} when given). Not thread-safe: one per task.
   */
  interface Reader extends AutoCloseable {
    /** Adds one row to the current batch. */
    void add(InternalRow row);

    /** Rows added since the last {@link #flush}. */
    int pending();

    /**
     * Converts the rows added since the last call.
     *
     * @throws BadInputException for a bad row under {@link BadRowPolicy#FAIL}
     */
    PromptBatch flush();

    @Override
    void close();
  }

  /** Prompt-table rows, through Arrow. */
  private final class ArrowReader implements Reader {
    private final VectorSchemaRoot root;
    private final ArrowWriter writer;
    private final ProjectingInternalRow projection;
    private final ArrowPromptConverter converter;
    private int rows;

    private ArrowReader(String taskSource, BufferAllocator allocator, BadRowPolicy policy,
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

    @Override
    public void add(InternalRow row) {
      projection.project(row);
      writer.write(projection);
      rows++;
    }

    @Override
    public int pending() {
      return rows;
    }

    @Override
    public PromptBatch flush() {
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

  /** Request-line rows, each read by {@link OpenAiBatchReader} as a line of a JSONL file. */
  private final class RequestReader implements Reader {
    private final OpenAiBatchReader lines;
    private long rowNumber;
    private int rows;

    private RequestReader(String taskSource, BadRowPolicy policy, boolean checkDuplicates) {
      this.lines = OpenAiBatchReader.forLines(taskSource, policy, checkDuplicates);
    }

    @Override
    public void add(InternalRow row) {
      long line = lineOrdinal >= 0 && !row.isNullAt(lineOrdinal) ? row.getLong(lineOrdinal)
          : rowNumber;
      rowNumber++;
      rows++;
      // Spark's strings keep the input's bytes: invalid UTF-8 reaches the strict decoder. A null
      // or blank request is a bad line (each row gets its result).
      lines.add(line, row.isNullAt(requestOrdinal) ? new byte[0]
          : row.getUTF8String(requestOrdinal).getBytes());
    }

    @Override
    public int pending() {
      return rows;
    }

    @Override
    public PromptBatch flush() {
      rows = 0;
      return lines.drain();
    }

    @Override
    public void close() {
    }
  }
}
