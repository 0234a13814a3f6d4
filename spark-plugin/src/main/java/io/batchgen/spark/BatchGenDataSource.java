package io.batchgen.spark;

import io.batchgen.spark.sql.BatchGenTable;
import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The {@code batchgen} data source, found by Spark by its short name:
 * {@code df.write().format("batchgen")} generates completions for a prompt DataFrame and writes
 * them to a path; {@code spark.read().format("batchgen").option("prompts", …)} returns the
 * completions of a prompt dataset as a table. Options: see {@code docs/configs.md}.
 */
public final class BatchGenDataSource implements TableProvider, DataSourceRegister {

  @Override
  public String shortName() {
    return "batchgen";
  }

  /** Called for reads without a user schema: the result table's schema. */
  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return BatchGenTable.forRead(options).schema();
  }

  /** Writes bring the DataFrame's schema; it is validated when the write is planned. */
  @Override
  public boolean supportsExternalMetadata() {
    return true;
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning,
      Map<String, String> properties) {
    return new BatchGenTable(schema, properties);
  }
}
