package io.batchgen.engine.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The vocabulary of generated models: a real byte-level BPE learned from a fixed English text,
 * padded with reserved tokens to the requested size, ending with the model's special tokens (its
 * chat format's turn markers), the end-of-sequence token as the last id. Deterministic.
 *
 * @param tokens     byte-level token strings by id
 * @param merges     merges by rank ({@code "left right"})
 * @param tokenTypes llama.cpp token types by id (1 normal, 3 control)
 * @param eosId      id of the end-of-sequence token (the last)
 */
public record GeneratedVocab(List<String> tokens, List<String> merges, int[] tokenTypes,
    int eosId) {

  private static final String CORPUS = """
      A batch job reads millions of prompts from a table and writes every completion back. \
      Each sequence is a small coroutine that waits for the modules it needs: the attention of \
      a layer, an expert of a layer, or the language model head. The scheduler gathers the \
      tokens of all waiting sequences that route to the same expert and runs them together, \
      so that the expert weights are read once for many tokens. When memory is short, the \
      weights of each module are streamed in once and every waiting token is run, instead of \
      loading the same weights again for every step. Sequences can be paused, moved to another \
      machine and resumed there, with their tokens, their position and their cache. The \
      results must be written exactly once, whatever fails on the way. There are 24 hours in \
      a day, 7 days in a week and 365 days in a year; the numbers 0 1 2 3 4 5 6 7 8 9 10 100 \
      1000 appear often. "Hello, world!" said the first program. The quick brown fox jumps \
      over the lazy dog, and the dog does not mind. It is what it is: the model, the tokens, \
      the weights, the experts, the layers and the heads of the attention.
      """;

  /** Builds the vocabulary of {@code vocabSize} tokens, the last being {@code eos}. */
  public static GeneratedVocab build(int vocabSize, String eos) {
    return build(vocabSize, List.of(eos));
  }

  /**
   * Builds the vocabulary of {@code vocabSize} tokens ending with {@code specials} (control
   * tokens), whose last is the end-of-sequence token and takes the last id.
   */
  public static GeneratedVocab build(int vocabSize, List<String> specials) {
    if (vocabSize < 257 + specials.size()) {
      throw new IllegalArgumentException("A byte-level vocabulary with " + specials.size()
          + " special tokens needs at least " + (257 + specials.size()) + " tokens, got "
          + vocabSize);
    }
    BpeTrainer.Vocabulary v = BpeTrainer.train(CORPUS,
        Math.min(vocabSize - 256 - specials.size(), 4000));
    List<String> tokens = new ArrayList<>(v.tokens());
    for (int i = 0; tokens.size() < vocabSize - specials.size(); i++) {
      tokens.add("<|reserved_" + i + "|>");
    }
    tokens.addAll(specials);
    int[] types = new int[vocabSize];
    java.util.Arrays.fill(types, 1);
    java.util.Arrays.fill(types, vocabSize - specials.size(), vocabSize,
        ByteLevelBpeTokenizer.TYPE_CONTROL);
    return new GeneratedVocab(List.copyOf(tokens), v.merges(), types, vocabSize - 1);
  }

  /** The id of special token {@code text}, or -1. */
  public int specialId(String text) {
    for (int i = tokens.size() - 1; i >= 0 && tokenTypes[i] == ByteLevelBpeTokenizer.TYPE_CONTROL;
        i--) {
      if (tokens.get(i).equals(text)) {
        return i;
      }
    }
    return -1;
  }

  /** A Hugging Face {@code tokenizer.json} for this vocabulary (ByteLevel pre-tokenizer/decoder). */
  public JsonObject tokenizerJson() {
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    JsonArray added = new JsonArray();
    for (int i = 0; i < tokens.size(); i++) {
      if (tokenTypes[i] == ByteLevelBpeTokenizer.TYPE_CONTROL) {
        JsonObject special = new JsonObject();
        special.addProperty("id", i);
        special.addProperty("content", tokens.get(i));
        special.addProperty("single_word", false);
        special.addProperty("lstrip", false);
        special.addProperty("rstrip", false);
        special.addProperty("normalized", false);
        special.addProperty("special", true);
        added.add(special);
      }
    }
    root.add("added_tokens", added);
    root.add("normalizer", JsonNull.INSTANCE);
    root.add("pre_tokenizer", byteLevel(false));
    root.add("post_processor", JsonNull.INSTANCE);
    root.add("decoder", byteLevel(true));
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.add("unk_token", JsonNull.INSTANCE);
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    JsonObject vocab = new JsonObject();
    for (int i = 0; i < tokens.size(); i++) {
      if (tokenTypes[i] != ByteLevelBpeTokenizer.TYPE_CONTROL) {
        vocab.addProperty(tokens.get(i), i);
      }
    }
    model.add("vocab", vocab);
    JsonArray m = new JsonArray();
    merges.forEach(m::add);
    model.add("merges", m);
    root.add("model", model);
    return root;
  }

  private static JsonObject byteLevel(boolean decoder) {
    JsonObject o = new JsonObject();
    o.addProperty("type", "ByteLevel");
    o.addProperty("add_prefix_space", decoder);
    o.addProperty("trim_offsets", true);
    o.addProperty("use_regex", true);
    return o;
  }
}
