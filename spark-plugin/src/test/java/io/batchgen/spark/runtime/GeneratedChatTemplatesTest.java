package io.batchgen.spark.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import io.batchgen.engine.tokenizer.PromptText;
import io.batchgen.io.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Generated models carry their family's chat layout: the rendered prompt is the family's, its
 * turn markers are one token each, the end of turn is the model's end-of-sequence id, and the
 * Hugging Face directory and the GGUF file of one model render and tokenize a chat alike.
 */
class GeneratedChatTemplatesTest {
  @TempDir
  static Path dir;

  static final List<ChatMessage> CHAT = List.of(ChatMessage.system("Be brief."),
      ChatMessage.user("What is 2+2?"), ChatMessage.assistant("4"), ChatMessage.user("And 3+3?"));

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiterString = " ## ", value = {
      "mixtral ## <s>[INST] Be brief.\\n\\nWhat is 2+2? [/INST]4</s>[INST] And 3+3? [/INST]"
          + " ## </s>",
      "qwen3_moe ## <|im_start|>system\\nBe brief.<|im_end|>\\n<|im_start|>user\\nWhat is 2+2?"
          + "<|im_end|>\\n<|im_start|>assistant\\n4<|im_end|>\\n<|im_start|>user\\nAnd 3+3?"
          + "<|im_end|>\\n<|im_start|>assistant\\n ## <|im_end|>",
      "olmoe ## <|endoftext|><|system|>\\nBe brief.\\n<|user|>\\nWhat is 2+2?\\n<|assistant|>\\n4"
          + "<|endoftext|>\\n<|user|>\\nAnd 3+3?\\n<|assistant|>\\n ## <|endoftext|>",
      "llama ## <|begin_of_text|><|start_header_id|>system<|end_header_id|>\\n\\nBe brief."
          + "<|eot_id|>"
          + "<|start_header_id|>user<|end_header_id|>\\n\\nWhat is 2+2?<|eot_id|>"
          + "<|start_header_id|>assistant<|end_header_id|>\\n\\n4<|eot_id|>"
          + "<|start_header_id|>user<|end_header_id|>\\n\\nAnd 3+3?<|eot_id|>"
          + "<|start_header_id|>assistant<|end_header_id|>\\n\\n ## <|eot_id|>"})
  void rendersTheFamilyLayoutWithTurnTokensAsSingleIds(String arch, String expected, String eos)
      throws Exception {
    String want = expected.replace("\\n", "\n");
    Path hf = TinyModels.write("tiny", arch, "f32", 3, dir.resolve(arch + "-hf"));
    Path gguf = TinyModels.writeGguf("tiny", arch, "f32", 3, dir.resolve(arch + ".gguf"));
    int vocab = TinyModels.preset("tiny").vocab();

    PromptEncoder.Encoded fromHf;
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(hf)) {
      PromptEncoder e = PromptEncoder.of(t.tokenizer(), hf, t.embeddedChatTemplates(), null, "");
      fromHf = e.encodeChat(CHAT, true);
      assertThat(t.tokenizer().decode(new int[] {vocab - 1})).isIn("", eos);
      assertThat(t.tokenizer().encode(PromptText.renderedChat(eos)))
          .as("end of turn is one token, the EOS id").containsExactly(vocab - 1);
    }
    assertThat(fromHf.text()).isEqualTo(want);
    // the turn tokens are single ids from the vocabulary's special range, one per occurrence
    long ends = java.util.Arrays.stream(fromHf.ids()).filter(id -> id == vocab - 1).count();
    assertThat(ends).isEqualTo(want.split(java.util.regex.Pattern.quote(eos), -1).length - 1);

    try (LoadedTokenizer t = ModelLoader.loadTokenizer(gguf)) {
      PromptEncoder e = PromptEncoder.of(t.tokenizer(), gguf, t.embeddedChatTemplates(), null,
          "");
      PromptEncoder.Encoded fromGguf = e.encodeChat(CHAT, true);
      assertThat(fromGguf.text()).isEqualTo(want);
      assertThat(fromGguf.ids()).containsExactly(fromHf.ids());
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"mixtral", "olmoe"})
  void refusesWhatTheLayoutCannotExpress(String arch) throws Exception {
    Path hf = TinyModels.write("tiny", arch, "f32", 3, dir.resolve(arch + "-refuse"));
    List<ChatMessage> chat = arch.equals("mixtral")
        ? List.of(ChatMessage.user("a"), ChatMessage.user("b"))
        : List.of(new ChatMessage("tool", "x"));
    try (LoadedTokenizer t = ModelLoader.loadTokenizer(hf)) {
      PromptEncoder e = PromptEncoder.of(t.tokenizer(), hf, t.embeddedChatTemplates(), null, "");
      assertThatThrownBy(() -> e.encodeChat(chat, true))
          .hasMessageContaining(arch.equals("mixtral") ? "roles must alternate"
              : "Unknown role tool");
    }
  }
}
