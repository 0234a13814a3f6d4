package io.batchgen.spark.sql;

import io.batchgen.io.GenerationDefaults;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import io.batchgen.spark.runtime.EngineSpec;
import java.io.Serializable;

/**
 * Everything a read or write task needs, resolved and validated once on the driver and shipped
 * with the tasks. Each value came from a DataFrame option, else the session conf, else the
 * default ({@link ResolvedConfig}); a row's own columns then override the generation settings
 * ({@link GenerationDefaults#forRow}).
 *
 * @param engine             which runtime the tasks use
 * @param generation         the job's generation settings
 * @param idColumn           input id column
 * @param promptColumn       input prompt column
 * @param recordErrors       onError=record: bad rows are written with their error
 * @param resume             sink: keep what earlier failed runs finished, generate the rest
 * @param includeTokenIds    write completion token ids
 * @param numPartitions      partitions to plan or write; 0 = default parallelism
 * @param writePartitioning  sink: how rows are dealt to write tasks
 * @param maxInflightRows    rows one task keeps in the runtime at once
 * @param rebalance          whether the rebalancer may move the job's rows to other executors
 * @param chatTemplateName   the model's chat template for chat rows ("default": its main one)
 * @param chatTemplateKwargs extra chat-template variables as a JSON object; empty for none
 * @param requestColumn      sink: the column of OpenAI batch request lines; empty when rows are
 *                           prompt-table rows
 * @param promptsFormat      source: auto, parquet or openai (resolved by the scan)
 */
public record JobOptions(EngineSpec engine, GenerationDefaults generation, String idColumn,
    String promptColumn, boolean recordErrors, boolean resume, boolean includeTokenIds,
    int numPartitions, WritePartitioning writePartitioning, int maxInflightRows,
    boolean rebalance, String chatTemplateName, String chatTemplateKwargs, String requestColumn,
    String promptsFormat) implements Serializable {

  /** {@link #promptsFormat} of OpenAI batch JSONL. */
  static final String OPENAI = "openai";

  public JobOptions {
    chatTemplateKwargs = chatTemplateKwargs == null ? "" : chatTemplateKwargs;
    requestColumn = requestColumn == null ? "" : requestColumn;
    promptsFormat = promptsFormat == null ? "auto" : promptsFormat;
  }

  /**
   * Whether rows are OpenAI batch request lines (a sink's request column, or a JSONL source):
   * errors then name lines and request fields.
   */
  public boolean requestLines() {
    return !requestColumn.isEmpty() || OPENAI.equals(promptsFormat);
  }

  /** These options with the source's prompts format resolved. */
  JobOptions withPromptsFormat(String format) {
    return new JobOptions(engine, generation, idColumn, promptColumn, recordErrors, resume,
        includeTokenIds, numPartitions, writePartitioning, maxInflightRows, rebalance,
        chatTemplateName, chatTemplateKwargs, requestColumn, format);
  }

  /** Builds the options from resolved settings; {@code model} must be set. */
  public static JobOptions from(ResolvedConfig c) {
    EngineSpec engine = new EngineSpec(c.get(BatchGenConfig.MODEL), c.get(BatchGenConfig.BACKEND),
        c.get(BatchGenConfig.THREADS), c.get(BatchGenConfig.SCHEDULING_MODE),
        c.get(BatchGenConfig.KV_BUDGET), c.get(BatchGenConfig.MAX_RUNNING),
        c.get(BatchGenConfig.KV_OFFLOAD), c.get(BatchGenConfig.WEIGHTS_BUDGET).budgetBytes(),
        c.get(BatchGenConfig.WEIGHTS_BUDGET).heapFraction(),
        c.get(BatchGenConfig.ADMISSION_ORDER));
    GenerationDefaults generation = new GenerationDefaults(c.get(BatchGenConfig.MAX_NEW_TOKENS),
        c.get(BatchGenConfig.TEMPERATURE), c.get(BatchGenConfig.TOP_P),
        c.get(BatchGenConfig.TOP_K), c.get(BatchGenConfig.MIN_P), c.get(BatchGenConfig.SEED),
        c.get(BatchGenConfig.STOP), c.get(BatchGenConfig.IGNORE_EOS));
    return new JobOptions(engine, generation, c.get(BatchGenConfig.ID_COLUMN),
        c.get(BatchGenConfig.PROMPT_COLUMN), c.get(BatchGenConfig.ON_ERROR).equals("record"),
        c.get(BatchGenConfig.RESUME), c.get(BatchGenConfig.INCLUDE_TOKEN_IDS),
        c.get(BatchGenConfig.NUM_PARTITIONS), c.get(BatchGenConfig.WRITE_PARTITIONING),
        c.get(BatchGenConfig.MAX_INFLIGHT_ROWS), c.get(BatchGenConfig.TASK_REBALANCE),
        c.get(BatchGenConfig.CHAT_TEMPLATE_NAME), c.get(BatchGenConfig.CHAT_TEMPLATE_KWARGS),
        c.get(BatchGenConfig.REQUEST_COLUMN), c.get(BatchGenConfig.PROMPTS_FORMAT));
  }

  /** The input columns to read prompts from. */
  public io.batchgen.io.PromptSchema promptSchema() {
    return io.batchgen.io.PromptSchema.DEFAULT.withIdColumn(idColumn)
        .withPromptColumn(promptColumn);
  }
}
