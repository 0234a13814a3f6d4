package io.batchgen.spark;

import io.batchgen.core.runtime.FinishReason;
import io.batchgen.io.GenerationResult;
import io.batchgen.io.OpenAiBatchWriter;
import io.batchgen.io.Provenance;
import io.batchgen.io.ResultSchema;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The OpenAI batch files of a {@link BatchGenJob}: an input JSONL file as request lines for the
 * sink (option {@code requestColumn}; each line is read by arrow-io's {@code OpenAiBatchReader}
 * in the write tasks), and the job's result table exported as the batch API's output JSONL
 * (arrow-io's {@link OpenAiBatchWriter}), one line per result.
 */
final class OpenAiBatchFiles {
  /** Columns of {@link #requests}: the line's 0-based index, its custom_id, the line. */
  static final String LINE = "line";
  static final String CUSTOM_ID = "custom_id";
  static final String REQUEST = "request";

  private OpenAiBatchFiles() {
  }

  /** Whether {@code path} names JSON Lines by its extension. */
  static boolean isJsonl(String path) {
    String p = path.toLowerCase(java.util.Locale.ROOT);
    return p.endsWith(".jsonl") || p.endsWith(".jsonl.gz");
  }

  /**
   * The non-blank lines of one OpenAI batch input file as rows (line, custom_id, request), the
   * request's bytes as read (so invalid UTF-8 is found by the reader, not replaced), custom_id
   * as Spark's JSON path reads it (null when the line is not JSON).
   *
   * @throws IllegalArgumentException when {@code path} is not one readable file
   */
  static Dataset<Row> requests(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      FileStatus st = p.getFileSystem(spark.sparkContext().hadoopConfiguration())
          .getFileStatus(p);
      if (!st.isFile()) {
        throw new IllegalArgumentException("OpenAI batch input [" + path + "] is a folder; give"
            + " one .jsonl file (one request per line).");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read the OpenAI batch input [" + path + "]: "
          + e.getMessage() + ". Check --input.", e);
    }
    // One file's splits are read in order, so the row index is the line index.
    JavaRDD<Row> lines = spark.read().text(path).selectExpr("cast(value as binary) as v")
        .javaRDD().zipWithIndex().map(t -> RowFactory.create(t._2(), t._1().get(0)));
    StructType schema = new StructType().add(LINE, DataTypes.LongType, false)
        .add("v", DataTypes.BinaryType);
    return spark.createDataFrame(lines, schema)
        .selectExpr(LINE, "cast(v as string) as " + REQUEST)
        .where("length(trim(BOTH ' \\t\\r' FROM " + REQUEST + ")) > 0")
        .selectExpr(LINE, "get_json_object(" + REQUEST + ", '$.custom_id') as " + CUSTOM_ID,
            REQUEST);
  }

  /**
   * Per id of the prompts: whether it was a chat request (the output then answers as
   * {@code /v1/chat/completions}) and its line (the output keeps the input's order).
   */
  static Dataset<Row> endpoints(Dataset<Row> prompts, boolean requestLines, String idColumn) {
    Dataset<Row> kinds = requestLines
        ? prompts.selectExpr(CUSTOM_ID + " as id", "coalesce(get_json_object(" + REQUEST
            + ", '$.url') = '/v1/chat/completions', get_json_object(" + REQUEST
            + ", '$.body.messages') is not null) as chat", LINE + " as order_key")
        : prompts.selectExpr("cast(`" + idColumn.replace("`", "``") + "` as string) as id",
            (Arrays.asList(prompts.columns()).contains("messages") ? "messages is not null"
                : "false") + " as chat", "cast(null as long) as order_key");
    return kinds.where("id is not null").groupBy("id").agg(
        org.apache.spark.sql.functions.max("chat").as("chat"),
        org.apache.spark.sql.functions.min("order_key").as("order_key"));
  }

  /**
   * Writes the result table at {@code table} as OpenAI batch output to {@code output} (through a
   * temporary file and a rename, so readers never see half a file): one line per result row, in
   * input order where it is known, errors in the {@code error} field.
   *
   * @return lines written
   */
  static long export(SparkSession spark, String table, Dataset<Row> endpoints, String output,
      long createdEpochSeconds) {
    Dataset<Row> rows = spark.read().parquet(table)
        .selectExpr("cast(id as string) as id", ResultSchema.COMPLETION,
            ResultSchema.PROMPT_TOKENS, ResultSchema.COMPLETION_TOKENS,
            ResultSchema.FINISH_REASON, ResultSchema.ERROR, ResultSchema.SEED,
            ResultSchema.MODEL_ID, ResultSchema.MODEL_HASH, ResultSchema.ENGINE_VERSION)
        .join(endpoints, scala.jdk.javaapi.CollectionConverters.asScala(
            java.util.List.of("id")).toSeq(), "left")
        .orderBy(org.apache.spark.sql.functions.col("order_key").asc_nulls_last(),
            org.apache.spark.sql.functions.col("id").asc_nulls_last());
    Path out = new Path(output);
    Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
    try {
      FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
      long lines;
      try (OutputStream o = fs.create(tmp, true);
          OpenAiBatchWriter w = new OpenAiBatchWriter(new java.io.BufferedOutputStream(o, 1 << 16),
              createdEpochSeconds)) {
        for (Iterator<Row> it = rows.toLocalIterator(); it.hasNext(); ) {
          Row r = it.next();
          boolean chat = !r.isNullAt(r.fieldIndex("chat")) && r.getBoolean(r.fieldIndex("chat"));
          w.write(result(r), chat ? OpenAiBatchWriter.Endpoint.CHAT
              : OpenAiBatchWriter.Endpoint.COMPLETIONS);
        }
        lines = w.linesWritten();
      }
      if (fs.exists(out) && !fs.delete(out, false)) {
        throw new IOException("cannot replace " + out);
      }
      if (!fs.rename(tmp, out)) {
        throw new IOException("cannot move " + tmp + " to " + out);
      }
      return lines;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the OpenAI batch output [" + output + "]: "
          + e.getMessage() + ". The result table at " + table + " is complete; run again with"
          + " --mode append --resume true to write the file without generating anything.", e);
    }
  }

  /** A row of the result table as arrow-io's result record. */
  private static GenerationResult result(Row r) {
    String error = r.getAs(ResultSchema.ERROR);
    Long seed = r.isNullAt(r.fieldIndex(ResultSchema.SEED)) ? null : r.getAs(ResultSchema.SEED);
    int completionTokens = r.getAs(ResultSchema.COMPLETION_TOKENS);
    return new GenerationResult(r.getAs("id"), r.getAs(ResultSchema.COMPLETION), null,
        r.getAs(ResultSchema.PROMPT_TOKENS), completionTokens,
        FinishReason.fromWireName(r.getAs(ResultSchema.FINISH_REASON)), error, seed,
        new Provenance(r.getAs(ResultSchema.MODEL_ID), r.getAs(ResultSchema.MODEL_HASH),
            r.getAs(ResultSchema.ENGINE_VERSION)));
  }
}
