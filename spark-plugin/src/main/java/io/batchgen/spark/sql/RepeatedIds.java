package io.batchgen.spark.sql;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The ids that appear more than once in a prompt dataset, with the file and row of each one's
 * first copy: found on the driver before a read starts, by one Spark job over the id column
 * (Spark aggregates with bounded memory and spills), so that copies in different files or
 * partitions are found too. The read then writes one error row per repeated id, at its first
 * copy, and skips the others: one output row per id.
 *
 * @param first repeated id → where it first appears and how often
 */
record RepeatedIds(Map<String, First> first) implements Serializable {
  /** At most this many repeated ids are carried to the tasks; more fail the read. */
  static final int LIMIT = 10_000;

  /** The first copy of a repeated id: file (path only), row within it, number of copies. */
  record First(String file, long row, long copies) implements Serializable {
  }

  static final RepeatedIds NONE = new RepeatedIds(Map.of());

  RepeatedIds {
    first = Map.copyOf(first);
  }

  /**
   * Scans {@code prompts}' id column.
   *
   * @throws IllegalArgumentException when more than {@link #LIMIT} ids repeat, or when any does
   *                                  and {@code failOnAny} (onError=fail), naming ids and files
   */
  static RepeatedIds find(SparkSession spark, String prompts, String idColumn,
      boolean failOnAny) {
    List<Row> rows = spark.read().parquet(prompts)
        .selectExpr("cast(`" + idColumn.replace("`", "``") + "` as string) as id",
            "_metadata.file_path as file", "_metadata.row_index as row")
        .where("id is not null")
        .groupBy("id")
        .agg(org.apache.spark.sql.functions.count("*").as("copies"),
            org.apache.spark.sql.functions.min(org.apache.spark.sql.functions.struct("file", "row"))
                .as("first"))
        .where("copies > 1")
        .limit(LIMIT + 1)
        .collectAsList();
    Map<String, First> first = new HashMap<>();
    for (Row r : rows) {
      Row at = r.getStruct(2);
      first.put(r.getString(0), new First(pathOnly(at.getString(0)), at.getLong(1), r.getLong(1)));
    }
    return of(first, prompts, idColumn, failOnAny);
  }

  /**
   * The repeated ids found some other way (an OpenAI batch input's planning scan), checked as
   * {@link #find} checks them.
   *
   * @param first repeated id → its first copy (file, row) and its number of copies; more than
   *              {@link #LIMIT} entries (or any, with {@code failOnAny}) fail
   */
  static RepeatedIds of(Map<String, First> first, String prompts, String idColumn,
      boolean failOnAny) {
    if (first.isEmpty()) {
      return NONE;
    }
    if (failOnAny || first.size() > LIMIT) {
      Map.Entry<String, First> e = first.entrySet().iterator().next();
      throw new IllegalArgumentException("Prompts [" + prompts + "] repeat "
          + (first.size() > LIMIT ? "more than " + LIMIT : first.size()) + " id(s) in column '"
          + idColumn + "' (first copy of id [" + e.getKey() + "]: " + e.getValue().file()
          + ", " + (idColumn.equals(io.batchgen.io.OpenAiBatchReader.CUSTOM_ID)
          ? "line " + (e.getValue().row() + 1) : "row " + e.getValue().row()) + "): " + DuplicateIdGuard.duplicateMessage(e.getKey(),
          e.getValue().copies()) + (first.size() > LIMIT ? "" : " Or set option onError=record"
          + " to write one error row per repeated id and complete the rest."));
    }
    return new RepeatedIds(first);
  }

  /** A file name as Spark's metadata and our planner both can give it: the path alone. */
  static String pathOnly(String file) {
    return Path.getPathWithoutSchemeAndAuthority(new Path(file)).toString();
  }

  /** Whether the row at {@code file}:{@code row} with {@code id} is a repeated id. */
  boolean repeated(String id) {
    return id != null && first.containsKey(id);
  }

  /** Whether that row is its id's first copy (which carries the error row). */
  boolean isFirst(String id, String file, long row) {
    First f = first.get(id);
    return f != null && f.row() == row && f.file().equals(pathOnly(file));
  }
}
