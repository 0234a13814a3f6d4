package io.batchgen.spark.sql;

import io.batchgen.io.PromptDataset;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import io.batchgen.spark.metrics.BatchGenMetrics;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Plans a {@code batchgen} read on the driver: resolves the options, checks the prompt dataset's
 * schema (from Parquet footers) and the model, and fixes the result schema. The scan and its
 * single batch are this object too: a batchgen scan has nothing to push down.
 */
public final class BatchGenScanBuilder implements ScanBuilder, Scan {
  private final JobOptions options;
  private final String prompts;
  private final SparkPromptRows rows;
  private final StructType readSchema;

  private BatchGenScanBuilder(JobOptions options, String prompts, SparkPromptRows rows) {
    this.options = options;
    this.prompts = prompts;
    this.rows = rows;
    this.readSchema = ResultRows.schema(rows.idType(), options.includeTokenIds());
  }

  /**
   * Validates the read options.
   *
   * @throws IllegalArgumentException naming the bad option, column or path
   */
  public static BatchGenScanBuilder plan(CaseInsensitiveStringMap options) {
    ResolvedConfig config = SessionOptions.resolve(options);
    String prompts = config.get(BatchGenConfig.PROMPTS);
    JobOptions job = JobOptions.from(config);
    StructType promptSchema;
    try {
      promptSchema = SparkSession.active().read().parquet(prompts).schema();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Option 'prompts' names [" + prompts + "], which cannot "
          + "be read as Parquet: " + e.getMessage(), e);
    }
    SparkPromptRows rows = SparkPromptRows.bind("prompts [" + prompts + "]", promptSchema,
        job.promptSchema());
    ModelCheck.check(job);
    return new BatchGenScanBuilder(job, prompts, rows);
  }

  @Override
  public Scan build() {
    return this;
  }

  @Override
  public StructType readSchema() {
    return readSchema;
  }

  @Override
  public String description() {
    return "batchgen completions of " + prompts + " (model " + options.engine().modelPath() + ")";
  }

  @Override
  public Batch toBatch() {
    Configuration conf = SparkSession.active().sparkContext().hadoopConfiguration();
    PromptDataset dataset = PromptDataset.open(prompts, conf);
    RepeatedIds repeated = RepeatedIds.find(SparkSession.active(), prompts, options.idColumn(),
        !options.recordErrors());
    return new BatchGenBatch(options, rows.idType(), dataset, new SerializableConfiguration(conf),
        SessionOptions.partitions(options), repeated);
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return BatchGenMetrics.all();
  }
}
