package io.batchgen.spark.sql;

import io.batchgen.io.IdType;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.util.SerializableConfiguration;

/** Serialized to executors; one {@link BatchGenPartitionReader} per read task. */
final class BatchGenReaderFactory implements PartitionReaderFactory {
  private final JobOptions options;
  private final IdType idType;
  private final SerializableConfiguration hadoopConf;
  private final RepeatedIds repeated;

  BatchGenReaderFactory(JobOptions options, IdType idType, SerializableConfiguration hadoopConf,
      RepeatedIds repeated) {
    this.options = options;
    this.idType = idType;
    this.hadoopConf = hadoopConf;
    this.repeated = repeated;
  }

  @Override
  public PartitionReader<InternalRow> createReader(InputPartition partition) {
    return new BatchGenPartitionReader(options, idType, (PromptPartition) partition,
        hadoopConf.value(), repeated);
  }
}
