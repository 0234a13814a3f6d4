package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input through the sink and the source, with onError=record and onError=fail: every
 * row completes or carries its error, one output row per input id, and the error texts are the
 * ones a user reads. The sink and the source read rows with arrow-io's row assembly, so the same
 * row gets the same verdict on both paths (and in arrow-io's own readers).
 */
class AdversarialInputTest {
  @TempDir
  static Path dir;
  static Path model;
  static SparkSession spark;

  static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType)
      .add("prompt", DataTypes.StringType)
      .add("max_new_tokens", DataTypes.LongType)
      .add("temperature", DataTypes.DoubleType)
      .add("top_p", DataTypes.DoubleType)
      .add("top_k", DataTypes.IntegerType);

  /** Completes: plain text in odd shapes. */
  static final Map<Long, String> GOOD = new TreeMap<>(Map.of(
      1L, "Hello, batch",
      4L, "control \u0000\u0001\u0007\u001b[31m red\u007f",
      5L, "<|im_end|><s></s>[INST] <|endoftext|> spelled special tokens",
      7L, "🦊 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \uD83D\uDE00 مرحبا بالعالم \u200Fשלום\u202E"));

  /** Fails, with these errors (after the common "Bad prompt row in [...]" prefix). */
  static final Map<Long, String> BAD = new TreeMap<>();

  static {
    BAD.put(2L, "column 'prompt': the prompt is empty, so there is nothing to complete. Give the"
        + " row prompt text, or filter such rows out upstream.");
    BAD.put(3L, "column 'prompt': the prompt is only whitespace (4 characters), so there is"
        + " nothing to complete. Give the row prompt text, or filter such rows out upstream.");
    BAD.put(6L, "column 'prompt': the prompt has ");
    BAD.put(8L, "column 'prompt': the value is not valid UTF-8 (bad byte 0xC3 at byte offset 0"
        + " of 2). Re-encode the column as UTF-8 text upstream.");
    BAD.put(9L, "column 'prompt': the row has neither prompt text ('prompt') nor chat messages"
        + " ('messages'). Set exactly one of them.");
    BAD.put(10L, "column 'max_new_tokens': max_new_tokens is -1 but must be at least 1. Fix the"
        + " value, or set it null to use the job option.");
    BAD.put(11L, "column 'max_new_tokens': max_new_tokens is 0 but must be at least 1. Fix the"
        + " value, or set it null to use the job option.");
    BAD.put(12L, "column 'temperature': temperature is NaN but must be a finite number >= 0 (0 is"
        + " greedy). Fix the value, or set it null to use the job option.");
    BAD.put(13L, "column 'top_p': top_p is 1.5 but must be in (0, 1]. Fix the value, or set it"
        + " null to use the job option.");
    BAD.put(14L, "column 'top_k': top_k is -3 but must be >= 0 (0 disables top-k). Fix the value,"
        + " or set it null to use the job option.");
    BAD.put(15L, "column 'max_new_tokens': max_new_tokens is 1099511627776, outside the int"
        + " range; use a value below 2147483647.");
    BAD.put(16L, "column 'max_new_tokens': max_new_tokens is 100000 but the model's context is"
        + " 512 tokens, prompt and completion together. Lower it, or set it null to use the job"
        + " option.");
  }

  @BeforeAll
  static void setUp() {
    model = TestData.tinyModel(dir);
    spark = SparkSession.builder().master("local[2]").appName("batchgen-adversarial")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.plugins", "io.batchgen.spark.BatchGenPlugin")
        .getOrCreate();
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static Row row(long id, String prompt) {
    return RowFactory.create(id, prompt, null, null, null, null);
  }

  static Dataset<Row> hostile() {
    List<Row> rows = new ArrayList<>();
    GOOD.forEach((id, p) -> rows.add(row(id, p)));
    rows.add(row(2, ""));
    rows.add(row(3, " \t\n "));
    rows.add(row(6, "a very long prompt ".repeat(5300).substring(0, 100_000)));
    rows.add(row(9, null));
    rows.add(RowFactory.create(10L, "x", -1L, null, null, null));
    rows.add(RowFactory.create(11L, "x", 0L, null, null, null));
    rows.add(RowFactory.create(12L, "x", null, Double.NaN, null, null));
    rows.add(RowFactory.create(13L, "x", null, null, 1.5, null));
    rows.add(RowFactory.create(14L, "x", null, null, null, -3));
    rows.add(RowFactory.create(15L, "x", 1L << 40, null, null, null));
    rows.add(RowFactory.create(16L, "x", 100_000L, null, null, null));
    Dataset<Row> df = spark.createDataFrame(rows, SCHEMA);
    // Id 8: bytes that are not UTF-8, as a binary column cast to string carries them.
    Dataset<Row> invalid = spark.sql("select 8L as id, cast(unhex('C328') as string) as prompt,"
        + " cast(null as bigint) as max_new_tokens, cast(null as double) as temperature,"
        + " cast(null as double) as top_p, cast(null as int) as top_k");
    return df.unionByName(invalid);
  }

  private static Map<Long, Row> byId(Dataset<Row> results) {
    Map<Long, Row> out = new TreeMap<>();
    for (Row r : results.collectAsList()) {
      Row previous = out.put(r.getLong(r.fieldIndex("id")), r);
      assertThat(previous).as("id %s written twice", r.getLong(r.fieldIndex("id"))).isNull();
    }
    return out;
  }

  private static void assertVerdicts(Map<Long, Row> byId, String source) {
    assertThat(byId.keySet()).hasSize(GOOD.size() + BAD.size());
    for (long id : GOOD.keySet()) {
      Row r = byId.get(id);
      assertThat(r.isNullAt(r.fieldIndex("error"))).as("id %d: %s", id,
          r.isNullAt(r.fieldIndex("error")) ? "" : r.getString(r.fieldIndex("error"))).isTrue();
      assertThat(r.getString(r.fieldIndex("finish_reason"))).isIn("stop", "length");
    }
    for (Map.Entry<Long, String> e : BAD.entrySet()) {
      Row r = byId.get(e.getKey());
      String error = r.getString(r.fieldIndex("error"));
      assertThat(r.getString(r.fieldIndex("finish_reason"))).isEqualTo("error");
      assertThat(r.isNullAt(r.fieldIndex("completion"))).isTrue();
      assertThat(error).as("id %d", e.getKey()).startsWith("Bad prompt row in [" + source)
          .contains("(id " + e.getKey() + "), " + e.getValue());
    }
    String tooLong = byId.get(6L).getString(byId.get(6L).fieldIndex("error"));
    assertThat(tooLong).matches(".*the prompt has \\d+ tokens but the model's context is 512"
        + " tokens, prompt and completion together\\. Shorten the prompt to fewer than 512"
        + " tokens\\.");
  }

  @Test
  void theSinkCompletesOrExplainsEveryRowOnce() {
    String out = dir.resolve("sink-record").toString();
    hostile().write().format("batchgen").option("model", model.toString())
        .option("maxNewTokens", "2").option("onError", "record").mode("overwrite").save(out);
    assertVerdicts(byId(spark.read().parquet(out)), "the DataFrame being written (partition ");
  }

  @Test
  void theSinkWithOnErrorFailStopsAtTheFirstBadRowNamingItAndTheFix() {
    assertThatThrownBy(() -> hostile().write().format("batchgen")
        .option("model", model.toString()).option("maxNewTokens", "2").mode("overwrite")
        .save(dir.resolve("sink-fail").toString()))
        .satisfies(e -> assertThat(ReliabilityTest.rootMessage(e)).contains(
            "Bad prompt row in [the DataFrame being written (partition ",
            "Set option onError=record to write failed rows with their error instead of failing"
                + " the job."));
  }

  @Test
  void theSourceCompletesOrExplainsEveryRowOnce() {
    String prompts = dir.resolve("hostile.parquet").toString();
    hostile().coalesce(1).write().mode("overwrite").parquet(prompts);
    Dataset<Row> results = spark.read().format("batchgen").option("model", model.toString())
        .option("prompts", prompts).option("maxNewTokens", "2").option("onError", "record")
        .load();
    assertVerdicts(byId(results), "file:" + prompts);

    assertThatThrownBy(() -> spark.read().format("batchgen").option("model", model.toString())
        .option("prompts", prompts).option("maxNewTokens", "2").load().collectAsList())
        .satisfies(e -> assertThat(ReliabilityTest.rootMessage(e)).contains(
            "Bad prompt row in [file:" + prompts, "onError=record"));
  }

  @Test
  void aColumnOfTheWrongTypeFailsBeforeAnyWorkNamingIt() {
    Dataset<Row> df = hostile().selectExpr("id", "prompt", "cast(temperature as string) as"
        + " temperature");
    for (String onError : List.of("record", "fail")) {
      assertThatThrownBy(() -> df.write().format("batchgen").option("model", model.toString())
          .option("onError", onError).mode("overwrite")
          .save(dir.resolve("wrong-type").toString()))
          .satisfies(e -> assertThat(ReliabilityTest.rootMessage(e)).contains(
              "Bad prompt input in [the DataFrame being written], column 'temperature': the column"
                  + " has type string but must be a float, double or integer. Cast it, e.g."
                  + " col(\"temperature\").cast(\"double\"), or drop the column."));
    }
  }

  // ------------------------------------------------------------ rows read like arrow-io's

  /** A copy of the tiny model whose tokenizer_config carries a chat template. */
  static Path chatModel() throws Exception {
    Path chat = dir.resolve("chat-model");
    if (Files.exists(chat)) {
      return chat;
    }
    Files.createDirectories(chat);
    try (Stream<Path> files = Files.list(model)) {
      for (Path f : files.toList()) {
        Files.copy(f, chat.resolve(f.getFileName()));
      }
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(chat.resolve("tokenizer_config.json").toFile());
    config.put("chat_template", "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n"
        + "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
    json.writeValue(chat.resolve("tokenizer_config.json").toFile(), config);
    return chat;
  }

  @Test
  void chatStructsAreReadByFieldNameAndAmbiguousRowsAreRejected() throws Exception {
    Dataset<Row> chats = spark.sql("select 1L as id, cast(null as string) as prompt,"
        + " array(named_struct('content', 'Be brief.', 'role', 'system'),"
        + "       named_struct('content', 'Hi', 'role', 'user')) as messages"
        + " union all select 2L, 'a prompt too', array(named_struct('content', 'Hi', 'role',"
        + " 'user'))"
        + " union all select 3L, null, array(named_struct('content', 'Hi', 'role', ''))");
    String out = dir.resolve("chat-structs").toString();
    chats.write().format("batchgen").option("model", chatModel().toString())
        .option("maxNewTokens", "2").option("onError", "record").option("includeTokenIds", "true")
        .mode("overwrite").save(out);
    Map<Long, Row> byId = byId(spark.read().parquet(out));
    Row swapped = byId.get(1L);
    assertThat(swapped.isNullAt(swapped.fieldIndex("error"))).isTrue();
    // Rendered as <system>Be brief.\n<user>Hi\n<assistant>: roles first, whatever the field order.
    assertThat(swapped.getInt(swapped.fieldIndex("prompt_tokens"))).isEqualTo(
        chatTokens("<system>Be brief.\n<user>Hi\n<assistant>"));
    assertThat(byId.get(2L).getString(byId.get(2L).fieldIndex("error"))).contains("(id 2),"
        + " column 'messages': the row has both prompt text ('prompt') and chat messages"
        + " ('messages'). Set exactly one of them; the other must be null.");
    assertThat(byId.get(3L).getString(byId.get(3L).fieldIndex("error"))).contains("(id 3),"
        + " column 'messages': message 0 has no role; set role to system, user or assistant.");
  }

  private static int chatTokens(String text) throws Exception {
    try (io.batchgen.engine.model.LoadedModel m =
             io.batchgen.engine.model.ModelLoader.load(chatModel())) {
      return m.tokenizer().encode(text).length;
    }
  }

  @Test
  void messagesNameTheConfiguredColumns() {
    Dataset<Row> df = spark.sql("select cast(null as string) as key, 'x' as text"
        + " union all select 'k2', '   '");
    String out = dir.resolve("named-columns").toString();
    df.write().format("batchgen").option("model", model.toString()).option("idColumn", "key")
        .option("promptColumn", "text").option("onError", "record").option("maxNewTokens", "2")
        .mode("overwrite").save(out);
    List<String> errors = spark.read().parquet(out).where("error is not null")
        .orderBy("id").selectExpr("error").as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0)).contains("column 'key': the id is null.");
    assertThat(errors.get(1)).contains("(id k2), column 'text': the prompt is only whitespace");
  }
}
