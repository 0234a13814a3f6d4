package io.batchgen.spark.sql;

import io.batchgen.io.IdType;
import java.util.List;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.util.SerializableConfiguration;

/** The partitions of a batchgen read, planned by estimated cost ({@link CostPlanner}). */
final class BatchGenBatch implements Batch {
  private final JobOptions options;
  private final IdType idType;
  private final List<PromptPartition> planned;
  private final SerializableConfiguration hadoopConf;
  private final RepeatedIds repeated;

  BatchGenBatch(JobOptions options, IdType idType, List<PromptPartition> planned,
      SerializableConfiguration hadoopConf, RepeatedIds repeated) {
    this.options = options;
    this.idType = idType;
    this.planned = List.copyOf(planned);
    this.hadoopConf = hadoopConf;
    this.repeated = repeated;
  }

  @Override
  public InputPartition[] planInputPartitions() {
    return planned.toArray(new InputPartition[0]);
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    return new BatchGenReaderFactory(options, idType, hadoopConf, repeated);
  }
}
