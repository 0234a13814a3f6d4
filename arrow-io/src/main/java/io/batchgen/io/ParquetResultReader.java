package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

/** Reads a result file written by {@link ParquetResultWriter}, row by row. */
public final class ParquetResultReader {

  private ParquetResultReader() {}

  /** Hands each row of {@code file} to {@code each}, in file order, without holding them all. */
  public static void forEach(Path file, Configuration conf, Consumer<GenerationResult> each) {
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
      Provenance last = null;
      for (Group g = reader.read(); g != null; g = reader.read()) {
        Provenance p = new Provenance(g.getString(ResultSchema.MODEL_ID, 0),
            g.getString(ResultSchema.MODEL_HASH, 0), g.getString(ResultSchema.ENGINE_VERSION, 0));
        last = p.equals(last) ? last : p;
        each.accept(toResult(g, last));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read result file [" + file + "]: " + e.getMessage(),
          e);
    }
  }

  /** All rows of {@code file}; for tests and small files. */
  public static List<GenerationResult> readAll(Path file, Configuration conf) {
    List<GenerationResult> out = new ArrayList<>();
    forEach(file, conf, out::add);
    return out;
  }

  private static GenerationResult toResult(Group g, Provenance provenance) {
    String id = null;
    if (g.getFieldRepetitionCount(ResultSchema.ID) > 0) {
      id = g.getType().getType(ResultSchema.ID).asPrimitiveType().getPrimitiveTypeName()
          == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64
          ? Long.toString(g.getLong(ResultSchema.ID, 0)) : g.getString(ResultSchema.ID, 0);
    }
    int[] tokenIds = null;
    if (g.getType().containsField(ResultSchema.COMPLETION_TOKEN_IDS)
        && g.getFieldRepetitionCount(ResultSchema.COMPLETION_TOKEN_IDS) > 0) {
      Group list = g.getGroup(ResultSchema.COMPLETION_TOKEN_IDS, 0);
      tokenIds = new int[list.getFieldRepetitionCount("list")];
      for (int k = 0; k < tokenIds.length; k++) {
        tokenIds[k] = list.getGroup("list", k).getInteger("element", 0);
      }
    }
    return new GenerationResult(id, optString(g, ResultSchema.COMPLETION), tokenIds,
        g.getInteger(ResultSchema.PROMPT_TOKENS, 0),
        g.getInteger(ResultSchema.COMPLETION_TOKENS, 0),
        FinishReason.fromWireName(g.getString(ResultSchema.FINISH_REASON, 0)),
        optString(g, ResultSchema.ERROR),
        g.getFieldRepetitionCount(ResultSchema.SEED) > 0 ? g.getLong(ResultSchema.SEED, 0) : null,
        provenance);
  }

  private static String optString(Group g, String field) {
    return g.getFieldRepetitionCount(field) > 0 ? g.getString(field, 0) : null;
  }
}
