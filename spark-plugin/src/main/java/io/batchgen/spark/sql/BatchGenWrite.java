package io.batchgen.spark.sql;

import io.batchgen.io.ResultSchema;
import io.batchgen.spark.metrics.BatchGenMetrics;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.progress.WriteProgress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.distributions.Distribution;
import org.apache.spark.sql.connector.distributions.Distributions;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.NullOrdering;
import org.apache.spark.sql.connector.expressions.SortDirection;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.RequiresDistributionAndOrdering;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A planned {@code batchgen} write. It asks Spark for exactly {@code partitions} write tasks
 * (so adaptive execution does not coalesce expensive generation work into a few tasks), each
 * id's rows in one task, and each task's rows sorted by id (so repeated ids are adjacent and
 * found with constant memory).
 */
final class BatchGenWrite implements RequiresDistributionAndOrdering {
  private static final Logger LOG = LoggerFactory.getLogger(BatchGenWrite.class);

  private final JobOptions options;
  private final SparkPromptRows rows;
  private final ResultTable table;
  private final boolean overwrite;
  private final String queryId;
  private final int partitions;
  private final String modelFingerprint;

  BatchGenWrite(JobOptions options, SparkPromptRows rows, ResultTable table, boolean overwrite,
      String queryId, int partitions, String modelFingerprint) {
    this.options = options;
    this.rows = rows;
    this.table = table;
    this.overwrite = overwrite;
    this.queryId = queryId;
    this.partitions = partitions;
    this.modelFingerprint = modelFingerprint;
  }

  /**
   * Each id in one task: clustered by id (Spark hashes it: an even spread over the partitions)
   * or, with {@code writePartitioning=range}, ordered by id (Spark range-partitions it:
   * contiguous id ranges).
   */
  @Override
  public Distribution requiredDistribution() {
    return switch (options.writePartitioning()) {
      case HASH -> Distributions.clustered(
          new Expression[] {Expressions.column(options.idColumn())});
      case RANGE -> Distributions.ordered(requiredOrdering());
    };
  }

  @Override
  public int requiredNumPartitions() {
    return partitions;
  }

  @Override
  public SortOrder[] requiredOrdering() {
    return new SortOrder[] {Expressions.sort(Expressions.column(options.idColumn()),
        SortDirection.ASCENDING, NullOrdering.NULLS_FIRST)};
  }

  @Override
  public String description() {
    return "batchgen write to " + table.out() + " (model " + options.engine().modelPath() + ")";
  }

  /**
   * The job's commit protocol. With resume, this is where the driver finds what earlier runs
   * finished (before any task starts) and ships those ids to the tasks. The write's progress is
   * tracked from here to its commit or abort ({@link WriteProgress}).
   */
  @Override
  public BatchWrite toBatch() {
    SparkSession spark = SparkSession.active();
    JobReports.Start start = JobReports.Start.now();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<ResultTable.Adopted> adopted = List.of();
    Broadcast<DoneIds> done = null;
    try {
      List<ResultTable.Adopted> leftovers = table.adoptable(conf);
      if (options.resume()) {
        adopted = leftovers;
        List<Path> finished = new ArrayList<>();
        adopted.forEach(a -> finished.add(a.file()));
        if (!overwrite) {
          finished.addAll(table.publishedFiles(conf));
        }
        DoneIds ids = doneIds(spark, finished);
        LOG.info("batchgen resume: {} ids already finished ({} files of failed runs adopted);"
            + " only the others are generated", ids.size(), adopted.size());
        done = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(ids);
      } else if (!leftovers.isEmpty()) {
        LOG.warn("Output {} holds the finished rows of {} task(s) of earlier failed runs; they are"
            + " not used unless the job runs with option resume=true", table.out(),
            leftovers.size());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the output [" + table.out() + "] to resume: "
          + e.getMessage(), e);
    }
    // Tracked from here (nothing above starts work): the write's tasks report to this progress.
    WriteProgress progress = BatchGenDriverPlugin.active().map(p -> p.progress().begin(
        spark.sparkContext(), table.jobId(), table.out().toString(), partitions)).orElse(null);
    return new BatchGenBatchWrite(new WriteJob(options, rows, table, done), overwrite, queryId,
        new SerializableConfiguration(conf), adopted, modelFingerprint, start, progress);
  }

  private static DoneIds doneIds(SparkSession spark, List<Path> files) {
    if (files.isEmpty()) {
      return DoneIds.of(java.util.Collections.emptyIterator());
    }
    return DoneIds.of(spark.read().parquet(files.stream().map(Path::toString)
        .toArray(String[]::new)).selectExpr("cast(" + ResultSchema.ID + " as string)")
        .as(Encoders.STRING()).toLocalIterator());
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return BatchGenMetrics.all();
  }
}
