package io.batchgen.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchgen.core.progress.JobProgress;
import io.batchgen.core.progress.JobSize;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.spark.config.BatchGenConfig;
import io.batchgen.spark.config.ConfigEntry;
import io.batchgen.spark.plugin.BatchGenDriverPlugin;
import io.batchgen.spark.progress.ProgressBoard;
import io.batchgen.spark.progress.ProgressDisplay;
import io.batchgen.spark.sql.InputSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The generation job over Parquet prompts, for {@code spark-submit}:
 *
 * <pre>
 * spark-submit --class io.batchgen.spark.BatchGenJob batchgen-spark-plugin-VERSION-bundle.jar \
 *     --model /models/m --input /data/prompts.parquet --output /out/completions \
 *     [--mode append|overwrite] [--maxNewTokens 256] [any other batchgen option]
 * </pre>
 *
 * It adds the BatchGen plugin to {@code spark.plugins} when the session is created here.
 */
public final class BatchGenJob {
  static final String USAGE = """
      Usage: BatchGenJob --model PATH --input PROMPTS --output OUT [--mode append|overwrite]
                         [--inputFormat auto|parquet|openai] [--outputFormat auto|parquet|openai]
                         [--table DIR] [--progress auto|live|plain|off] [--OPTION VALUE ...]

      Reads prompts, generates a completion for every row with the batchgen sink, and writes the
      result table (Parquet, with _SUCCESS and _batchgen_manifest.json; docs/schemas.md).
        input:  a Parquet prompt table (columns id, prompt or messages, ...), or one OpenAI batch
                input file (JSONL: custom_id, url, body with messages or prompt and per-request
                max_tokens, temperature, ...); auto picks openai for a .jsonl name.
        output: the result table's folder, or an OpenAI batch output file (JSONL, one line per
                custom_id, errors in the error field) when OUT ends in .jsonl or with
                --outputFormat openai; the result table then goes to --table (default OUT.table).
      Every batchgen option of docs/configs.md is accepted as --OPTION VALUE, e.g.
      --maxNewTokens 64 --temperature 0.7 --onError record (bad rows and bad input lines become
      error results instead of failing the job).

      Progress (rows done of the total, failed rows, tokens/s, elapsed, ETA) is in the driver
      log every spark.batchgen.progress.interval; --progress auto (default) also redraws it on
      standard output when that is a terminal, plain prints it there as lines, off does not.
      """;

  /**
   * What a finished job reports.
   *
   * @param output       the result table's folder
   * @param openAiOutput the OpenAI batch output file, or null when none was asked for
   * @param openAiLines  lines written to it
   * @param report       the job's HTML report, or null when it has none
   */
  public record Summary(long rows, long failedRows, long promptTokens, long generatedTokens,
      double seconds, String output, String openAiOutput, long openAiLines, String report) {

    public double tokensPerSecond() {
      return generatedTokens / Math.max(seconds, 1e-9);
    }
  }

  private BatchGenJob() {
  }

  public static void main(String[] args) {
    CommandArgs a = parse(args, System.err);
    if (a == null) {
      System.exit(2);
    }
    if (a.help()) {
      System.out.print(USAGE);
      return;
    }
    SparkSession spark = withPlugin(SparkSession.builder().appName("batchgen")).getOrCreate();
    try {
      // The driver log has the progress already: no plain lines on stdout unless asked for.
      Summary s = run(spark, a, display(a, ProgressDisplay.Mode.OFF, System.out));
      print(s, System.out);
    } finally {
      spark.stop();
    }
  }

  /** The accepted options: the job's own and every DataFrame option of the registry. */
  public static Set<String> options(String... extra) {
    Set<String> names = new LinkedHashSet<>(Set.of("input", "output", "mode", "inputFormat",
        "outputFormat", "table", "progress"));
    names.addAll(Set.of(extra));
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      if (e.option() != null && !e.equals(BatchGenConfig.PROMPTS)) {
        names.add(e.option());
      }
    }
    return names;
  }

  /** Parses {@code args} or prints the problem and usage to {@code err} and returns null. */
  public static CommandArgs parse(String[] args, PrintStream err, String... extraOptions) {
    try {
      return CommandArgs.parse(args, options(extraOptions), Set.of());
    } catch (CommandArgs.UsageException e) {
      err.println("batchgen: " + e.getMessage());
      err.print(USAGE);
      return null;
    }
  }

  /** Adds the BatchGen plugin to {@code spark.plugins} unless the conf already names it. */
  public static SparkSession.Builder withPlugin(SparkSession.Builder builder) {
    SparkConf conf = new SparkConf();
    String plugins = conf.get("spark.plugins", "");
    if (!plugins.contains(BatchGenPlugin.class.getName())) {
      builder.config("spark.plugins", plugins.isEmpty() ? BatchGenPlugin.class.getName()
          : plugins + "," + BatchGenPlugin.class.getName());
    }
    return builder;
  }

  /**
   * How a command shows the job's progress: option {@code --progress} (default auto: a live line
   * when standard output is a terminal, else {@code notTerminal}) on {@code out}, lines every
   * {@code spark.batchgen.progress.interval}.
   *
   * @throws CommandArgs.UsageException when --progress names no mode
   */
  public static Function<JobProgress, Runnable> display(CommandArgs a,
      ProgressDisplay.Mode notTerminal, PrintStream out) {
    ProgressDisplay.Mode mode;
    try {
      mode = ProgressDisplay.Mode.parse(a.get("progress", "auto"))
          .resolve(ProgressDisplay.stdoutIsTerminal(), notTerminal);
    } catch (IllegalArgumentException e) {
      throw new CommandArgs.UsageException(e.getMessage());
    }
    return progress -> ProgressDisplay.start(progress::snapshot, mode, out,
        BatchGenDriverPlugin.active().map(p -> p.progress().interval())
            .orElse(Duration.ofSeconds(10)), null)::close;
  }

  /** Runs the job in {@code spark} without showing progress (the driver log still has it). */
  public static Summary run(SparkSession spark, CommandArgs a) {
    return run(spark, a, progress -> () -> { });
  }

  /**
   * Runs the job in {@code spark}; returns its summary from the committed manifest.
   *
   * @param watch given the job's progress (sized from the input's Parquet footers) before the
   *              write starts; what it returns runs once the write has committed or failed
   *              (e.g. closing a {@link ProgressDisplay}, which prints the final line)
   */
  public static Summary run(SparkSession spark, CommandArgs a,
      Function<JobProgress, Runnable> watch) {
    String input = a.required("input");
    String output = a.required("output");
    String mode = a.oneOf("mode", "overwrite", Set.of("append", "overwrite"));
    Set<String> formats = Set.of("auto", "parquet", "openai");
    boolean requestLines = switch (a.oneOf("inputFormat", "auto", formats)) {
      case "openai" -> true;
      case "parquet" -> false;
      default -> OpenAiBatchFiles.isJsonl(input);
    };
    boolean openAiOutput = switch (a.oneOf("outputFormat", "auto", formats)) {
      case "openai" -> true;
      case "parquet" -> false;
      default -> OpenAiBatchFiles.isJsonl(output);
    };
    String table = openAiOutput ? a.get("table", output + ".table") : output;
    if (!openAiOutput && a.get("table", null) != null) {
      throw new CommandArgs.UsageException("--table is for OpenAI batch output (--output"
          + " FILE.jsonl); the result table goes to --output here");
    }
    Map<String, String> options = new LinkedHashMap<>();
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      if (e.option() != null && a.get(e.option(), null) != null) {
        options.put(e.option(), a.get(e.option(), null));
      }
    }
    if (!options.containsKey("model")) {
      throw new CommandArgs.UsageException("Missing required option --model");
    }
    // Executors run in other working directories (a Worker's app folder): a relative model path
    // means the driver's, as a relative --input does for Spark.
    options.put("model", java.nio.file.Path.of(options.get("model")).toAbsolutePath().normalize()
        .toString());
    Dataset<Row> prompts;
    if (requestLines) {
      prompts = OpenAiBatchFiles.requests(spark, input);
      options.put(BatchGenConfig.REQUEST_COLUMN.option(), OpenAiBatchFiles.REQUEST);
      options.put(BatchGenConfig.ID_COLUMN.option(), OpenAiBatchFiles.CUSTOM_ID);
    } else {
      prompts = spark.read().parquet(input);
    }
    long start = System.nanoTime();
    DataFrameWriter<Row> writer = prompts.write().format("batchgen").options(options).mode(mode);
    ProgressBoard board = BatchGenDriverPlugin.active().map(BatchGenDriverPlugin::progress)
        .orElse(null);
    if (board == null) {
      writer.save(table); // the write fails, naming spark.plugins
    } else {
      String key = UUID.randomUUID().toString();
      // A batch file's rows are counted from the write's input shuffle once it runs.
      JobProgress progress = board.plan(key, "batchgen " + table, requestLines ? JobSize.UNKNOWN
          : InputSize.ofParquet(spark, input, options, prompts.schema()));
      SparkContext sc = spark.sparkContext();
      String previousKey = sc.getLocalProperty(ProgressBoard.PLAN_PROPERTY);
      sc.setLocalProperty(ProgressBoard.PLAN_PROPERTY, key);
      Runnable ended = watch.apply(progress);
      try {
        writer.save(table);
      } catch (RuntimeException e) {
        progress.failed(); // also when the write failed before it started
        throw e;
      } finally {
        sc.setLocalProperty(ProgressBoard.PLAN_PROPERTY, previousKey);
        board.unplan(key);
        ended.run();
      }
    }
    long lines = 0;
    if (openAiOutput) {
      lines = OpenAiBatchFiles.export(spark, table, OpenAiBatchFiles.endpoints(prompts,
          requestLines, options.getOrDefault(BatchGenConfig.ID_COLUMN.option(), "id")), output,
          java.time.Instant.now().getEpochSecond());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // The manifest lists every job that made the table; this job is the last one.
    JsonNode jobs = readManifest(spark, table).path("jobs");
    JsonNode m = jobs.get(jobs.size() - 1);
    return new Summary(m.path("rows").asLong(), m.path("failedRows").asLong(),
        m.path("promptTokens").asLong(), m.path("generatedTokens").asLong(), seconds, table,
        openAiOutput ? output : null, lines, m.hasNonNull("report")
            ? new Path(table, m.get("report").asText()).toString() : null);
  }

  private static JsonNode readManifest(SparkSession spark, String output) {
    Path manifest = new Path(output, "_batchgen_manifest.json");
    try {
      FileSystem fs = manifest.getFileSystem(spark.sparkContext().hadoopConfiguration());
      try (InputStream in = fs.open(manifest)) {
        return new ObjectMapper().readTree(in);
      }
    } catch (IOException e) {
      throw new IllegalStateException("The job finished but its manifest " + manifest
          + " cannot be read: " + e.getMessage(), e);
    }
  }

  public static void print(Summary s, PrintStream out) {
    out.printf("batchgen: %d rows (%d failed), %d prompt tokens, %d tokens generated in %.1f s "
        + "(%.0f tokens/s)%n", s.rows(), s.failedRows(), s.promptTokens(), s.generatedTokens(),
        s.seconds(), s.tokensPerSecond());
    out.println("batchgen: results in " + s.output());
    if (s.openAiOutput() != null) {
      out.println("batchgen: OpenAI batch output in " + s.openAiOutput() + " (" + s.openAiLines()
          + " lines)");
    }
    if (s.report() != null) {
      out.println("batchgen: job report in " + s.report());
    }
  }
}
