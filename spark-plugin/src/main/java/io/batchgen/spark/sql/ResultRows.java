package io.batchgen.spark.sql;

import io.batchgen.io.GenerationResult;
import io.batchgen.io.IdType;
import io.batchgen.io.ResultSchema;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The result table in Spark's terms: the same columns, order and nullability as
 * {@link ResultSchema} (see docs/schemas.md), and the conversion of one result to a row.
 */
final class ResultRows {
  private ResultRows() {
  }

  static StructType schema(IdType idType, boolean includeTokenIds) {
    List<StructField> f = new ArrayList<>();
    f.add(DataTypes.createStructField(ResultSchema.ID,
        idType == IdType.LONG ? DataTypes.LongType : DataTypes.StringType, true));
    f.add(DataTypes.createStructField(ResultSchema.COMPLETION, DataTypes.StringType, true));
    if (includeTokenIds) {
      f.add(DataTypes.createStructField(ResultSchema.COMPLETION_TOKEN_IDS,
          DataTypes.createArrayType(DataTypes.IntegerType, false), true));
    }
    f.add(DataTypes.createStructField(ResultSchema.PROMPT_TOKENS, DataTypes.IntegerType, false));
    f.add(DataTypes.createStructField(ResultSchema.COMPLETION_TOKENS, DataTypes.IntegerType,
        false));
    f.add(DataTypes.createStructField(ResultSchema.FINISH_REASON, DataTypes.StringType, false));
    f.add(DataTypes.createStructField(ResultSchema.ERROR, DataTypes.StringType, true));
    f.add(DataTypes.createStructField(ResultSchema.SEED, DataTypes.LongType, true));
    f.add(DataTypes.createStructField(ResultSchema.MODEL_ID, DataTypes.StringType, false));
    f.add(DataTypes.createStructField(ResultSchema.MODEL_HASH, DataTypes.StringType, false));
    f.add(DataTypes.createStructField(ResultSchema.ENGINE_VERSION, DataTypes.StringType, false));
    return DataTypes.createStructType(f);
  }

  static InternalRow toRow(GenerationResult r, IdType idType, boolean includeTokenIds) {
    Object[] v = new Object[includeTokenIds ? 11 : 10];
    int i = 0;
    v[i++] = r.id() == null ? null
        : idType == IdType.LONG ? (Object) Long.parseLong(r.id()) : UTF8String.fromString(r.id());
    v[i++] = utf8(r.completion());
    if (includeTokenIds) {
      int[] ids = r.tokenIds();
      v[i++] = ids == null ? null : new GenericArrayData(ids);
    }
    v[i++] = r.promptTokens();
    v[i++] = r.completionTokens();
    v[i++] = UTF8String.fromString(r.finishReason().wireName());
    v[i++] = utf8(r.error());
    v[i++] = r.seed();
    v[i++] = UTF8String.fromString(r.provenance().modelId());
    v[i++] = UTF8String.fromString(r.provenance().modelHash());
    v[i] = UTF8String.fromString(r.provenance().engineVersion());
    return new GenericInternalRow(v);
  }

  private static UTF8String utf8(String s) {
    return s == null ? null : UTF8String.fromString(s);
  }
}
