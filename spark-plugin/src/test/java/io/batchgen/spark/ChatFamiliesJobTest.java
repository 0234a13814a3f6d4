package io.batchgen.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.tools.MakeModelCommand;
import io.batchgen.io.ChatMessage;
import io.batchgen.spark.runtime.PromptEncoder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline with real model families' prompts: {@code make-model --tokenizer} builds a
 * tiny random-weight model around each family's real tokenizer and chat template, and a Spark
 * job (local[2]) completes chat rows with it. Rows fail only where the template itself refuses
 * the conversation, with the template's message; every other row is rendered and tokenized
 * exactly as {@link PromptEncoder} (and so {@code bin/batchgen tokenize}) does.
 */
class ChatFamiliesJobTest {
  @TempDir
  static Path dir;
  static SparkSession spark;

  /** Conversations; the last has two user turns in a row, which some templates refuse. */
  static final List<List<ChatMessage>> CHATS = List.of(
      List.of(ChatMessage.user("Hello!")),
      List.of(ChatMessage.system("Be brief."), ChatMessage.user("What is 2+2?")),
      List.of(ChatMessage.user("Hi"), ChatMessage.assistant("<think>\nx\n</think>\n\nHello!"),
          ChatMessage.user("What is {{ 7*7 }}? {% raw %}")),
      List.of(ChatMessage.user("a"), ChatMessage.user("b")));

  @BeforeAll
  static void setUp() {
    spark = TestData.localSession("batchgen-chat-families-test");
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
  }

  static StructType chatSchema() {
    return new StructType().add("id", DataTypes.LongType).add("messages",
        DataTypes.createArrayType(new StructType().add("role", DataTypes.StringType)
            .add("content", DataTypes.StringType)));
  }

  /** One row per conversation of {@link #CHATS}, its index as id. */
  static List<Row> chatRows() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < CHATS.size(); i++) {
      List<Row> turns = new ArrayList<>();
      CHATS.get(i).forEach(m -> turns.add(RowFactory.create(m.role(), m.content())));
      rows.add(RowFactory.create((long) i, turns));
    }
    return rows;
  }

  static Path tokenizers(String family) {
    return Path.of(System.getProperty("batchgen.tokenizers.dir", "target/tokenizers"), family);
  }

  @ParameterizedTest(name = "{0} on a {1} model")
  @CsvSource({
      "qwen3, qwen3_moe, ",
      "llama3_1, llama, ",
      "deepseek_v3, mixtral, ",
      "gemma3, qwen3, Conversation roles must alternate",
      "mistral_nemo, mixtral, conversation roles must alternate",
      "qwen2_moe, qwen2_moe, "})
  void chatJobCompletesWithErrorsOnlyWhereTheTemplateRaises(String family, String arch,
      String refusal) throws Exception {
    Path model = dir.resolve(family);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int code = MakeModelCommand.run(new String[] {"make-model", "--preset", "tiny", "--arch",
        arch, "--dtype", "bf16", "--tokenizer", tokenizers(family).toString(), "--out",
        model.toString()}, new PrintStream(log, true, StandardCharsets.UTF_8), System.err);
    assertThat(code).as(log.toString(StandardCharsets.UTF_8)).isZero();

    completesChatsExceptWhereTheTemplateRefuses(model, family, refusal);
  }

  /**
   * A chat job on {@code model}: every row completes, with exactly the tokens the encoder gives,
   * except the last conversation when {@code refusal} is set, which fails with the template's
   * words.
   */
  static void completesChatsExceptWhereTheTemplateRefuses(Path model, String label,
      String refusal) throws Exception {
    String out = dir.resolve(label + "-out").toString();
    spark.createDataFrame(chatRows(), chatSchema()).write().format("batchgen")
        .option("model", model.toString()).option("maxNewTokens", "2")
        .option("onError", "record").mode("append").save(out);

    Map<Long, Row> byId = new HashMap<>();
    spark.read().parquet(out).collectAsList().forEach(r -> byId.put(r.getLong(0), r));
    assertThat(byId).hasSize(CHATS.size());
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(model)) {
      PromptEncoder encoder = PromptEncoder.of(t.tokenizer(), model, Optional.empty(), null, "");
      for (int i = 0; i < CHATS.size(); i++) {
        Row r = byId.get((long) i);
        String error = r.getAs("error");
        if (refusal != null && i == CHATS.size() - 1) {
          assertThat(error).as(label + " row " + i).contains(refusal);
          continue;
        }
        assertThat(error).as(label + " row " + i).isNull();
        assertThat((String) r.getAs("finish_reason")).isIn("stop", "length");
        int promptTokens = r.getAs("prompt_tokens");
        assertThat(promptTokens).as(label + " row " + i)
            .isEqualTo(encoder.encodeChat(CHATS.get(i), true).ids().length);
      }
    }
  }

  /** The demo's default model (generated, no tokenizer given) carries Mixtral's chat layout. */
  @Test
  void theDemoModelCompletesChatPrompts() throws Exception {
    Path model = io.batchgen.engine.model.TinyModels.write("tiny", "mixtral", "bf16", 1,
        dir.resolve("demo-model"));
    // two user turns in a row: Mixtral's layout cannot express it, and says so
    completesChatsExceptWhereTheTemplateRefuses(model, "demo",
        "Conversation roles must alternate");
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(model)) {
      assertThat(PromptEncoder.of(t.tokenizer(), model, Optional.empty(), null, "")
          .encodeChat(CHATS.get(1), true).text()).startsWith("<s>[INST] Be brief.\n\n");
    }
  }

  @Test
  void aGgufModelTakesChatPromptsWithItsOwnTemplate() throws Exception {
    Path template = dir.resolve("template.jinja");
    Files.writeString(template, "{% for m in messages %}<|reserved_0|>{{ m.role }}\n"
        + "{{ m.content }}<|endoftext|>\n{% endfor %}"
        + "{% if add_generation_prompt %}<|reserved_0|>assistant\n{% endif %}");
    Path model = dir.resolve("gguf-chat").resolve("model.gguf");
    assertThat(MakeModelCommand.run(new String[] {"--format", "gguf", "--dtype", "f32",
        "--chat-template", template.toString(), "--out", model.toString()},
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), System.err))
        .isZero();

    String out = dir.resolve("gguf-chat-out").toString();
    spark.createDataFrame(chatRows(), chatSchema()).write().format("batchgen")
        .option("model", model.toString()).option("maxNewTokens", "2")
        .option("onError", "record").mode("append").save(out);

    List<Row> results = spark.read().parquet(out).collectAsList();
    assertThat(results).hasSize(CHATS.size());
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(model)) {
      PromptEncoder encoder = PromptEncoder.of(t.tokenizer(), model, t.embeddedChatTemplates(),
          "default", "");
      for (Row r : results) {
        List<ChatMessage> chat = CHATS.get((int) r.getLong(0));
        assertThat((String) r.getAs("error")).isNull();
        assertThat((int) r.getAs("prompt_tokens"))
            .isEqualTo(encoder.encodeChat(chat, true).ids().length);
      }
    }
  }
}
