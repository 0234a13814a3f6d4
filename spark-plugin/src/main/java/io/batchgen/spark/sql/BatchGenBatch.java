package io.batchgen.spark.sql;

import io.batchgen.io.PromptDataset;
import io.batchgen.io.PromptSchema;
import java.util.List;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.util.SerializableConfiguration;

/** The partitions of a batchgen read, planned by estimated cost ({@link CostPlanner}). */
final class BatchGenBatch implements Batch {
  private final JobOptions options;
  private final PromptRows rows;
  private final PromptDataset dataset;
  private final SerializableConfiguration hadoopConf;
  private final int partitions;
  private final boolean longIds;

  BatchGenBatch(JobOptions options, PromptRows rows, PromptDataset dataset,
      SerializableConfiguration hadoopConf, int partitions, boolean longIds) {
    this.options = options;
    this.rows = rows;
    this.dataset = dataset;
    this.hadoopConf = hadoopConf;
    this.partitions = partitions;
    this.longIds = longIds;
  }

  @Override
  public InputPartition[] planInputPartitions() {
    PromptSchema schema = PromptSchema.DEFAULT.withIdColumn(options.idColumn())
        .withPromptColumn(options.promptColumn());
    List<PromptPartition> planned = CostPlanner.plan(dataset.rowGroupCosts(schema), partitions,
        options.maxNewTokens());
    return planned.toArray(new InputPartition[0]);
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    return new BatchGenReaderFactory(options, rows.idType(), hadoopConf);
  }
}
