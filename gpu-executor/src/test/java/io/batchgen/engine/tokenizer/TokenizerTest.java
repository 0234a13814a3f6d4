package io.batchgen.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.model.TinyModels;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  @TempDir
  static Path tmp;
  static Path hf;
  static Path gguf;

  @BeforeAll
  static void writeModels() {
    hf = TinyModels.write("tiny", "qwen3_moe", "f32", 1, tmp.resolve("hf"));
    gguf = TinyModels.writeGguf("tiny", "qwen3_moe", "f32", 1, tmp.resolve("m.gguf"));
  }

  @Test
  void generatedTokenizerJsonLoadsInDjlAndRoundTrips() {
    try (LoadedModel m = ModelLoader.load(hf)) {
      TextTokenizer t = m.tokenizer();
      String text = "The quick brown fox jumps over 12 lazy dogs. Ünïcödé ✓ 漢字!";
      int[] ids = t.encode(text);
      assertThat(ids.length).isLessThan(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)
          .length); // merges learned from the corpus apply
      assertThat(t.decode(ids)).isEqualTo(text);
      assertThat(t.vocabSize()).isEqualTo(512);
      assertThat(t.eosTokenIds()).containsExactly(511);
    }
  }

  @Test
  void longPromptsAreNotTruncated() {
    try (LoadedModel m = ModelLoader.load(hf)) {
      String text = "expert layer token ".repeat(400);
      int[] ids = m.tokenizer().encode(text);
      assertThat(ids.length).isGreaterThan(1000);
      assertThat(m.tokenizer().decode(ids)).isEqualTo(text);
    }
  }

  @Test
  void ggufVocabTokenizesLikeTheHfTokenizer() {
    try (LoadedModel h = ModelLoader.load(hf); LoadedModel g = ModelLoader.load(gguf)) {
      for (String text : new String[] {"Hello, world!", "  two  spaces\tand\nlines  ",
          "The experts' weights aren't read twice; 365 days<|endoftext|>after eos", "ÿ€ 😀 ok"}) {
        int[] a = h.tokenizer().encode(text);
        int[] b = g.tokenizer().encode(text);
        assertThat(b).as(text).containsExactly(a);
        assertThat(g.tokenizer().decode(b)).isEqualTo(h.tokenizer().decode(a));
      }
      assertThat(g.tokenizer().eosTokenIds()).containsExactly(h.tokenizer().eosTokenIds());
    }
  }
}
