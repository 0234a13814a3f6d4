package io.batchgen.io;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.complex.writer.BaseWriter.StructWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Writes {@link PromptRequest}s as an Arrow record batch in the canonical prompt schema (every
 * column of {@code docs/schemas.md}, default names), the inverse of {@link ArrowPromptConverter}.
 * Used to ship prompt batches between processes and to build prompt tables in tests and tools.
 */
public final class ArrowPromptWriter {

  private ArrowPromptWriter() {}

  /** The canonical prompt schema with all optional columns. */
  public static Schema arrowSchema(IdType idType) {
    Field role = Field.notNullable(PromptSchema.ROLE, ArrowType.Utf8.INSTANCE);
    Field content = Field.notNullable(PromptSchema.CONTENT, ArrowType.Utf8.INSTANCE);
    Field message = new Field("element", FieldType.notNullable(ArrowType.Struct.INSTANCE),
        List.of(role, content));
    Field stopItem = Field.notNullable("element", ArrowType.Utf8.INSTANCE);
    ArrowType f64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
    return new Schema(List.of(
        Field.notNullable(PromptSchema.DEFAULT_ID,
            idType == IdType.LONG ? new ArrowType.Int(64, true) : ArrowType.Utf8.INSTANCE),
        Field.nullable(PromptSchema.DEFAULT_PROMPT, ArrowType.Utf8.INSTANCE),
        new Field(PromptSchema.DEFAULT_MESSAGES, FieldType.nullable(ArrowType.List.INSTANCE),
            List.of(message)),
        Field.nullable(PromptSchema.MAX_NEW_TOKENS, new ArrowType.Int(32, true)),
        Field.nullable(PromptSchema.TEMPERATURE, f64),
        Field.nullable(PromptSchema.TOP_P, f64),
        Field.nullable(PromptSchema.TOP_K, new ArrowType.Int(32, true)),
        Field.nullable(PromptSchema.SEED, new ArrowType.Int(64, true)),
        new Field(PromptSchema.STOP, FieldType.nullable(ArrowType.List.INSTANCE),
            List.of(stopItem))));
  }

  /**
   * A new record batch holding {@code requests}; the caller closes it.
   *
   * @throws NumberFormatException when {@code idType} is LONG and an id is not a decimal long
   */
  public static VectorSchemaRoot write(List<PromptRequest> requests, IdType idType,
      BufferAllocator allocator) {
    VectorSchemaRoot root = VectorSchemaRoot.create(arrowSchema(idType), allocator);
    try {
      root.allocateNew();
      VarCharVector prompt = (VarCharVector) root.getVector(PromptSchema.DEFAULT_PROMPT);
      ListVector messages = (ListVector) root.getVector(PromptSchema.DEFAULT_MESSAGES);
      ListVector stop = (ListVector) root.getVector(PromptSchema.STOP);
      UnionListWriter messageWriter = messages.getWriter();
      UnionListWriter stopWriter = stop.getWriter();
      for (int i = 0; i < requests.size(); i++) {
        PromptRequest r = requests.get(i);
        if (idType == IdType.LONG) {
          ((BigIntVector) root.getVector(PromptSchema.DEFAULT_ID)).setSafe(i,
              Long.parseLong(r.id()));
        } else {
          ((VarCharVector) root.getVector(PromptSchema.DEFAULT_ID)).setSafe(i, utf8(r.id()));
        }
        if (r.prompt() != null) {
          prompt.setSafe(i, utf8(r.prompt()));
        }
        if (r.messages() != null) {
          messageWriter.setPosition(i);
          messageWriter.startList();
          for (ChatMessage m : r.messages()) {
            StructWriter sw = messageWriter.struct();
            sw.start();
            sw.varChar(PromptSchema.ROLE).writeVarChar(m.role());
            sw.varChar(PromptSchema.CONTENT).writeVarChar(m.content());
            sw.end();
          }
          messageWriter.endList();
        }
        GenerationOverrides o = r.overrides();
        if (o.maxNewTokens() != null) {
          ((IntVector) root.getVector(PromptSchema.MAX_NEW_TOKENS)).setSafe(i, o.maxNewTokens());
        }
        if (o.temperature() != null) {
          ((Float8Vector) root.getVector(PromptSchema.TEMPERATURE)).setSafe(i, o.temperature());
        }
        if (o.topP() != null) {
          ((Float8Vector) root.getVector(PromptSchema.TOP_P)).setSafe(i, o.topP());
        }
        if (o.topK() != null) {
          ((IntVector) root.getVector(PromptSchema.TOP_K)).setSafe(i, o.topK());
        }
        if (o.seed() != null) {
          ((BigIntVector) root.getVector(PromptSchema.SEED)).setSafe(i, o.seed());
        }
        if (o.stop() != null) {
          stopWriter.setPosition(i);
          stopWriter.startList();
          for (String s : o.stop()) {
            stopWriter.varChar().writeVarChar(s);
          }
          stopWriter.endList();
        }
      }
      messageWriter.setValueCount(requests.size());
      stopWriter.setValueCount(requests.size());
      root.setRowCount(requests.size());
      return root;
    } catch (RuntimeException e) {
      root.close();
      throw e;
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
