package io.batchgen.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Token ids of real tokenizers against the tokenizers library itself (the goldens of
 * {@code chat-conformance/}, written once by tokenizers 0.23.2 on the same tokenizer.json): a
 * rendered chat with no special tokens added, a plain prompt with BOS/EOS as tokenizer_config.json
 * and the post-processor ask, never twice.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenizerConformanceTest {
  static final List<String> FAMILIES = List.of("qwen3", "llama3_1", "deepseek_v3", "gemma3",
      "mistral_nemo", "qwen2_moe", "mixtral");

  private final java.util.Map<String, LoadedTokenizer> open = new java.util.HashMap<>();

  static Path dir(String family) {
    return Path.of(System.getProperty("batchgen.tokenizers.dir", "target/tokenizers"), family);
  }

  private TextTokenizer tokenizer(String family) {
    return open.computeIfAbsent(family, f -> ModelLoader.loadTokenizer(dir(f))).tokenizer();
  }

  @AfterAll
  void close() {
    open.values().forEach(LoadedTokenizer::close);
  }

  static JsonObject golden(String family) {
    try (InputStream in = TokenizerConformanceTest.class.getResourceAsStream(
        "/chat-conformance/" + family + ".json")) {
      return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
          .getAsJsonObject();
    } catch (Exception e) {
      throw new IllegalStateException("golden of " + family, e);
    }
  }

  private static int[] ints(JsonElement array) {
    return array.getAsJsonArray().asList().stream().mapToInt(JsonElement::getAsInt).toArray();
  }

  @TestFactory
  Stream<DynamicContainer> idsMatchTheTokenizersLibrary() {
    return FAMILIES.stream().map(family -> {
      TextTokenizer t = tokenizer(family);
      JsonObject g = golden(family);
      List<DynamicTest> tests = new ArrayList<>();
      for (JsonElement c : g.getAsJsonArray("chats")) {
        JsonObject chat = c.getAsJsonObject();
        tests.add(DynamicTest.dynamicTest("chat " + chat.get("id").getAsString(), () ->
            assertThat(t.encode(PromptText.renderedChat(chat.get("text").getAsString())))
                .containsExactly(ints(chat.get("ids")))));
      }
      for (JsonElement p : g.getAsJsonArray("plain")) {
        JsonObject plain = p.getAsJsonObject();
        String text = plain.get("text").getAsString();
        tests.add(DynamicTest.dynamicTest("plain " + abbreviate(text), () ->
            assertThat(t.encode(PromptText.plain(text))).containsExactly(ints(plain.get("ids")))));
      }
      return DynamicContainer.dynamicContainer(family, tests);
    });
  }

  @Test
  void everyChatFamilyHasTwentyRenderedConversations() {
    for (String family : FAMILIES.subList(0, 6)) {
      assertThat(golden(family).getAsJsonArray("chats").size()).as(family)
          .isGreaterThanOrEqualTo(20);
    }
  }

  @Test
  void oneBosOnChatsWhoseTemplateWritesItAndOnDeepSeekPlainPrompts() {
    TextTokenizer llama = tokenizer("llama3_1");
    TextTokenizer gemma = tokenizer("gemma3");
    TextTokenizer deepseek = tokenizer("deepseek_v3");

    int[] llamaChat = llama.encode(PromptText.renderedChat("<|begin_of_text|><|start_header_id|>"
        + "user<|end_header_id|>\n\nhi<|eot_id|>"));
    int[] gemmaChat = gemma.encode(PromptText.renderedChat("<bos><start_of_turn>user\nhi"
        + "<end_of_turn>\n"));
    int[] llamaPlain = llama.encode("hi");

    assertThat(llamaChat).startsWith(128000, 128006);
    assertThat(count(llamaChat, 128000)).isEqualTo(1);
    assertThat(gemmaChat).startsWith(2, 105);
    assertThat(count(gemmaChat, 2)).isEqualTo(1);
    assertThat(llamaPlain).startsWith(128000);
    assertThat(count(llamaPlain, 128000)).isEqualTo(1);
    assertThat(deepseek.encode("Hello world")).containsExactly(0, 19923, 2058);
    assertThat(deepseek.encode(PromptText.renderedChat("Hello world")))
        .containsExactly(19923, 2058);
  }

  private static long count(int[] ids, int id) {
    return java.util.Arrays.stream(ids).filter(x -> x == id).count();
  }

  private static String abbreviate(String s) {
    String flat = s.replace("\n", "\\n");
    return flat.length() > 40 ? flat.substring(0, 40) + "..." : flat;
  }
}
