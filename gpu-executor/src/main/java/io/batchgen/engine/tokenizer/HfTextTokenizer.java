package io.batchgen.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.batchgen.engine.format.ModelFormatException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@code tokenizer.json} run by Hugging Face tokenizers through DJL's binding, whose jar bundles
 * the native library. DJL truncates to 512 tokens by default; this turns truncation and padding
 * off so prompts are never cut.
 */
public final class HfTextTokenizer implements TextTokenizer {
  private final HuggingFaceTokenizer tokenizer;
  private final int[] eos;
  private final int vocabSize;

  private HfTextTokenizer(HuggingFaceTokenizer tokenizer, int[] eos, int vocabSize) {
    this.tokenizer = tokenizer;
    this.eos = eos;
    this.vocabSize = vocabSize;
  }

  /** Opens {@code tokenizerJson}; {@code eos} comes from the model's generation config. */
  public static HfTextTokenizer open(Path tokenizerJson, int[] eos) {
    int vocab = vocabSize(tokenizerJson);
    try {
      HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of(
          "truncation", "false", "padding", "false", "addSpecialTokens", "true"));
      return new HfTextTokenizer(t, eos.clone(), vocab);
    } catch (IOException | RuntimeException e) {
      throw ModelFormatException.of(tokenizerJson, "cannot load tokenizer: " + e.getMessage(), e);
    }
  }

  private static int vocabSize(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      JsonElement root = JsonParser.parseReader(r);
      int max = -1;
      JsonObject obj = root.getAsJsonObject();
      JsonElement model = obj.get("model");
      if (model != null && model.isJsonObject() && model.getAsJsonObject().has("vocab")
          && model.getAsJsonObject().get("vocab").isJsonObject()) {
        for (var e : model.getAsJsonObject().getAsJsonObject("vocab").entrySet()) {
          max = Math.max(max, e.getValue().getAsInt());
        }
      }
      JsonElement added = obj.get("added_tokens");
      if (added != null && added.isJsonArray()) {
        for (JsonElement a : added.getAsJsonArray()) {
          max = Math.max(max, a.getAsJsonObject().get("id").getAsInt());
        }
      }
      return max + 1;
    } catch (IOException e) {
      throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw ModelFormatException.of(file, "is not a valid tokenizer.json: " + e.getMessage(), e);
    }
  }

  @Override
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, true, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, true);
  }

  @Override
  public int[] eosTokenIds() {
    return eos.clone();
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
