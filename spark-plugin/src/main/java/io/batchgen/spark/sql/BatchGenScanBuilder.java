package io.batchgen.spark.sql;

import io.batchgen.io.IdType;
import io.batchgen.io.OpenAiBatchDataset;
import io.batchgen.io.OpenAiBatchReader;
import io.batchgen.io.PromptDataset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import io.batchgen.spark.metrics.BatchGenMetrics;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
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
 * schema (from Parquet footers; an OpenAI batch JSONL dataset has ids of type string) and the
 * model, and fixes the result schema. The scan and its single batch are this object too: a
 * batchgen scan has nothing to push down.
 */
public final class BatchGenScanBuilder implements ScanBuilder, Scan {
  private final JobOptions options;
  private final String prompts;
  private final IdType idType;
  private final StructType readSchema;

  private BatchGenScanBuilder(JobOptions options, String prompts, IdType idType) {
    this.options = options;
    this.prompts = prompts;
    this.idType = idType;
    this.readSchema = ResultRows.schema(idType, options.includeTokenIds());
  }

  /**
   * Validates the read options.
   *
   * @throws IllegalArgumentException naming the bad option, column or path
   */
  public static BatchGenScanBuilder plan(CaseInsensitiveStringMap options) {
    ResolvedConfig config = SessionOptions.resolve(options);
    String prompts = config.get(BatchGenConfig.PROMPTS);
    String format = config.get(BatchGenConfig.PROMPTS_FORMAT);
    if (format.equals("auto")) {
      format = prompts.toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl")
          ? JobOptions.OPENAI : "parquet";
    }
    JobOptions job = JobOptions.from(config).withPromptsFormat(format);
    IdType idType;
    if (job.requestLines()) {
      // Fails here, naming the path, when there is nothing to read.
      OpenAiBatchDataset.open(prompts, SparkSession.active().sparkContext().hadoopConfiguration());
      idType = IdType.STRING;
    } else {
      StructType promptSchema;
      try {
        promptSchema = SparkSession.active().read().parquet(prompts).schema();
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("Option 'prompts' names [" + prompts + "], which"
            + " cannot be read as Parquet: " + e.getMessage() + ". For OpenAI batch JSONL set"
            + " option promptsFormat=openai.", e);
      }
      idType = SparkPromptRows.bind("prompts [" + prompts + "]", promptSchema,
          job.promptSchema()).idType();
    }
    ModelCheck.check(job);
    return new BatchGenScanBuilder(job, prompts, idType);
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
    int partitions = SessionOptions.partitions(options);
    int expected = options.generation().maxNewTokens();
    if (options.requestLines()) {
      return planLines(conf, partitions, expected);
    }
    PromptDataset dataset = PromptDataset.open(prompts, conf);
    RepeatedIds repeated = RepeatedIds.find(SparkSession.active(), prompts, options.idColumn(),
        !options.recordErrors());
    return new BatchGenBatch(options, idType, CostPlanner.plan(
        dataset.rowGroupCosts(options.promptSchema()), partitions, expected),
        new SerializableConfiguration(conf), repeated);
  }

  /**
   * An OpenAI batch dataset: one pass over each file on the driver gives every line's offset
   * (slices start anywhere) and custom_id (repeated ids are found before the read; each id is
   * held once in the driver's memory meanwhile).
   */
  private Batch planLines(Configuration conf, int partitions, int expected) {
    OpenAiBatchDataset dataset = OpenAiBatchDataset.open(prompts, conf);
    Map<String, long[]> offsets = new LinkedHashMap<>();
    Map<String, long[]> seen = new HashMap<>(); // custom_id -> {file index, first line, copies}
    List<Path> files = dataset.files();
    for (int f = 0; f < files.size(); f++) {
      int fileIndex = f;
      offsets.put(files.get(f).toString(), dataset.scan(files.get(f), (line, id) -> {
        if (id != null) {
          long[] s = seen.computeIfAbsent(id, k -> new long[] {fileIndex, line, 0});
          s[2]++;
        }
      }));
    }
    Map<String, RepeatedIds.First> first = new HashMap<>();
    seen.forEach((id, s) -> {
      if (s[2] > 1) {
        first.put(id, new RepeatedIds.First(RepeatedIds.pathOnly(files.get((int) s[0])
            .toString()), s[1], s[2]));
      }
    });
    RepeatedIds repeated = RepeatedIds.of(first, prompts, OpenAiBatchReader.CUSTOM_ID,
        !options.recordErrors());
    return new BatchGenBatch(options, idType, CostPlanner.planLines(offsets, partitions,
        expected), new SerializableConfiguration(conf), repeated);
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return BatchGenMetrics.all();
  }
}
