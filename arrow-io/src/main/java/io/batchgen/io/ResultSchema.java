package io.batchgen.io;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The layout of the result table (see {@code docs/schemas.md}): the id keeps the prompt table's
 * type, and the token-id column is there only when asked for.
 *
 * @param idType          type of the {@code id} column, as in the prompt table
 * @param includeTokenIds whether to write {@code completion_token_ids}
 */
public record ResultSchema(IdType idType, boolean includeTokenIds) {

  public static final String ID = "id";
  public static final String COMPLETION = "completion";
  public static final String COMPLETION_TOKEN_IDS = "completion_token_ids";
  public static final String PROMPT_TOKENS = "prompt_tokens";
  public static final String COMPLETION_TOKENS = "completion_tokens";
  public static final String FINISH_REASON = "finish_reason";
  public static final String ERROR = "error";
  public static final String SEED = "seed";
  public static final String MODEL_ID = "model_id";
  public static final String MODEL_HASH = "model_hash";
  public static final String ENGINE_VERSION = "engine_version";

  /** The id as a long for a LONG id column, with a clear error when it is not one. */
  static long longId(String id) {
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Result id [" + id + "] is not a long, but the result"
          + " table's id column is LONG (the prompt table's id type). Write with"
          + " new ResultSchema(IdType.STRING, …) for string ids.", e);
    }
  }

  /** The Arrow schema; column order is the documented one. */
  public Schema arrowSchema() {
    List<Field> fields = new ArrayList<>();
    fields.add(Field.nullable(ID,
        idType == IdType.LONG ? new ArrowType.Int(64, true) : ArrowType.Utf8.INSTANCE));
    fields.add(Field.nullable(COMPLETION, ArrowType.Utf8.INSTANCE));
    if (includeTokenIds) {
      fields.add(new Field(COMPLETION_TOKEN_IDS, FieldType.nullable(ArrowType.List.INSTANCE),
          List.of(Field.notNullable("element", new ArrowType.Int(32, true)))));
    }
    fields.add(Field.notNullable(PROMPT_TOKENS, new ArrowType.Int(32, true)));
    fields.add(Field.notNullable(COMPLETION_TOKENS, new ArrowType.Int(32, true)));
    fields.add(Field.notNullable(FINISH_REASON, ArrowType.Utf8.INSTANCE));
    fields.add(Field.nullable(ERROR, ArrowType.Utf8.INSTANCE));
    fields.add(Field.nullable(SEED, new ArrowType.Int(64, true)));
    fields.add(Field.notNullable(MODEL_ID, ArrowType.Utf8.INSTANCE));
    fields.add(Field.notNullable(MODEL_HASH, ArrowType.Utf8.INSTANCE));
    fields.add(Field.notNullable(ENGINE_VERSION, ArrowType.Utf8.INSTANCE));
    return new Schema(fields);
  }
}
