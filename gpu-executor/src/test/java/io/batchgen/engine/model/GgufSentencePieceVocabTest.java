package io.batchgen.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.batchgen.engine.format.DType;
import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.gguf.GgufWriter;
import io.batchgen.engine.tokenizer.SentencePieceBpeTokenizer;
import io.batchgen.engine.tokenizer.SpmTestVocab;
import io.batchgen.engine.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF files carrying a SentencePiece ({@code tokenizer.ggml.model = llama}) vocabulary. */
class GgufSentencePieceVocabTest {
  @TempDir
  Path tmp;

  private Path mixtral(String name, Consumer<GgufWriter> vocab) throws IOException {
    Path f = tmp.resolve(name + ".gguf");
    new TinyModelWriter(TinyModels.config("tiny", "mixtral"), 1, DType.F32).writeGguf(f, vocab);
    return f;
  }

  /** The keys llama.cpp's converter writes for a Llama-2-family vocabulary. */
  private static Consumer<GgufWriter> llamaVocab(SpmTestVocab v) {
    return w -> w.putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", v.tokens)
        .putF32s("tokenizer.ggml.scores", v.scores)
        .putI32s("tokenizer.ggml.token_type", v.types)
        .putU32("tokenizer.ggml.bos_token_id", SpmTestVocab.BOS)
        .putU32("tokenizer.ggml.eos_token_id", SpmTestVocab.EOS)
        .putU32("tokenizer.ggml.unknown_token_id", SpmTestVocab.UNK)
        .putBool("tokenizer.ggml.add_bos_token", true)
        .putBool("tokenizer.ggml.add_eos_token", false);
  }

  @Test
  void llamaVocabLoadsAndTokenizesLikeSentencePiece() throws IOException {
    SpmTestVocab v = SpmTestVocab.standard();
    try (LoadedModel m = ModelLoader.load(mixtral("spm", llamaVocab(v)))) {
      TextTokenizer t = m.tokenizer();
      assertThat(t).isInstanceOf(SentencePieceBpeTokenizer.class);
      assertThat(t.encode("hello abc")).containsExactly(SpmTestVocab.BOS,
          SpmTestVocab.SPACE_HELLO, SpmTestVocab.SPACE_A, SpmTestVocab.BC);
      assertThat(t.encode("é😀")).containsExactly(SpmTestVocab.BOS, SpmTestVocab.SPACE,
          SpmTestVocab.E_ACUTE, SpmTestVocab.byteId(0xF0), SpmTestVocab.byteId(0x9F),
          SpmTestVocab.byteId(0x98), SpmTestVocab.byteId(0x80));
      assertThat(t.decode(t.encode("Ünïcödé ✓ hello  abc"))).isEqualTo("Ünïcödé ✓ hello  abc");
      assertThat(t.eosTokenIds()).containsExactly(SpmTestVocab.EOS);
      assertThat(t.vocabSize()).isEqualTo(v.tokens.size());
    }
  }

  @Test
  void flagsForBosAndSpacePrefixAreRead() throws IOException {
    SpmTestVocab v = SpmTestVocab.standard();
    Path f = mixtral("flags", llamaVocab(v).andThen(
        w -> w.putBool("tokenizer.ggml.add_space_prefix", false)));
    // llama.cpp's minimal form: no token types, no special ids, BOS and space prefix off
    Path noBos = mixtral("nobos", w -> w.putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", v.tokens)
        .putF32s("tokenizer.ggml.scores", v.scores)
        .putBool("tokenizer.ggml.add_bos_token", false)
        .putBool("tokenizer.ggml.add_space_prefix", false));
    try (LoadedModel a = ModelLoader.load(f); LoadedModel b = ModelLoader.load(noBos)) {
      assertThat(a.tokenizer().encode("abc")).containsExactly(SpmTestVocab.BOS, SpmTestVocab.A,
          SpmTestVocab.BC);
      // no token_type array: byte tokens are recognised by their spelling
      assertThat(b.tokenizer().encode("abcü")).containsExactly(SpmTestVocab.A, SpmTestVocab.BC,
          SpmTestVocab.byteId(0xC3), SpmTestVocab.byteId(0xBC));
      assertThat(b.tokenizer().decode(new int[] {SpmTestVocab.A, SpmTestVocab.byteId(0xC3),
          SpmTestVocab.byteId(0xBC)})).isEqualTo("aü");
    }
  }

  @Test
  void unknownTokenizerModelNamesFileKeyAndSupportedValues() throws IOException {
    Path f = mixtral("bert", w -> w.putString("tokenizer.ggml.model", "bert"));
    try (LoadedModel m = ModelLoader.load(f)) {
      assertThatThrownBy(m::tokenizer).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(f.toString())
          .hasMessageContaining("metadata [tokenizer.ggml.model] is [bert], which is not"
              + " supported; supported: gpt2 (byte-level BPE), llama (SentencePiece BPE)");
    }
    Path none = mixtral("none", w -> { });
    try (LoadedModel m = ModelLoader.load(none)) {
      assertThatThrownBy(m::tokenizer).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(none.toString())
          .hasMessageContaining("metadata [tokenizer.ggml.model] is missing");
    }
  }

  @Test
  void malformedVocabArraysAreNamed() throws IOException {
    SpmTestVocab v = SpmTestVocab.standard();
    Path f = mixtral("short", w -> w.putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", v.tokens)
        .putF32s("tokenizer.ggml.scores", new float[3]));
    try (LoadedModel m = ModelLoader.load(f)) {
      assertThatThrownBy(m::tokenizer).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining(f.toString())
          .hasMessageContaining("metadata [tokenizer.ggml.scores] must be an array with one entry"
              + " per token (" + v.tokens.size() + "), got 3 entries");
    }
    Path outside = mixtral("outside", w -> w.putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", v.tokens)
        .putU32("tokenizer.ggml.eos_token_id", 5000));
    try (LoadedModel m = ModelLoader.load(outside)) {
      assertThatThrownBy(m::tokenizer).isInstanceOf(ModelFormatException.class)
          .hasMessageContaining("metadata [tokenizer.ggml.eos_token_id] is 5000, outside the "
              + v.tokens.size() + "-token vocabulary");
    }
  }
}
