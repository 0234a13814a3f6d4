package io.batchgen.spark.sql;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.util.SerializableConfiguration;

/** Serialized to executors; creates one {@link BatchGenDataWriter} per task attempt. */
final class BatchGenWriterFactory implements DataWriterFactory {
  private final WriteJob job;
  private final SerializableConfiguration hadoopConf;

  BatchGenWriterFactory(WriteJob job, SerializableConfiguration hadoopConf) {
    this.job = job;
    this.hadoopConf = hadoopConf;
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new BatchGenDataWriter(job, hadoopConf.value(), partitionId, taskId);
  }
}
