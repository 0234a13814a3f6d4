package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.Schema;

/** Reads result rows back from an Arrow batch in the {@link ResultSchema} layout. */
public final class ArrowResultReader {

  private ArrowResultReader() {}

  /**
   * The rows of {@code root}, in order.
   *
   * @throws IllegalArgumentException when the batch is not in the result layout
   */
  public static List<GenerationResult> read(VectorSchemaRoot root) {
    ResultSchema schema = detect(root.getSchema());
    List<GenerationResult> out = new ArrayList<>(root.getRowCount());
    FieldVector id = root.getVector(ResultSchema.ID);
    ListVector tokens = schema.includeTokenIds()
        ? (ListVector) root.getVector(ResultSchema.COMPLETION_TOKEN_IDS) : null;
    Provenance last = null;
    for (int i = 0; i < root.getRowCount(); i++) {
      String idText = id.isNull(i) ? null : schema.idType() == IdType.LONG
          ? Long.toString(((BigIntVector) id).get(i)) : string(id, i);
      int[] ids = null;
      if (tokens != null && !tokens.isNull(i)) {
        IntVector data = (IntVector) tokens.getDataVector();
        int start = tokens.getElementStartIndex(i);
        ids = new int[tokens.getElementEndIndex(i) - start];
        for (int k = 0; k < ids.length; k++) {
          ids[k] = data.get(start + k);
        }
      }
      Provenance p = new Provenance(string(root.getVector(ResultSchema.MODEL_ID), i),
          string(root.getVector(ResultSchema.MODEL_HASH), i),
          string(root.getVector(ResultSchema.ENGINE_VERSION), i));
      last = p.equals(last) ? last : p;
      BigIntVector seed = (BigIntVector) root.getVector(ResultSchema.SEED);
      out.add(new GenerationResult(idText, string(root.getVector(ResultSchema.COMPLETION), i), ids,
          ((IntVector) root.getVector(ResultSchema.PROMPT_TOKENS)).get(i),
          ((IntVector) root.getVector(ResultSchema.COMPLETION_TOKENS)).get(i),
          FinishReason.fromWireName(string(root.getVector(ResultSchema.FINISH_REASON), i)),
          string(root.getVector(ResultSchema.ERROR), i), seed.isNull(i) ? null : seed.get(i),
          last));
    }
    return out;
  }

  /** The result layout of {@code schema}; throws when it is not one. */
  public static ResultSchema detect(Schema schema) {
    for (IdType t : IdType.values()) {
      for (boolean tokens : new boolean[] {false, true}) {
        ResultSchema candidate = new ResultSchema(t, tokens);
        if (candidate.arrowSchema().equals(schema)) {
          return candidate;
        }
      }
    }
    throw new IllegalArgumentException("Arrow batch is not in the BatchGen result layout: got "
        + schema + ". Write results with ArrowResultBatcher (see docs/schemas.md).");
  }

  private static String string(FieldVector v, int i) {
    return v.isNull(i) ? null : new String(((VarCharVector) v).get(i),
        java.nio.charset.StandardCharsets.UTF_8);
  }
}
