package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.tokenizer.PromptText;
import io.batchgen.engine.tokenizer.SpmTestVocab;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GGUF file's own chat templates, special tokens and BOS/EOS flags. */
class GgufChatTemplateTest {
  @TempDir
  Path tmp;

  @Test
  void templatesAndSpecialTokensAreReadAndRenderedChatsGetNoBos() throws IOException {
    SpmTestVocab v = SpmTestVocab.standard();
    Path f = tmp.resolve("chat.gguf");
    new TinyModelWriter(TinyModels.config("tiny", "mixtral"), 1, DType.F32).writeGguf(f,
        w -> w.putString("tokenizer.ggml.model", "llama")
            .putStrings("tokenizer.ggml.tokens", v.tokens)
            .putF32s("tokenizer.ggml.scores", v.scores)
            .putI32s("tokenizer.ggml.token_type", v.types)
            .putU32("tokenizer.ggml.bos_token_id", SpmTestVocab.BOS)
            .putU32("tokenizer.ggml.eos_token_id", SpmTestVocab.EOS)
            .putBool("tokenizer.ggml.add_bos_token", true)
            .putBool("tokenizer.ggml.add_eos_token", true)
            .putString("tokenizer.chat_template", "{{ bos_token }}{{ messages[0].content }}")
            .putString("tokenizer.chat_template.tool_use", "TOOLS"));

    try (LoadedModel m = ModelLoader.load(f); LoadedTokenizer t = ModelLoader.loadTokenizer(f)) {
      EmbeddedChatTemplates e = m.embeddedChatTemplates().orElseThrow();
      assertThat(e.templates()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "default", "{{ bos_token }}{{ messages[0].content }}", "tool_use", "TOOLS"));
      assertThat(e.specialTokens()).containsEntry("bos_token", v.tokens.get(SpmTestVocab.BOS))
          .containsEntry("eos_token", v.tokens.get(SpmTestVocab.EOS));
      assertThat(t.embeddedChatTemplates()).contains(e);

      String bos = v.tokens.get(SpmTestVocab.BOS);
      // the template's BOS is the only one; text after a special token gets its space mark
      assertThat(t.tokenizer().encode(PromptText.renderedChat(bos + "abc")))
          .containsExactly(SpmTestVocab.BOS, SpmTestVocab.SPACE_A, SpmTestVocab.BC);
      assertThat(t.tokenizer().encode(PromptText.plain("abc")))
          .containsExactly(SpmTestVocab.BOS, SpmTestVocab.SPACE_A, SpmTestVocab.BC,
              SpmTestVocab.EOS);
    }
  }

  @Test
  void aGeneratedGgufCarriesItsArchitecturesTemplateAndTurnTokens() throws IOException {
    Path f = TinyModels.writeGguf("tiny", "qwen3", "f32", 1, tmp.resolve("plain.gguf"));
    try (LoadedModel m = ModelLoader.load(f)) {
      EmbeddedChatTemplates e = m.embeddedChatTemplates().orElseThrow();
      assertThat(e.templates()).containsExactly(
          Map.entry("default", GeneratedChatFormat.CHATML.template()));
      assertThat(e.specialTokens()).containsEntry("eos_token", "<|im_end|>");
    }
  }
}
