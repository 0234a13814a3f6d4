package io.batchgen.spark.sql;

import io.batchgen.core.progress.JobSize;
import io.batchgen.io.PromptDataset;
import io.batchgen.io.PromptSchema;
import io.batchgen.io.RowGroupCost;
import java.util.Arrays;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** A job's size from its Parquet input's footers, before any task runs. */
public final class InputSize {
  private InputSize() {
  }

  /**
   * Rows and prompt bytes from the footers of the Parquet prompts at {@code input} (no column
   * data is read; prompt tokens at about 4 bytes each, as the source
   * plans), and the job's {@code maxNewTokens} unless the rows set their own.
   *
   * @param options the write's DataFrame options (id and prompt columns, maxNewTokens)
   * @param schema  the input's schema (does it have a max_new_tokens column?)
   */
  public static JobSize ofParquet(SparkSession spark, String input, Map<String, String> options,
      StructType schema) {
    JobOptions job = JobOptions.from(SessionOptions.resolve(options));
    long rows = 0;
    long promptBytes = 0;
    for (RowGroupCost g : PromptDataset.open(input, spark.sparkContext().hadoopConfiguration())
        .rowGroupCosts(job.promptSchema())) {
      rows += g.rowCount();
      promptBytes += g.promptBytes();
    }
    boolean perRowCaps = Arrays.asList(schema.fieldNames()).contains(PromptSchema.MAX_NEW_TOKENS);
    return new JobSize(rows, Math.round(promptBytes / CostPlanner.BYTES_PER_TOKEN),
        perRowCaps ? -1 : job.generation().maxNewTokens(), "Parquet footers");
  }
}
