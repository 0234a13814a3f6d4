package io.batchgen.spark.sql;

import io.batchgen.io.ChatMessage;
import io.batchgen.io.GenerationOverrides;
import io.batchgen.io.IdType;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.PromptSchema;
import io.batchgen.io.RowError;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads prompt requests out of Spark rows of a validated input schema: the id column (any integer
 * type or string), the prompt column (string) or a {@code messages} column
 * ({@code array<struct<role,content>>}), and the optional per-row override columns of
 * {@link PromptSchema} ({@code max_new_tokens}, {@code temperature}, {@code top_p}, {@code top_k},
 * {@code seed}, {@code stop}).
 *
 * <p>{@link #bind} checks the schema on the driver, so wrong column types fail before any work
 * starts; {@link #read} turns one row into a request or a {@link RowError} naming the row.
 */
final class PromptRows implements Serializable {
  private final String source;
  private final StructType schema;
  private final int idOrdinal;
  private final DataType idType;
  private final int promptOrdinal;
  private final int messagesOrdinal;
  private final int maxNewTokensOrdinal;
  private final int temperatureOrdinal;
  private final int topPOrdinal;
  private final int topKOrdinal;
  private final int seedOrdinal;
  private final int stopOrdinal;

  private PromptRows(String source, StructType schema, String idColumn, String promptColumn) {
    this.source = source;
    this.schema = schema;
    idOrdinal = ordinal(schema, idColumn);
    idType = schema.fields()[idOrdinal].dataType();
    promptOrdinal = ordinal(schema, promptColumn);
    messagesOrdinal = ordinal(schema, PromptSchema.DEFAULT_MESSAGES);
    maxNewTokensOrdinal = ordinal(schema, PromptSchema.MAX_NEW_TOKENS);
    temperatureOrdinal = ordinal(schema, PromptSchema.TEMPERATURE);
    topPOrdinal = ordinal(schema, PromptSchema.TOP_P);
    topKOrdinal = ordinal(schema, PromptSchema.TOP_K);
    seedOrdinal = ordinal(schema, PromptSchema.SEED);
    stopOrdinal = ordinal(schema, PromptSchema.STOP);
  }

  private static int ordinal(StructType schema, String name) {
    return schema.getFieldIndex(name).isDefined() ? (Integer) schema.getFieldIndex(name).get() : -1;
  }

  /**
   * Checks {@code schema} and binds the columns.
   *
   * @param source names the input in error messages (a path, or "the DataFrame")
   * @throws IllegalArgumentException naming the column, its type and the fix
   */
  static PromptRows bind(String source, StructType schema, String idColumn, String promptColumn) {
    StructField id = field(schema, idColumn, "option 'idColumn'");
    if (!(id.dataType() instanceof IntegralType) && id.dataType() != DataTypes.StringType) {
      throw new IllegalArgumentException("Id column '" + idColumn + "' of " + source + " has type "
          + id.dataType().simpleString() + "; it must be an integer or string column. Cast it, or "
          + "set option 'idColumn' to another column.");
    }
    boolean hasPrompt = schema.getFieldIndex(promptColumn).isDefined();
    boolean hasMessages = schema.getFieldIndex(PromptSchema.DEFAULT_MESSAGES).isDefined();
    if (!hasPrompt && !hasMessages) {
      throw new IllegalArgumentException("No prompt column in " + source + ": expected a string "
          + "column '" + promptColumn + "' (or a chat column '" + PromptSchema.DEFAULT_MESSAGES
          + "'); columns are " + String.join(", ", schema.fieldNames())
          + ". Set option 'promptColumn' to the column holding the prompt text.");
    }
    if (hasPrompt) {
      expect(schema, promptColumn, DataTypes.StringType, source);
    }
    if (hasMessages) {
      DataType t = schema.apply(PromptSchema.DEFAULT_MESSAGES).dataType();
      boolean ok = t instanceof ArrayType a && a.elementType() instanceof StructType s
          && s.getFieldIndex(PromptSchema.ROLE).isDefined()
          && s.getFieldIndex(PromptSchema.CONTENT).isDefined();
      if (!ok) {
        throw new IllegalArgumentException("Column '" + PromptSchema.DEFAULT_MESSAGES + "' of "
            + source + " has type " + t.simpleString() + "; chat prompts must be "
            + "array<struct<role:string,content:string>>.");
      }
    }
    expectIntegral(schema, PromptSchema.MAX_NEW_TOKENS, source);
    expectIntegral(schema, PromptSchema.TOP_K, source);
    expectIntegral(schema, PromptSchema.SEED, source);
    expectFractional(schema, PromptSchema.TEMPERATURE, source);
    expectFractional(schema, PromptSchema.TOP_P, source);
    if (schema.getFieldIndex(PromptSchema.STOP).isDefined()) {
      expect(schema, PromptSchema.STOP, DataTypes.createArrayType(DataTypes.StringType), source);
    }
    return new PromptRows(source, schema, idColumn, promptColumn);
  }

  /** The id type the result table keeps. */
  IdType idType() {
    return idType == DataTypes.StringType ? IdType.STRING : IdType.LONG;
  }

  private static StructField field(StructType schema, String name, String how) {
    if (!schema.getFieldIndex(name).isDefined()) {
      throw new IllegalArgumentException("Id column '" + name + "' is missing; columns are "
          + String.join(", ", schema.fieldNames()) + ". Set " + how + " to the column holding "
          + "each row's unique id.");
    }
    return schema.apply(name);
  }

  private static void expect(StructType schema, String name, DataType type, String source) {
    DataType t = schema.apply(name).dataType();
    if (!t.sameType(type)) {
      throw new IllegalArgumentException("Column '" + name + "' of " + source + " has type "
          + t.simpleString() + " but must be " + type.simpleString() + ". Cast it (e.g. "
          + "col(\"" + name + "\").cast(\"" + type.simpleString() + "\")) or rename it.");
    }
  }

  private static void expectIntegral(StructType schema, String name, String source) {
    if (schema.getFieldIndex(name).isDefined()
        && !(schema.apply(name).dataType() instanceof IntegralType)) {
      throw new IllegalArgumentException("Override column '" + name + "' of " + source
          + " has type " + schema.apply(name).dataType().simpleString()
          + " but must be an integer type. Cast it or rename it.");
    }
  }

  private static void expectFractional(StructType schema, String name, String source) {
    if (!schema.getFieldIndex(name).isDefined()) {
      return;
    }
    DataType t = schema.apply(name).dataType();
    if (t != DataTypes.DoubleType && t != DataTypes.FloatType) {
      throw new IllegalArgumentException("Override column '" + name + "' of " + source
          + " has type " + t.simpleString() + " but must be double or float. Cast it or "
          + "rename it.");
    }
  }

  /** The id of {@code row} as text, or null when the id is null. */
  String id(InternalRow row) {
    if (row.isNullAt(idOrdinal)) {
      return null;
    }
    return idType == DataTypes.StringType ? row.getUTF8String(idOrdinal).toString()
        : Long.toString(longValue(row, idOrdinal));
  }

  /**
   * One row as a request, or the error that names it.
   *
   * @param rowNumber the row's index within this task's input, for messages
   */
  Object read(InternalRow row, long rowNumber) {
    String id = id(row);
    if (id == null) {
      return new RowError(source, rowNumber, null, columnName(idOrdinal),
          "the id is null; every row needs a unique, non-null id");
    }
    String prompt = promptOrdinal >= 0 && !row.isNullAt(promptOrdinal)
        ? row.getUTF8String(promptOrdinal).toString() : null;
    List<ChatMessage> messages = null;
    if (prompt == null && messagesOrdinal >= 0 && !row.isNullAt(messagesOrdinal)) {
      ArrayData arr = row.getArray(messagesOrdinal);
      messages = new ArrayList<>(arr.numElements());
      for (int i = 0; i < arr.numElements(); i++) {
        InternalRow m = arr.getStruct(i, 2);
        if (m.isNullAt(0) || m.isNullAt(1) || m.getUTF8String(0).toString().isBlank()) {
          return new RowError(source, rowNumber, id, PromptSchema.DEFAULT_MESSAGES,
              "message " + i + " has a null or blank role, or null content");
        }
        messages.add(new ChatMessage(m.getUTF8String(0).toString(),
            m.getUTF8String(1).toString()));
      }
      if (messages.isEmpty()) {
        return new RowError(source, rowNumber, id, PromptSchema.DEFAULT_MESSAGES,
            "the chat has no messages");
      }
    }
    if (prompt == null && messages == null) {
      return new RowError(source, rowNumber, id, promptOrdinal >= 0 ? columnName(promptOrdinal)
          : PromptSchema.DEFAULT_MESSAGES, "the prompt is null; give every row a prompt text "
          + "(or chat messages)");
    }
    GenerationOverrides overrides;
    try {
      overrides = overrides(row);
    } catch (IllegalArgumentException e) {
      return new RowError(source, rowNumber, id, "overrides", e.getMessage());
    }
    return new PromptRequest(id, prompt, messages, overrides);
  }

  private String columnName(int ordinal) {
    return ordinal == idOrdinal ? "id" : "prompt";
  }

  private GenerationOverrides overrides(InternalRow row) {
    Integer maxNew = intOrNull(row, maxNewTokensOrdinal);
    Integer topK = intOrNull(row, topKOrdinal);
    Long seed = seedOrdinal >= 0 && !row.isNullAt(seedOrdinal) ? longValue(row, seedOrdinal) : null;
    Double temperature = doubleOrNull(row, temperatureOrdinal);
    Double topP = doubleOrNull(row, topPOrdinal);
    List<String> stop = null;
    if (stopOrdinal >= 0 && !row.isNullAt(stopOrdinal)) {
      ArrayData arr = row.getArray(stopOrdinal);
      stop = new ArrayList<>(arr.numElements());
      for (int i = 0; i < arr.numElements(); i++) {
        if (arr.isNullAt(i) || arr.getUTF8String(i).numBytes() == 0) {
          throw new IllegalArgumentException("column 'stop' has a null or empty stop string");
        }
        stop.add(arr.getUTF8String(i).toString());
      }
    }
    GenerationOverrides overrides =
        new GenerationOverrides(maxNew, temperature, topP, topK, seed, stop);
    String[] bad = overrides.validate();  // the same rules as every other prompt reader
    if (bad != null) {
      throw new IllegalArgumentException("column '" + bad[0] + "': " + bad[1]);
    }
    return overrides;
  }

  private Integer intOrNull(InternalRow row, int ordinal) {
    if (ordinal < 0 || row.isNullAt(ordinal)) {
      return null;
    }
    long v = longValue(row, ordinal);
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  private Double doubleOrNull(InternalRow row, int ordinal) {
    if (ordinal < 0 || row.isNullAt(ordinal)) {
      return null;
    }
    return schema.fields()[ordinal].dataType() == DataTypes.FloatType
        ? (double) row.getFloat(ordinal) : row.getDouble(ordinal);
  }

  private long longValue(InternalRow row, int ordinal) {
    DataType t = schema.fields()[ordinal].dataType();
    if (t == DataTypes.LongType) {
      return row.getLong(ordinal);
    }
    if (t == DataTypes.IntegerType) {
      return row.getInt(ordinal);
    }
    if (t == DataTypes.ShortType) {
      return row.getShort(ordinal);
    }
    return row.getByte(ordinal);
  }
}
