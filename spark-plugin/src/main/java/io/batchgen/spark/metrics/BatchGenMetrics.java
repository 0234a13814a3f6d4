package io.batchgen.spark.metrics;

import org.apache.spark.sql.connector.metric.CustomAvgMetric;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * The Spark UI metrics of batchgen scans and writes. Each is a tiny class (Spark instantiates
 * them by name on the driver); tasks report values under the same names.
 */
public final class BatchGenMetrics {
  public static final String TOKENS_GENERATED = "batchgenTokensGenerated";
  public static final String PROMPT_TOKENS = "batchgenPromptTokens";
  public static final String ROWS_FAILED = "batchgenRowsFailed";
  public static final String TOKENS_PER_SECOND = "batchgenTokensPerSecond";
  public static final String EXPERT_BATCH = "batchgenMeanExpertBatch";
  public static final String MIGRATIONS = "batchgenMigrations";

  private BatchGenMetrics() {
  }

  public static CustomMetric[] all() {
    return new CustomMetric[] {new TokensGenerated(), new PromptTokens(), new RowsFailed(),
        new TokensPerSecond(), new MeanExpertBatch(), new Migrations()};
  }

  /** A task's value of one metric. */
  public static CustomTaskMetric value(String name, long value) {
    return new CustomTaskMetric() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public long value() {
        return value;
      }
    };
  }

  public static final class TokensGenerated extends CustomSumMetric {
    @Override
    public String name() {
      return TOKENS_GENERATED;
    }

    @Override
    public String description() {
      return "tokens generated";
    }
  }

  public static final class PromptTokens extends CustomSumMetric {
    @Override
    public String name() {
      return PROMPT_TOKENS;
    }

    @Override
    public String description() {
      return "prompt tokens";
    }
  }

  public static final class RowsFailed extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_FAILED;
    }

    @Override
    public String description() {
      return "rows failed";
    }
  }

  /** Mean over tasks of each task's generated tokens per second of its run time. */
  public static final class TokensPerSecond extends CustomAvgMetric {
    @Override
    public String name() {
      return TOKENS_PER_SECOND;
    }

    @Override
    public String description() {
      return "tokens/s per task";
    }
  }

  /** Mean rows per expert module batch in the executor runtime, sampled when each task ends. */
  public static final class MeanExpertBatch extends CustomAvgMetric {
    @Override
    public String name() {
      return EXPERT_BATCH;
    }

    @Override
    public String description() {
      return "mean expert-batch rows";
    }
  }

  public static final class Migrations extends CustomSumMetric {
    @Override
    public String name() {
      return MIGRATIONS;
    }

    @Override
    public String description() {
      return "sequences migrated";
    }
  }
}
