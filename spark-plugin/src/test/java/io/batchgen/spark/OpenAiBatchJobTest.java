package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchgen.engine.tools.CommandArgs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The formats users bring: an OpenAI batch input file through {@code bin/batchgen generate} (the
 * sink, with each line read by arrow-io's reader) to the batch API's output file, and the same
 * file read by the {@code batchgen} source.
 */
class OpenAiBatchJobTest {
  @TempDir
  static Path dir;
  static SparkSession spark;
  static Path model;
  static Path input;

  static final ObjectMapper JSON = new ObjectMapper();

  /** Lines of the input file; the comment is its 1-based line number. */
  static final List<String> LINES = List.of(
      /* 1 */ "{\"custom_id\": \"c1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\","
          + " \"body\": {\"model\": \"any\", \"messages\": [{\"role\": \"system\", \"content\":"
          + " \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hello there\"}],"
          + " \"max_tokens\": 3}}",
      /* 2 */ "{\"custom_id\": \"p1\", \"url\": \"/v1/completions\", \"body\": {\"prompt\":"
          + " \"Once upon a time\", \"max_tokens\": 5, \"temperature\": 0.8, \"seed\": 11}}",
      /* 3 */ "",
      /* 4 */ "{\"custom_id\": \"broken\", \"body\": {\"prompt\": ",
      /* 5 */ "{\"custom_id\": \"hot\", \"body\": {\"prompt\": \"x\", \"temperature\": \"hot\"}}",
      /* 6 */ "{\"custom_id\": \"many\", \"body\": {\"prompt\": \"x\", \"n\": 3}}",
      /* 7 */ "{\"custom_id\": \"dup\", \"body\": {\"prompt\": \"first copy\"}}",
      /* 8 */ "{\"custom_id\": \"dup\", \"body\": {\"prompt\": \"second copy\"}}",
      /* 9 */ "{\"custom_id\": \"c2\", \"body\": {\"messages\": [{\"role\": \"user\", \"content\":"
          + " [{\"type\": \"text\", \"text\": \"Part one\"}, {\"type\": \"text\", \"text\":"
          + " \"part two\"}]}], \"max_completion_tokens\": 4, \"stop\": [\"###\"]}}",
      /* 10 */ "{\"body\": {\"prompt\": \"no id\"}}");

  @BeforeAll
  static void setUp() throws Exception {
    spark = TestData.localSession("batchgen-openai-batch-test");
    model = TestData.tinyModel(dir);
    input = dir.resolve("batch.jsonl");
    Files.writeString(input, String.join("\n", LINES) + "\n");
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
  }

  static BatchGenJob.Summary generate(String... extra) {
    List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--input",
        input.toString(), "--maxNewTokens", "6"));
    args.addAll(List.of(extra));
    return BatchGenJob.run(spark, CommandArgs.parse(args.toArray(String[]::new),
        BatchGenJob.options(), java.util.Set.of()));
  }

  @Test
  void generateRoundTripsABatchFileOneLinePerCustomIdWithBadLinesNamed() throws Exception {
    Path out = dir.resolve("results.jsonl");
    BatchGenJob.Summary s = generate("--output", out.toString(), "--onError", "record");

    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(s.openAiOutput()).isEqualTo(out.toString());
    assertThat(s.openAiLines()).isEqualTo(lines.size()).isEqualTo(8);
    assertThat(s.output()).isEqualTo(out + ".table");
    List<JsonNode> json = new ArrayList<>();
    for (String l : lines) {
      json.add(JSON.readTree(l));
    }
    // input order, then the lines without a custom_id
    assertThat(json).extracting(j -> j.get("custom_id").isNull() ? null
        : j.get("custom_id").asText())
        .containsExactly("c1", "p1", "hot", "many", "dup", "c2", null, null);
    Map<String, JsonNode> byId = new HashMap<>();
    json.stream().filter(j -> !j.get("custom_id").isNull())
        .forEach(j -> byId.put(j.get("custom_id").asText(), j));

    JsonNode c1 = byId.get("c1");
    assertThat(c1.get("error").isNull()).isTrue();
    assertThat(c1.at("/response/status_code").asInt()).isEqualTo(200);
    assertThat(c1.at("/response/body/object").asText()).isEqualTo("chat.completion");
    assertThat(c1.at("/response/body/choices/0/message/role").asText()).isEqualTo("assistant");
    assertThat(c1.at("/response/body/usage/completion_tokens").asInt()).isBetween(1, 3);
    assertThat(c1.at("/response/body/choices/0/finish_reason").asText()).isIn("stop", "length");
    JsonNode p1 = byId.get("p1");
    assertThat(p1.at("/response/body/object").asText()).isEqualTo("text_completion");
    assertThat(p1.at("/response/body/usage/completion_tokens").asInt()).isBetween(1, 5);
    assertThat(byId.get("c2").at("/response/body/object").asText()).isEqualTo("chat.completion");
    assertThat(byId.get("c2").at("/response/body/usage/completion_tokens").asInt())
        .isBetween(1, 4);

    assertThat(byId.get("hot").get("response").isNull()).isTrue();
    assertThat(byId.get("hot").at("/error/message").asText()).contains("at line 5 (custom_id"
        + " hot), field 'body.temperature': body.temperature must be a number");
    assertThat(byId.get("many").at("/error/message").asText())
        .contains("at line 6").contains("one completion per request");
    assertThat(byId.get("dup").at("/error/message").asText())
        .contains("at line 7").contains("appears 2 times");
    assertThat(json.get(6).at("/error/message").asText() + json.get(7).at("/error/message")
        .asText()).contains("at line 4, field 'line': the line is not valid JSON")
        .contains("at line 10, field 'custom_id': the id is null");

    // the same results are in the table, whose manifest counts them
    assertThat(spark.read().parquet(s.output()).count()).isEqualTo(8);
    assertThat(s.failedRows()).isEqualTo(5);

    theSourceReadsTheSameFileWithTheSameResults(json);
  }

  @Test
  void withoutOnErrorRecordABadLineFailsTheJobNamingTheLineAndTheFix() {
    assertThatThrownBy(() -> generate("--output", dir.resolve("failing").toString()))
        .satisfies(e -> assertThat(rootMessage(e))
            .contains("Bad request in [").contains(" at line ").contains("onError=record"));
  }

  static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  @Test
  void aParquetPromptTableGivesChatAnswersForItsMessagesRows() throws Exception {
    Path out = dir.resolve("from-parquet.jsonl");
    Path prompts = dir.resolve("prompts.parquet");
    spark.createDataFrame(ChatFamiliesJobTest.chatRows().subList(0, 2),
        ChatFamiliesJobTest.chatSchema()).write().parquet(prompts.toString());

    List<String> args = List.of("--model", model.toString(), "--input", prompts.toString(),
        "--output", out.toString(), "--maxNewTokens", "2");
    BatchGenJob.run(spark, CommandArgs.parse(args.toArray(String[]::new), BatchGenJob.options(),
        java.util.Set.of()));

    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(2);
    for (String l : lines) {
      JsonNode j = JSON.readTree(l);
      assertThat(j.at("/response/body/object").asText()).isEqualTo("chat.completion");
      assertThat(j.get("custom_id").asText()).isIn("0", "1");
    }
  }

  /** The source, planned in 3 partitions of lines, gives what generate wrote. */
  static void theSourceReadsTheSameFileWithTheSameResults(List<JsonNode> output) {
    Map<String, String> generated = new HashMap<>();
    for (JsonNode j : output) {
      if (!j.get("custom_id").isNull()) {
        generated.put(j.get("custom_id").asText(), j.get("error").isNull()
            ? "ok:" + j.at("/response/body/choices/0").path("message").path("content").asText(
                j.at("/response/body/choices/0/text").asText())
            : "error");
      }
    }

    List<Row> read = spark.read().format("batchgen").option("model", model.toString())
        .option("prompts", input.toString()).option("maxNewTokens", "6")
        .option("onError", "record").option("numPartitions", "3").load().collectAsList();

    Map<String, String> fromSource = new HashMap<>();
    List<String> nullIdErrors = new ArrayList<>();
    for (Row r : read) {
      String id = r.getAs("id");
      String error = r.getAs("error");
      if (id == null) {
        nullIdErrors.add(error);
      } else {
        fromSource.put(id, error == null ? "ok:" + r.getAs("completion") : "error");
      }
    }
    assertThat(fromSource).isEqualTo(generated);
    assertThat(String.join("\n", nullIdErrors)).contains("at line 4").contains("at line 10");
  }
}
