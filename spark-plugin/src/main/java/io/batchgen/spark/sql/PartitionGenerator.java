package io.batchgen.spark.sql;

import io.batchgen.core.progress.TaskTally;
import io.batchgen.core.runtime.GenerationRequest;
import io.batchgen.core.runtime.ResultQueue;
import io.batchgen.core.sampling.SamplingParams;
import io.batchgen.core.runtime.FinishReason;
import io.batchgen.io.GenerationOverrides;
import io.batchgen.io.GenerationResult;
import io.batchgen.io.PromptRequest;
import io.batchgen.io.PromptSchema;
import io.batchgen.io.RowError;
import io.batchgen.spark.metrics.BatchGenMetrics;
import io.batchgen.spark.runtime.ExecutorRuntime;
import io.batchgen.spark.runtime.ModelRuntime;
import io.batchgen.spark.runtime.PromptEncoder;
import io.batchgen.spark.runtime.TaskRoutes;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * One task's conversation with its executor's runtime: turns prompt requests into sequences,
 * keeps at most {@code maxInflightRows} of them in the runtime, and hands back finished rows as
 * result records. Owned by one task thread.
 *
 * <p>Bad rows become error results (onError=record) or a {@link RowFailure} naming the row
 * (onError=fail), never a silent drop: a row error is anything about the row itself (its text
 * cannot be rendered or tokenized, it tokenizes to nothing, it is longer than the model's
 * context, an override is out of range). Each submitted row yields exactly one result.
 * A runtime that fails or shuts down is not a row's fault: every call then throws
 * {@link io.batchgen.core.runtime.RuntimeFailedException}, which fails the task so that Spark
 * retries it on a fresh runtime.
 */
final class PartitionGenerator implements AutoCloseable {
  private final JobOptions options;
  private final ExecutorRuntime executor;
  private final ModelRuntime runtime;
  private final PromptEncoder prompts;
  private final ResultQueue queue;
  private final String prefix;
  private final String source;
  /** This task's registration with the executor: owner of its sequences, movable or not. */
  private final TaskRoutes.Route route;
  /** Per in-flight id: what the result conversion needs (prompt length, seed, stops). */
  private final Map<String, Pending> pending = new HashMap<>();
  /** Results produced without the runtime (rejected rows), waiting to be handed out. */
  private final ArrayDeque<GenerationResult> local = new ArrayDeque<>();
  /** Rows done and in flight, for the job's progress (the executor reports it to the driver). */
  private final TaskTally tally = new TaskTally();
  private long generatedTokens;
  private long promptTokens;
  private long failedRows;
  private boolean released;

  private record Pending(String source, long rowNumber, String column, int promptTokens, Long seed,
      List<String> stop, int maxNewTokens, long tallyIndex) {
  }

  /** A row failed under onError=fail; the message names the row and the fix. */
  static final class RowFailure extends RuntimeException {
    RowFailure(String message) {
      super(message);
    }
  }

  /**
   * @param executor the executor's runtime, from which this task acquires the model's runtime
   * @param scope  unique among the runtime's callers (e.g. the task attempt id): sequence ids in
   *               the shared runtime are {@code scope + "/" + rowId}, so two attempts of one task
   *               on the same executor never collide
   * @param source names this task's input in row errors
   */
  PartitionGenerator(JobOptions options, ExecutorRuntime executor, String scope, String source) {
    this.options = options;
    this.executor = executor;
    this.runtime = executor.acquire(options.engine());
    this.prefix = scope + "/";
    this.source = source;
    try {
      this.prompts = runtime.promptEncoder(options.chatTemplateName(),
          options.chatTemplateKwargs());
      this.queue = runtime.runtime().newResultQueue(options.maxInflightRows());
      tally.inFlightTokens(queue::inFlightPositions);
      this.route = executor.routes().register(scope, runtime, queue.listener(),
          options.rebalance());
    } catch (RuntimeException e) {
      executor.release(runtime);
      throw e;
    }
  }

  /** Rejects a row that could not be read. */
  void reject(RowError error) {
    fail(GenerationResult.failed(error, runtime.provenance()));
  }

  /**
   * Submits one prompt, first handing finished results to {@code sink} while the task is at its
   * in-flight bound (so the bound never deadlocks against unread results). A problem with the
   * row itself becomes its error result (or fails the task under onError=fail).
   *
   * @param rowNumber the row's number in this task's input, for messages
   */
  void submit(long rowNumber, PromptRequest request, Consumer<GenerationResult> sink)
      throws InterruptedException {
    submit(source, rowNumber, request, sink);
  }

  /** As {@link #submit(long, PromptRequest, Consumer)}, for a row of {@code rowSource}. */
  void submit(String rowSource, long rowNumber, PromptRequest request,
      Consumer<GenerationResult> sink) throws InterruptedException {
    drain(sink);
    while (pending.size() >= options.maxInflightRows()) {
      deliver(queue.take(), sink);
    }
    if (pending.containsKey(request.id())) {
      rowError(rowSource, rowNumber, request.id(), field(options.idColumn()),
          DuplicateIdGuard.duplicateMessage(request.id(), 2));
      drain(sink);
      return;
    }
    String column = field(request.isChat() ? PromptSchema.DEFAULT_MESSAGES
        : options.promptColumn());
    int context = runtime.runtime().shape().maxPositions();
    int[] tokens;
    try {
      tokens = prompts.encode(request).ids();
    } catch (RuntimeException e) {
      rowError(rowSource, rowNumber, request.id(), column, (request.isChat()
          ? "the chat messages could not be rendered with the model's chat template or tokenized: "
          : "the prompt could not be tokenized: ") + e.getMessage());
      drain(sink);
      return;
    }
    String tooLong = tokens.length == 0 ? "the prompt tokenizes to no tokens (this model's"
        + " tokenizer adds no BOS token), so there is nothing to continue from. Give the row"
        + " some text."
        : tokens.length >= context ? "the prompt has " + tokens.length + " tokens but the model's"
        + " context is " + context + " tokens, prompt and completion together. Shorten the"
        + " prompt to fewer than " + context + " tokens."
        : null;
    if (tooLong != null) {
      rowError(rowSource, rowNumber, request.id(), column, tooLong);
      drain(sink);
      return;
    }
    SamplingParams sampling;
    Long seed;
    GenerationOverrides o = request.overrides();
    if (o.maxNewTokens() != null && o.maxNewTokens() >= context) {
      rowError(rowSource, rowNumber, request.id(), field(PromptSchema.MAX_NEW_TOKENS),
          "max_new_tokens is " + o.maxNewTokens() + " but the model's context is " + context + " tokens, prompt and"
          + " completion together. Lower it, or set it null to use the job option.");
      drain(sink);
      return;
    }
    try {
      sampling = options.generation().forRow(request.id(), o);
      seed = options.generation().seedFor(request.id(), o);
    } catch (IllegalArgumentException e) {
      rowError(rowSource, rowNumber, request.id(), field("overrides"), e.getMessage());
      drain(sink);
      return;
    }
    long index = tally.nextIndex();
    pending.put(request.id(), new Pending(rowSource, rowNumber, column, tokens.length, seed,
        sampling.stopStrings(), sampling.maxNewTokens(), index));
    tally.submitted(index);
    promptTokens += tokens.length;
    route.submitted();
    queue.submit(new GenerationRequest(prefix + request.id(), tokens, sampling));
  }

  private void rowError(String rowSource, long rowNumber, String id, String column,
      String message) {
    reject(new RowError(rowSource, rowNumber, id, column, message, options.requestLines()));
  }

  /** A prompt-table column's name, or for request lines the request field it comes from. */
  private String field(String column) {
    if (!options.requestLines()) {
      return column;
    }
    return switch (column) {
      case PromptSchema.DEFAULT_MESSAGES -> "body.messages";
      case PromptSchema.MAX_NEW_TOKENS -> "body.max_tokens";
      case "overrides" -> "body";
      default -> column.equals(options.promptColumn()) ? "body.prompt"
          : column.equals(options.idColumn()) ? "custom_id" : column;
    };
  }

  /** Hands every result that is ready now to {@code sink}, without waiting. */
  void drain(Consumer<GenerationResult> sink) throws InterruptedException {
    while (!local.isEmpty()) {
      sink.accept(local.poll());
    }
    io.batchgen.core.runtime.SequenceResult r;
    while (!pending.isEmpty() && (r = queue.poll(java.time.Duration.ZERO)) != null) {
      deliver(r, sink);
    }
  }

  /** Waits for every submitted row and hands its result to {@code sink}. */
  void finish(Consumer<GenerationResult> sink) throws InterruptedException {
    drain(sink);
    while (!pending.isEmpty()) {
      deliver(queue.take(), sink);
    }
  }

  /** Rows still in the runtime. */
  int inFlight() {
    return pending.size();
  }

  long generatedTokens() {
    return generatedTokens;
  }

  long promptTokens() {
    return promptTokens;
  }

  long failedRows() {
    return failedRows;
  }

  /** This task's rows done and in flight, for the job's progress. */
  TaskTally tally() {
    return tally;
  }

  /** This task's Spark UI metrics after {@code elapsedNanos} of running. */
  CustomTaskMetric[] metricsValues(long elapsedNanos) {
    double seconds = Math.max(1e-9, elapsedNanos / 1e9);
    return new CustomTaskMetric[] {
        BatchGenMetrics.value(BatchGenMetrics.TOKENS_GENERATED, generatedTokens),
        BatchGenMetrics.value(BatchGenMetrics.PROMPT_TOKENS, promptTokens),
        BatchGenMetrics.value(BatchGenMetrics.ROWS_FAILED, failedRows),
        BatchGenMetrics.value(BatchGenMetrics.TOKENS_PER_SECOND,
            Math.round(generatedTokens / seconds)),
        BatchGenMetrics.value(BatchGenMetrics.EXPERT_BATCH,
            Math.round(runtime.runtime().metrics().meanExpertBatchRows())),
        BatchGenMetrics.value(BatchGenMetrics.MIGRATIONS,
            executor.routes().migrated(prefix.substring(0, prefix.length() - 1)))};
  }

  private void deliver(io.batchgen.core.runtime.SequenceResult r,
      Consumer<GenerationResult> sink) {
    String id = r.id().substring(prefix.length());
    Pending p = pending.remove(id);
    if (p == null) {
      throw new IllegalStateException("Runtime returned a result for unknown id [" + id + "]");
    }
    route.finished();
    int[] tokens = r.tokens();
    generatedTokens += tokens.length;
    GenerationResult out = switch (r.reason()) {
      case STOP, LENGTH -> {
        tally.finished(p.tallyIndex(), p.promptTokens(), tokens.length, false);
        yield new GenerationResult(id, completionText(tokens, p.stop()),
            options.includeTokenIds() ? tokens : null, p.promptTokens(), tokens.length,
            r.reason(), null, p.seed(), runtime.provenance());
      }
      case ERROR -> {
        // The runtime refused this row (e.g. it needs more KV than the budget allows).
        GenerationResult failed = GenerationResult.failed(new RowError(p.source(), p.rowNumber(),
            id, p.column(), r.error() != null ? r.error().replace(r.id(), id) : "failed",
            options.requestLines()), runtime.provenance());
        if (!options.recordErrors()) {
          throw new RowFailure(failed.error() + ". " + RECORD_HINT);
        }
        failedRows++;
        tally.finished(p.tallyIndex(), p.promptTokens(), 0, true);
        yield failed;
      }
      case CANCELLED -> throw new io.batchgen.core.runtime.RuntimeFailedException(
          "The BatchGen runtime cancelled row [" + id + "] of " + source + " before it finished"
              + " (it is shutting down); the task fails so that Spark runs it again.", null);
    };
    sink.accept(out);
  }

  private static final String RECORD_HINT = "Set option onError=record to write failed rows"
      + " with their error instead of failing the job.";

  private void fail(GenerationResult failed) {
    if (!options.recordErrors()) {
      throw new RowFailure(failed.error() + " " + RECORD_HINT);
    }
    failedRows++;
    tally.finished(tally.nextIndex(), 0, 0, true);
    local.add(failed);
  }

  /** The completion text; output is cut before the first stop string, as OpenAI does. */
  private String completionText(int[] tokens, List<String> stop) {
    String text = runtime.tokenizer().decode(tokens);
    int cut = text.length();
    for (String s : stop) {
      int at = text.indexOf(s);
      if (at >= 0 && at < cut) {
        cut = at;
      }
    }
    return text.substring(0, cut);
  }

  /**
   * Cancels whatever is still in the runtime (task abort) and releases the runtime for other
   * tasks. Idempotent.
   */
  @Override
  public void close() {
    try {
      if (runtime.runtime().failure() == null) {
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
          runtime.runtime().cancel(prefix + e.getKey());
        }
      }
    } catch (RuntimeException closing) {
      // The runtime failed or is closing: nothing of this task is left in it to cancel.
    } finally {
      pending.clear();
      if (!released) {
        released = true;
        executor.routes().unregister(prefix.substring(0, prefix.length() - 1));
        executor.release(runtime);
      }
    }
  }
}
