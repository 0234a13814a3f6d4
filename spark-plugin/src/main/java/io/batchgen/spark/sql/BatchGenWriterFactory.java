package io.batchgen.spark.sql;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.util.SerializableConfiguration;

/** Serialized to executors; creates one {@link BatchGenDataWriter} per task attempt. */
final class BatchGenWriterFactory implements DataWriterFactory {
  private final JobOptions options;
  private final PromptRows rows;
  private final String stagingDir;
  private final SerializableConfiguration hadoopConf;

  BatchGenWriterFactory(JobOptions options, PromptRows rows, String stagingDir,
      SerializableConfiguration hadoopConf) {
    this.options = options;
    this.rows = rows;
    this.stagingDir = stagingDir;
    this.hadoopConf = hadoopConf;
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new BatchGenDataWriter(options, rows, stagingDir, hadoopConf.value(), partitionId,
        taskId);
  }
}
