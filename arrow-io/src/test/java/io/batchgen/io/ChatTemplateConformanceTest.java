package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Real chat templates, rendered byte for byte as the references render them. For each family the
 * build fetches the model's real tokenizer_config.json (tools/chat-conformance/README.md); the
 * goldens under {@code chat-conformance/} were written once by @huggingface/jinja and Python
 * Jinja2 in transformers' configuration (Python's result where they differ).
 */
class ChatTemplateConformanceTest {
  static final List<String> FAMILIES = List.of("qwen3", "llama3_1", "deepseek_v3", "gemma3",
      "mistral_nemo", "qwen2_moe");

  static Path tokenizerDir(String family) {
    String root = System.getProperty("batchgen.tokenizers.dir", "target/tokenizers");
    return Path.of(root, family);
  }

  static JsonNode golden(String family) throws Exception {
    try (InputStream in = ChatTemplateConformanceTest.class.getResourceAsStream(
        "/chat-conformance/" + family + ".json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  @Test
  void everyFamilyHasItsFilesAndAtLeastTwentyConversations() throws Exception {
    for (String family : FAMILIES) {
      assertThat(tokenizerDir(family).resolve("tokenizer_config.json")).as(family).exists();
      JsonNode g = golden(family);
      long rendered = 0;
      for (JsonNode c : g.get("conversations")) {
        rendered += c.has("text") ? 1 : 0;
      }
      assertThat(rendered).as(family).isGreaterThanOrEqualTo(20);
    }
  }

  @TestFactory
  Stream<DynamicContainer> rendersEveryGoldenConversationIdentically() {
    return FAMILIES.stream().map(family -> {
      ChatTemplate template = ChatTemplate.fromModelDirectory(tokenizerDir(family));
      JsonNode g;
      try {
        g = golden(family);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      List<DynamicTest> tests = new ArrayList<>();
      for (JsonNode c : g.get("conversations")) {
        tests.add(DynamicTest.dynamicTest(c.get("id").asText(), () -> check(template, c)));
      }
      return DynamicContainer.dynamicContainer(family, tests);
    });
  }

  @SuppressWarnings("unchecked")
  private static void check(ChatTemplate template, JsonNode c) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<ChatMessage> messages = new ArrayList<>();
    for (JsonNode m : c.get("messages")) {
      messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
    }
    ChatTemplate t = c.has("kwargs")
        ? template.withVariables(json.convertValue(c.get("kwargs"), Map.class)) : template;
    boolean generationPrompt = c.get("addGenerationPrompt").asBoolean();
    if (c.has("text")) {
      assertThat(t.render(messages, generationPrompt)).isEqualTo(c.get("text").asText());
    } else {
      assertThatThrownBy(() -> t.render(messages, generationPrompt))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(c.get("raised").asText());
    }
  }

  @Test
  void qwen3RendersAtAllAndDeepSeekEndsWithItsGenerationPrompt() {
    List<ChatMessage> chat = List.of(ChatMessage.system("s"), ChatMessage.user("q"));

    assertThat(ChatTemplate.fromModelDirectory(tokenizerDir("qwen3")).render(chat, true))
        .isEqualTo("<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nq<|im_end|>\n"
            + "<|im_start|>assistant\n");
    assertThat(ChatTemplate.fromModelDirectory(tokenizerDir("deepseek_v3")).render(chat, true))
        .endsWith("<｜User｜>q<｜Assistant｜>");
    assertThat(Files.exists(tokenizerDir("mixtral").resolve("tokenizer.json"))).isTrue();
  }
}
