package io.batchgen.spark.sql;

import io.batchgen.spark.metrics.BatchGenMetrics;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.distributions.Distribution;
import org.apache.spark.sql.connector.distributions.Distributions;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.RequiresDistributionAndOrdering;
import org.apache.spark.util.SerializableConfiguration;

/**
 * A planned {@code batchgen} write. It asks Spark for exactly {@code partitions} write tasks, so
 * adaptive execution does not coalesce expensive generation work into a few tasks.
 */
final class BatchGenWrite implements RequiresDistributionAndOrdering {
  private final JobOptions options;
  private final PromptRows rows;
  private final String path;
  private final boolean truncate;
  private final String queryId;
  private final int partitions;

  BatchGenWrite(JobOptions options, PromptRows rows, String path, boolean truncate,
      String queryId, int partitions) {
    this.options = options;
    this.rows = rows;
    this.path = path;
    this.truncate = truncate;
    this.queryId = queryId;
    this.partitions = partitions;
  }

  /** Rows clustered by id: an even spread over the partitions, and each id in one task. */
  @Override
  public Distribution requiredDistribution() {
    return Distributions.clustered(new Expression[] {Expressions.column(options.idColumn())});
  }

  @Override
  public int requiredNumPartitions() {
    return partitions;
  }

  @Override
  public SortOrder[] requiredOrdering() {
    return new SortOrder[0];
  }

  @Override
  public String description() {
    return "batchgen write to " + path + " (model " + options.engine().modelPath() + ")";
  }

  @Override
  public BatchWrite toBatch() {
    SerializableConfiguration hadoopConf = new SerializableConfiguration(
        SparkSession.active().sparkContext().hadoopConfiguration());
    return new BatchGenBatchWrite(options, rows, path, truncate, queryId, hadoopConf);
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return BatchGenMetrics.all();
  }
}
