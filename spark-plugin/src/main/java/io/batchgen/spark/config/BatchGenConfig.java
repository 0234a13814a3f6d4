package io.batchgen.spark.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * Every BatchGen setting, declared once. {@code docs/configs.md} is generated from this list
 * ({@link ConfigDocs}); a test fails when it is stale.
 *
 * <p>Precedence, highest first: DataFrame option, session conf ({@code spark.batchgen.*}),
 * default. See {@link ResolvedConfig}.
 */
public final class BatchGenConfig {
  private static final List<ConfigEntry<?>> ALL = new ArrayList<>();

  // ---- model and engine ----
  public static final ConfigEntry<String> MODEL = entry("spark.batchgen.model.path", "model",
      "path", null, "Model to run: a Hugging Face directory (config.json, *.safetensors, "
          + "tokenizer.json) or a GGUF file, readable from every executor.",
      Parsers.nonEmpty());
  public static final ConfigEntry<String> BACKEND = entry("spark.batchgen.engine.backend",
      "backend", "enum", "auto", "Compute backend: reference (slow, exact), cpu (Java Vector API), "
          + "cuda (our kernels on the executor's GPU, spark.executor.resource.gpu.amount=1; "
          + "needs an NVIDIA driver and a GPU of compute capability 8.0+), "
          + "auto (cuda when a usable GPU is there, else cpu; the choice and its reason are "
          + "logged), or the name of a backend provider on the "
          + "classpath (io.batchgen.engine.backend.BackendProvider).",
      Parsers.backend());
  public static final ConfigEntry<Integer> THREADS = entry("spark.batchgen.engine.threads",
      "threads", "int", "0", "Compute threads per executor runtime; 0 means the cores the executor "
          + "was given (spark.executor.cores, else the --cores its cluster manager started it "
          + "with; all cores in local mode).",
      Parsers.intAtLeast(0));

  // ---- generation defaults (per-row columns override these) ----
  public static final ConfigEntry<Integer> MAX_NEW_TOKENS = entry(
      "spark.batchgen.generate.maxNewTokens", "maxNewTokens", "int", "256",
      "Generated tokens per row at most (finish reason 'length'). Column max_new_tokens overrides "
          + "it per row.",
      Parsers.intAtLeast(1));
  public static final ConfigEntry<Double> TEMPERATURE = entry(
      "spark.batchgen.generate.temperature", "temperature", "double", "0",
      "Sampling temperature; 0 is greedy decoding.", Parsers.doubleIn(0, 100, true));
  public static final ConfigEntry<Double> TOP_P = entry("spark.batchgen.generate.topP", "topP",
      "double", "1", "Nucleus sampling mass in (0, 1]; 1 disables.",
      Parsers.doubleIn(0, 1, false));
  public static final ConfigEntry<Integer> TOP_K = entry("spark.batchgen.generate.topK", "topK",
      "int", "0", "Sample among the k most likely tokens; 0 disables.", Parsers.intAtLeast(0));
  public static final ConfigEntry<Double> MIN_P = entry("spark.batchgen.generate.minP", "minP",
      "double", "0", "Drop tokens below minP times the top probability; 0 disables.",
      Parsers.doubleIn(0, 1, true, false));
  public static final ConfigEntry<Long> SEED = entry("spark.batchgen.generate.seed", "seed",
      "long", "0", "Base seed; each row's random stream derives from it and the row id, so "
          + "sampled output is reproducible whatever the partitioning.", Parsers.anyLong());
  public static final ConfigEntry<List<String>> STOP = entry("spark.batchgen.generate.stop",
      "stop", "list", "", "Comma-separated stop strings (generation ends once the output contains "
          + "one).", Parsers.list());
  public static final ConfigEntry<Boolean> IGNORE_EOS = entry(
      "spark.batchgen.generate.ignoreEos", "ignoreEos", "boolean", "false",
      "Keep generating past the model's end-of-sequence token, up to max new tokens (stop "
          + "strings still stop): output lengths set by max_new_tokens alone, for benchmarks.",
      Parsers.bool());

  // ---- input and output ----
  public static final ConfigEntry<String> PROMPTS = entry("spark.batchgen.source.prompts",
      "prompts", "path", null, "Source only: the prompt dataset to complete (Parquet, or OpenAI "
          + "batch JSONL: a file, folder or glob; see promptsFormat).", Parsers.nonEmpty());
  public static final ConfigEntry<String> PROMPTS_FORMAT = entry(
      "spark.batchgen.source.promptsFormat", "promptsFormat", "enum", "auto",
      "Source only: parquet (a prompt table), openai (OpenAI batch API input: one request a "
          + "line, custom_id and body; docs/schemas.md) or auto (openai when the path ends in "
          + ".jsonl, else parquet).", Parsers.oneOf("auto", "parquet", "openai"));
  public static final ConfigEntry<String> REQUEST_COLUMN = entry(
      "spark.batchgen.input.requestColumn", "requestColumn", "string", "",
      "Sink only: a string column holding one OpenAI batch request line per row (custom_id, "
          + "url, body); rows are then read as requests, with idColumn holding the custom_id, and "
          + "an optional long column 'line' numbers them in errors. bin/batchgen generate sets it "
          + "for .jsonl input. Empty: rows are prompt-table rows.", Parsers.anyString());
  public static final ConfigEntry<String> ID_COLUMN = entry("spark.batchgen.input.idColumn",
      "idColumn", "string", "id", "Input column holding the row id (integer or string, unique).",
      Parsers.nonEmpty());
  public static final ConfigEntry<String> PROMPT_COLUMN = entry(
      "spark.batchgen.input.promptColumn", "promptColumn", "string", "prompt",
      "Input column holding the prompt text.", Parsers.nonEmpty());
  public static final ConfigEntry<String> CHAT_TEMPLATE_NAME = entry(
      "spark.batchgen.input.chatTemplateName", "chatTemplateName", "string", "default",
      "Which of the model's chat templates renders chat (messages) rows: default (its main "
          + "one: chat_template.jinja, chat_template in tokenizer_config.json, or a GGUF file's "
          + "tokenizer.chat_template) or the name of another, e.g. tool_use.",
      Parsers.nonEmpty());
  public static final ConfigEntry<String> CHAT_TEMPLATE_KWARGS = entry(
      "spark.batchgen.input.chatTemplateKwargs", "chatTemplateKwargs", "json", "",
      "Extra chat-template variables as a JSON object, like apply_chat_template's keyword "
          + "arguments: {\"enable_thinking\": false} for Qwen3; tools and documents set those "
          + "variables for every row.", Parsers.chatTemplateVariables());
  public static final ConfigEntry<String> ON_ERROR = entry("spark.batchgen.output.onError",
      "onError", "enum", "fail", "What a bad row does: fail (the job fails, naming the row) or "
          + "record (the row is written with its error and the job goes on).",
      Parsers.oneOf("fail", "record"));
  public static final ConfigEntry<Boolean> RESUME = entry("spark.batchgen.output.resume",
      "resume", "boolean", "false", "Sink only: keep every row that earlier failed or killed runs "
          + "into the same output finished (their committed task files) and generate only the "
          + "missing ids. With mode append the rows already in the table are kept too; with "
          + "overwrite the new table is the earlier runs' rows plus this run's.", Parsers.bool());
  public static final ConfigEntry<Boolean> INCLUDE_TOKEN_IDS = entry(
      "spark.batchgen.output.includeTokenIds", "includeTokenIds", "boolean", "false",
      "Also write the completion's token ids.", Parsers.bool());
  public static final ConfigEntry<Integer> NUM_PARTITIONS = entry(
      "spark.batchgen.plan.numPartitions", "numPartitions", "int", "0",
      "Partitions to plan (source) or to write (sink); 0 means the session's default "
          + "parallelism.", Parsers.intAtLeast(0));
  public static final ConfigEntry<io.batchgen.spark.sql.WritePartitioning> WRITE_PARTITIONING =
      entry("spark.batchgen.plan.writePartitioning", "writePartitioning", "enum", "hash",
      "Sink only: how rows are dealt to write tasks. hash: by a hash of the id, an even spread "
          + "whatever the table's order; range: contiguous id ranges of about equal size, as an "
          + "ordered table splits (neighbouring rows share a task).",
      Parsers.writePartitioning());

  // ---- runtime ----
  public static final ConfigEntry<io.batchgen.core.runtime.SchedulingMode> SCHEDULING_MODE = entry(
      "spark.batchgen.runtime.mode", "schedulingMode", "enum", "coroutine",
      "coroutine (sequence coroutines with expert-level batching) or lockstep (continuous "
          + "batching baseline).", Parsers.schedulingMode());
  public static final ConfigEntry<Long> KV_BUDGET = entry("spark.batchgen.runtime.kvCacheBudget",
      "kvCacheBudget", "size", "auto", "Device memory for the KV cache of each executor runtime. "
          + "auto: on CPU backends a quarter of the executor's max heap (the KV cache lives on "
          + "the heap there).", Parsers.bytesOrAuto());
  public static final ConfigEntry<Boolean> KV_OFFLOAD = entry("spark.batchgen.runtime.kvOffload",
      "kvOffload", "boolean", "false", "Keep every sequence's KV cache in host memory and page one "
          + "layer of one attention batch at a time into the KV cache budget, so expert batches "
          + "gather rows from many more sequences than the budget holds at full length (with "
          + "streamed weights, fewer weight loads per generated token).", Parsers.bool());
  public static final ConfigEntry<io.batchgen.engine.backend.WeightSettings> WEIGHTS_BUDGET =
      entry("spark.batchgen.memory.weights.budget", "weightsBudget", "size|fraction", "auto",
          "Memory for the model's compute-ready weights in each executor runtime: a size (2g), "
          + "a fraction of the executor's max heap (0.5), or auto (0.25 of the heap). "
          + "Compute-ready means as the kernels read them: BF16 weights take about their "
          + "checkpoint size, F16 twice it, Q8_0 about 3.8 times (they become f32 panels); the "
          + "token embedding is not counted. A model larger than the budget still runs: its "
          + "weights stream from the checkpoint file module by module (docs/offload.md). Too "
          + "small for one module's weights fails at startup, naming the least that works.",
          Parsers.weightBudget());
  public static final ConfigEntry<Integer> MAX_RUNNING = entry(
      "spark.batchgen.runtime.maxRunningSequences", "maxRunningSequences", "int", "256",
      "Sequences holding KV at once in each executor runtime.", Parsers.intAtLeast(1));
  public static final ConfigEntry<io.batchgen.core.runtime.AdmissionOrder> ADMISSION_ORDER = entry(
      "spark.batchgen.runtime.admissionOrder", "admissionOrder", "enum", "arrival",
      "Which waiting row each executor runtime starts first. arrival: first come, first served."
          + " longest: the largest max_new_tokens first (ties in arrival order), so a job whose"
          + " rows carry their expected lengths does not end waiting for a long row started late"
          + " (bench rebalance, 128 simulated GPU-like executors: hash placement 28%, the"
          + " rebalancer 19% sooner; docs/benchmarks.md); long rows then finish last, which the"
          + " progress ETA allows for by counting the work done on rows in flight. The same when"
          + " every row has one max_new_tokens.",
      Parsers.admissionOrder());
  public static final ConfigEntry<Integer> MAX_INFLIGHT_ROWS = entry(
      "spark.batchgen.task.maxInflightRows", "maxInflightRows", "int", "512",
      "Rows one task keeps submitted to its executor's runtime before it waits for results "
          + "(bounds task memory).", Parsers.intAtLeast(1));
  public static final ConfigEntry<Boolean> TASK_REBALANCE = entry(
      "spark.batchgen.task.rebalance.enabled", "rebalance", "boolean", "true",
      "Whether the rebalancer may move this job's rows to other executors. false: every row "
          + "runs on the executor of the task that read it (none of them moves), "
          + "as a baseline to measure the rebalancer against or when a job must stay where "
          + "Spark put it; its executors may still run rows moved in from other jobs. "
          + "spark.batchgen.rebalance.enabled=false turns the rebalancer off for every job.",
      Parsers.bool());

  // ---- plugin (session conf only, read at startup) ----
  public static final ConfigEntry<Long> LOAD_REPORT_INTERVAL_MS = entry(
      "spark.batchgen.rebalance.loadReportInterval", null, "duration", "500ms",
      "How often each executor reports its load to the driver (and picks up the rebalancer's "
          + "orders and the results of its migrated rows).", Parsers.durationMs());

  public static final ConfigEntry<Long> PROGRESS_INTERVAL_MS = entry(
      "spark.batchgen.progress.interval", null, "duration", "10s",
      "How often progress is shown as a plain line while a job runs: in the driver log (rows"
      + " done of the total, failed rows, tokens/s, elapsed, ETA for the whole job) and on the"
      + " command line when it is not a terminal; a terminal's live line redraws every second"
      + " (docs/progress.md).",
      Parsers.durationMs());

  public static final ConfigEntry<Long> REGISTRATION_TIMEOUT_MS = entry(
      "spark.batchgen.plugin.registrationTimeout", null, "duration", "30s",
      "How long an executor's BatchGen plugin may take to register with the driver plugin once "
          + "Spark has added the executor; one that has not registered by then counts as a "
          + "failed plugin start.", Parsers.durationMs());

  public static final ConfigEntry<Integer> MAX_START_FAILURES = entry(
      "spark.batchgen.plugin.maxStartFailures", null, "int", "2",
      "Executors whose BatchGen plugin fails to start (an error, or no registration within "
          + "spark.batchgen.plugin.registrationTimeout) before the application's jobs are failed "
          + "with the cause, instead of the cluster manager relaunching executors forever. Such "
          + "failures are nearly always configuration, the same on every executor; 0 never fails "
          + "the jobs.", Parsers.intAtLeast(0));

  // ---- rebalancer (session conf only, read at startup) ----
  public static final ConfigEntry<Boolean> REBALANCE_ENABLED = entry(
      "spark.batchgen.rebalance.enabled", null, "boolean", "true",
      "Move sequences (queued or in flight) between executors while a job runs, so that no "
          + "executor finishes long before the others (docs/rebalancing.md).", Parsers.bool());

  public static final ConfigEntry<Long> REBALANCE_INTERVAL_MS = entry(
      "spark.batchgen.rebalance.interval", null, "duration", "1s",
      "How often the driver's rebalancer looks at the executors' latest loads.",
      Parsers.durationMs());

  public static final ConfigEntry<String> REBALANCE_POLICY = entry(
      "spark.batchgen.rebalance.policy", null, "class", "io.batchgen.core.rebalance.BalancingPolicy",
      "The rebalancing policy: a class implementing io.batchgen.core.rebalance.RebalancePolicy, "
          + "with a public no-argument constructor or one taking BalancingPolicy.Settings.",
      Parsers.nonEmpty());

  public static final ConfigEntry<Long> REBALANCE_MIN_IMBALANCE_MS = entry(
      "spark.batchgen.rebalance.minImbalance", null, "duration", "2s",
      "BalancingPolicy: expected time-to-finish difference between two executors below which "
          + "nothing moves.", Parsers.durationMs());

  public static final ConfigEntry<Double> REBALANCE_IMBALANCE_RATIO = entry(
      "spark.batchgen.rebalance.imbalanceRatio", null, "double", "1.3",
      "BalancingPolicy: the slower executor must expect this many times the faster one's time "
          + "before work moves.", Parsers.doubleIn(1, 1000, true));

  public static final ConfigEntry<Long> REBALANCE_COOLDOWN_MS = entry(
      "spark.batchgen.rebalance.cooldown", null, "duration", "1s",
      "BalancingPolicy: how long an executor sits out after it gave or took work.",
      Parsers.durationMs());

  public static final ConfigEntry<Integer> REBALANCE_TAIL_SEQUENCES = entry(
      "spark.batchgen.rebalance.tailSequences", null, "int", "16",
      "BalancingPolicy: when at most this many sequences of a model are left across executors, "
          + "they are gathered on the executor holding most (0 never).", Parsers.intAtLeast(0));

  public static final ConfigEntry<Long> REBALANCE_BUFFER_BYTES = entry(
      "spark.batchgen.rebalance.bufferSize", null, "size", "256m",
      "Sequence state the driver holds at once while moving it between executors; uploads "
          + "beyond it wait.", Parsers.bytes());

  public static final ConfigEntry<Long> REBALANCE_CHUNK_BYTES = entry(
      "spark.batchgen.rebalance.chunkSize", null, "size", "4m",
      "Sequence state a source sends the driver per RPC while moving sequences (the destination "
          + "fetches the same chunks): each chunk is one round trip and is held whole in memory "
          + "on both sides. At most 64m (Spark's RPC messages are limited by "
          + "spark.rpc.message.maxSize, 128m by default).", Parsers.bytesAtMost(64L << 20));

  public static final ConfigEntry<Long> REBALANCE_UPLOAD_RATE = entry(
      "spark.batchgen.rebalance.maxUploadRate", null, "size", "0",
      "Bytes per second each executor sends at most while moving sequences (a size, such as "
          + "50m); 0: no limit. Every moved byte crosses the driver's network link twice, so a "
          + "limit leaves room for the job's own traffic when many executors move KV at once.",
      Parsers.bytesOrZero());

  public static final ConfigEntry<Long> REBALANCE_LEASE_MS = entry(
      "spark.batchgen.rebalance.leaseTimeout", null, "duration", "10m",
      "How long a task waits for a sequence it lent to another executor before it runs the "
          + "sequence again itself (it does at once when the driver reports that executor lost).",
      Parsers.durationMs());

  public static final ConfigEntry<Long> EXECUTOR_TIMEOUT_MS = entry(
      "spark.batchgen.rebalance.executorTimeout", null, "duration", "30s",
      "An executor that has not reported its load for this long is treated as lost: nothing is "
          + "moved to it and sequences it hosts are taken back.", Parsers.durationMs());

  private BatchGenConfig() {
  }

  private static <T> ConfigEntry<T> entry(String key, String option, String type,
      String defaultValue, String doc, Function<String, T> parser) {
    ConfigEntry<T> e = new ConfigEntry<>(key, option, type, defaultValue, doc, parser);
    ALL.add(e);
    return e;
  }

  /** Every declared entry, in declaration order. */
  public static List<ConfigEntry<?>> all() {
    return Collections.unmodifiableList(ALL);
  }
}
