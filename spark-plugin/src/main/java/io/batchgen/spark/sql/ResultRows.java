package io.batchgen.spark.sql;

import io.batchgen.io.GenerationResult;
import io.batchgen.io.IdType;
import io.batchgen.io.ResultSchema;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The result table in Spark's terms, derived from arrow-io's {@link ResultSchema} (the one
 * definition of its columns, order and nullability; see docs/schemas.md) with Spark's own
 * Arrow-to-Spark type mapping, and the conversion of one result to a row in that order.
 */
final class ResultRows {
  /** Column names per id type and token-id choice, computed once (rows are filled by name). */
  private static final String[][][] COLUMNS = new String[IdType.values().length][2][];

  static {
    for (IdType t : IdType.values()) {
      COLUMNS[t.ordinal()][0] = schema(t, false).fieldNames();
      COLUMNS[t.ordinal()][1] = schema(t, true).fieldNames();
    }
  }

  private ResultRows() {
  }

  static StructType schema(IdType idType, boolean includeTokenIds) {
    return ArrowUtils.fromArrowSchema(new ResultSchema(idType, includeTokenIds).arrowSchema());
  }

  static InternalRow toRow(GenerationResult r, IdType idType, boolean includeTokenIds) {
    String[] columns = COLUMNS[idType.ordinal()][includeTokenIds ? 1 : 0];
    Object[] v = new Object[columns.length];
    for (int i = 0; i < columns.length; i++) {
      v[i] = switch (columns[i]) {
        case ResultSchema.ID -> r.id() == null ? null : idType == IdType.LONG
            ? (Object) Long.parseLong(r.id()) : UTF8String.fromString(r.id());
        case ResultSchema.COMPLETION -> utf8(r.completion());
        case ResultSchema.COMPLETION_TOKEN_IDS -> r.tokenIds() == null ? null
            : new GenericArrayData(r.tokenIds());
        case ResultSchema.PROMPT_TOKENS -> r.promptTokens();
        case ResultSchema.COMPLETION_TOKENS -> r.completionTokens();
        case ResultSchema.FINISH_REASON -> UTF8String.fromString(r.finishReason().wireName());
        case ResultSchema.ERROR -> utf8(r.error());
        case ResultSchema.SEED -> r.seed();
        case ResultSchema.MODEL_ID -> UTF8String.fromString(r.provenance().modelId());
        case ResultSchema.MODEL_HASH -> UTF8String.fromString(r.provenance().modelHash());
        case ResultSchema.ENGINE_VERSION ->
            UTF8String.fromString(r.provenance().engineVersion());
        default -> throw new IllegalStateException("ResultSchema has a column [" + columns[i]
            + "] that ResultRows does not fill; add it here");
      };
    }
    return new GenericInternalRow(v);
  }

  private static UTF8String utf8(String s) {
    return s == null ? null : UTF8String.fromString(s);
  }
}
