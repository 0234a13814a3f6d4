package io.batchgen.spark.sql;

import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ResolvedConfig;
import io.batchgen.spark.runtime.EngineSpec;
import java.io.Serializable;
import java.util.List;

/**
 * Everything a read or write task needs, resolved and validated once on the driver and shipped
 * with the tasks.
 *
 * @param engine          which runtime the tasks use
 * @param maxNewTokens    default generated tokens per row
 * @param temperature     default temperature (0 greedy)
 * @param topP            default nucleus mass
 * @param topK            default top-k (0 off)
 * @param minP            default min-p (0 off)
 * @param seed            base seed; a row's seed derives from it and the row id
 * @param stop            default stop strings
 * @param idColumn        input id column
 * @param promptColumn    input prompt column
 * @param recordErrors    onError=record: bad rows are written with their error
 * @param resume          sink: keep what earlier failed runs finished, generate the rest
 * @param includeTokenIds write completion token ids
 * @param numPartitions   partitions to plan or write; 0 = default parallelism
 * @param maxInflightRows rows one task keeps in the runtime at once
 * @param chatTemplateName   the model's chat template for chat rows ("default": its main one)
 * @param chatTemplateKwargs extra chat-template variables as a JSON object; empty for none
 */
public record JobOptions(EngineSpec engine, int maxNewTokens, double temperature, double topP,
    int topK, double minP, long seed, List<String> stop, String idColumn, String promptColumn,
    boolean recordErrors, boolean resume, boolean includeTokenIds, int numPartitions,
    int maxInflightRows, String chatTemplateName, String chatTemplateKwargs)
    implements Serializable {

  public JobOptions {
    stop = List.copyOf(stop);
    chatTemplateKwargs = chatTemplateKwargs == null ? "" : chatTemplateKwargs;
    if (minP >= 1) {
      throw new IllegalArgumentException("Invalid value '" + minP + "' for option 'minP': must be"
          + " in [0, 1); 0 disables it");
    }
  }

  /** Builds the options from resolved settings; {@code model} must be set. */
  public static JobOptions from(ResolvedConfig c) {
    EngineSpec engine = new EngineSpec(c.get(BatchGenConfig.MODEL), c.get(BatchGenConfig.BACKEND),
        c.get(BatchGenConfig.THREADS), c.get(BatchGenConfig.SCHEDULING_MODE),
        c.get(BatchGenConfig.KV_BUDGET), c.get(BatchGenConfig.MAX_RUNNING));
    return new JobOptions(engine, c.get(BatchGenConfig.MAX_NEW_TOKENS),
        c.get(BatchGenConfig.TEMPERATURE), c.get(BatchGenConfig.TOP_P),
        c.get(BatchGenConfig.TOP_K), c.get(BatchGenConfig.MIN_P), c.get(BatchGenConfig.SEED),
        c.get(BatchGenConfig.STOP), c.get(BatchGenConfig.ID_COLUMN),
        c.get(BatchGenConfig.PROMPT_COLUMN), c.get(BatchGenConfig.ON_ERROR).equals("record"),
        c.get(BatchGenConfig.RESUME), c.get(BatchGenConfig.INCLUDE_TOKEN_IDS),
        c.get(BatchGenConfig.NUM_PARTITIONS), c.get(BatchGenConfig.MAX_INFLIGHT_ROWS),
        c.get(BatchGenConfig.CHAT_TEMPLATE_NAME), c.get(BatchGenConfig.CHAT_TEMPLATE_KWARGS));
  }

  /** The input columns to read prompts from. */
  public io.batchgen.io.PromptSchema promptSchema() {
    return io.batchgen.io.PromptSchema.DEFAULT.withIdColumn(idColumn)
        .withPromptColumn(promptColumn);
  }
}
