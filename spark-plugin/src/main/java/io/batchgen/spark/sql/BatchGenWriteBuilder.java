package io.batchgen.spark.sql;

import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.SupportsTruncate;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;

/**
 * Plans a {@code batchgen} write on the driver: resolves and validates the options, the input
 * schema, the model and the output folder, so that mistakes fail here, before any task runs.
 * Overwrite mode (and Spark's default save mode, which DSv2 maps to overwrite) arrives as
 * {@link #truncate()}.
 */
final class BatchGenWriteBuilder implements WriteBuilder, SupportsTruncate {
  private final LogicalWriteInfo info;
  private boolean truncate;

  BatchGenWriteBuilder(LogicalWriteInfo info) {
    this.info = info;
  }

  @Override
  public WriteBuilder truncate() {
    truncate = true;
    return this;
  }

  @Override
  public Write build() {
    ResolvedConfig config = SessionOptions.resolve(info.options());
    String path = info.options().get("path");
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException("A batchgen write needs an output path: "
          + "df.write().format(\"batchgen\").option(\"model\", …).save(\"/out/completions\")");
    }
    if (config.isSet(BatchGenConfig.PROMPTS)) {
      throw new IllegalArgumentException("Option 'prompts' is for reads "
          + "(spark.read().format(\"batchgen\")); a write completes the rows of its DataFrame.");
    }
    JobOptions options = JobOptions.from(config);
    SparkPromptRows rows = options.requestColumn().isEmpty()
        ? SparkPromptRows.bind("the DataFrame being written", info.schema(),
            options.promptSchema())
        : SparkPromptRows.bindRequests("the request lines being written", info.schema(),
            options.idColumn(), options.requestColumn());
    String fingerprint = ModelCheck.check(options).fingerprint();
    ResultTable table = new ResultTable(path, ResultTable.jobIdOf(info.queryId()));
    table.prepare(SparkSession.active().sparkContext().hadoopConfiguration(), truncate);
    return new BatchGenWrite(options, rows, table, truncate, info.queryId(),
        SessionOptions.partitions(options), fingerprint);
  }
}
