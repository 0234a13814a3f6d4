package io.batchgen.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.batchgen.engine.format.ModelFormatException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A Hugging Face tokenizer: {@code tokenizer.json} run by the tokenizers library through DJL's
 * binding (whose jar bundles the native library), with the special-token rules of
 * {@code tokenizer_config.json}. DJL truncates to 512 tokens by default; this turns truncation
 * and padding off so prompts are never cut.
 *
 * <p>Special tokens, as transformers adds them: a rendered chat gets none; a plain prompt gets
 * what the post-processor of tokenizer.json adds, changed by tokenizer_config.json's
 * {@code add_bos_token}/{@code add_eos_token} as transformers' Llama and Gemma tokenizers apply
 * them: {@code true} adds the token where the post-processor does not (DeepSeek-V3's BOS),
 * {@code false} drops the post-processor's, absent leaves the post-processor alone. Never twice.
 */
public final class HfTextTokenizer implements TextTokenizer {
  private final HuggingFaceTokenizer tokenizer;
  private final int[] eos;
  private final int vocabSize;
  /** Ids a plain prompt starts and ends with (BOS, EOS, ...). */
  private final int[] plainHead;
  private final int[] plainTail;

  private HfTextTokenizer(HuggingFaceTokenizer tokenizer, int[] eos, int vocabSize,
      int[] plainHead, int[] plainTail) {
    this.tokenizer = tokenizer;
    this.eos = eos;
    this.vocabSize = vocabSize;
    this.plainHead = plainHead;
    this.plainTail = plainTail;
  }

  /**
   * What tokenizer_config.json says about special tokens; fields are null when absent.
   *
   * @param bosToken text of the BOS token
   * @param eosToken text of the EOS token
   * @param addBos   {@code add_bos_token}
   * @param addEos   {@code add_eos_token}
   */
  public record Config(String bosToken, String eosToken, Boolean addBos, Boolean addEos) {
    static final Config NONE = new Config(null, null, null, null);

    /** Reads {@code tokenizer_config.json}; a missing file means no settings. */
    public static Config read(Path file) {
      if (!Files.exists(file)) {
        return NONE;
      }
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        JsonObject o = JsonParser.parseReader(r).getAsJsonObject();
        return new Config(tokenText(o.get("bos_token")), tokenText(o.get("eos_token")),
            bool(o.get("add_bos_token")), bool(o.get("add_eos_token")));
      } catch (IOException e) {
        throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
      } catch (RuntimeException e) {
        throw ModelFormatException.of(file, "is not a valid tokenizer_config.json: "
            + e.getMessage(), e);
      }
    }

    private static String tokenText(JsonElement e) {
      if (e == null || e.isJsonNull()) {
        return null;
      }
      if (e.isJsonPrimitive()) {
        return e.getAsString();
      }
      JsonElement content = e.getAsJsonObject().get("content");
      return content == null || content.isJsonNull() ? null : content.getAsString();
    }

    private static Boolean bool(JsonElement e) {
      return e == null || e.isJsonNull() ? null : e.getAsBoolean();
    }
  }

  /**
   * Opens the tokenizer of a model or tokenizer directory: {@code tokenizer.json} and, when
   * present, {@code tokenizer_config.json}.
   *
   * @param eos end-of-sequence ids from the model's config; when empty, the id of
   *            tokenizer_config.json's {@code eos_token}
   * @throws ModelFormatException when tokenizer.json is missing or cannot be loaded
   */
  public static HfTextTokenizer open(Path dir, int[] eos) {
    Path json = dir.resolve("tokenizer.json");
    if (!Files.exists(json)) {
      throw ModelFormatException.of(json, "file not found; the model has no tokenizer, pass"
          + " token ids instead of text");
    }
    Config config = Config.read(dir.resolve("tokenizer_config.json"));
    Vocabulary vocab = Vocabulary.read(json);
    HuggingFaceTokenizer t;
    try {
      t = HuggingFaceTokenizer.newInstance(json, Map.of(
          "truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    } catch (IOException | RuntimeException e) {
      throw ModelFormatException.of(json, "cannot load tokenizer: " + e.getMessage(), e);
    }
    try {
      int bos = vocab.id(config.bosToken());
      int eosId = vocab.id(config.eosToken());
      // What the post-processor puts around any text, found by encoding a probe both ways.
      int[] with = ints(t.encode("a", true, false).getIds());
      int[] without = ints(t.encode("a", false, false).getIds());
      int at = indexOf(with, without);
      int[] head = Arrays.copyOfRange(with, 0, at);
      int[] tail = Arrays.copyOfRange(with, at + without.length, with.length);
      head = adjust(head, bos, config.addBos(), true);
      tail = adjust(tail, eosId, config.addEos(), false);
      int[] eosIds = eos.length > 0 || eosId < 0 ? eos.clone() : new int[] {eosId};
      return new HfTextTokenizer(t, eosIds, vocab.size(), head, tail);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /**
   * The vocabulary size of a tokenizer directory and the id of its tokenizer_config.json
   * {@code eos_token} (-1 when none), read without loading the tokenizer itself.
   */
  public static int[] vocabSizeAndEos(Path dir) {
    Path json = dir.resolve("tokenizer.json");
    if (!Files.exists(json)) {
      throw ModelFormatException.of(json, "file not found; a tokenizer directory needs"
          + " tokenizer.json and tokenizer_config.json");
    }
    Vocabulary vocab = Vocabulary.read(json);
    return new int[] {vocab.size(),
        vocab.id(Config.read(dir.resolve("tokenizer_config.json")).eosToken())};
  }

  /** add_bos_token/add_eos_token on top of the post-processor: true adds once, false drops. */
  private static int[] adjust(int[] ids, int special, Boolean add, boolean atStart) {
    if (special < 0 || add == null) {
      return ids;
    }
    boolean has = IntStream.of(ids).anyMatch(i -> i == special);
    if (add && !has) {
      int[] out = new int[ids.length + 1];
      System.arraycopy(ids, 0, out, atStart ? 1 : 0, ids.length);
      out[atStart ? 0 : ids.length] = special;
      return out;
    }
    return add ? ids : IntStream.of(ids).filter(i -> i != special).toArray();
  }

  private static int indexOf(int[] haystack, int[] needle) {
    for (int s = 0; s + needle.length <= haystack.length; s++) {
      if (Arrays.equals(haystack, s, s + needle.length, needle, 0, needle.length)) {
        return s;
      }
    }
    throw new IllegalStateException("the post-processor of this tokenizer changes the ids of the"
        + " text itself; not supported");
  }

  private static int[] ints(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Token strings to ids (model vocabulary and added tokens) and the vocabulary size. */
  private record Vocabulary(Map<String, Integer> ids, int size) {
    int id(String token) {
      return token == null ? -1 : ids.getOrDefault(token, -1);
    }

    /** Streams tokenizer.json for the vocabulary and added tokens, skipping the merges. */
    static Vocabulary read(Path file) {
      try (JsonReader r = new JsonReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
        Map<String, Integer> ids = new HashMap<>();
        int[] max = {-1};
        r.beginObject();
        while (r.hasNext()) {
          String key = r.nextName();
          if (key.equals("model") && r.peek() == JsonToken.BEGIN_OBJECT) {
            r.beginObject();
            while (r.hasNext()) {
              if (r.nextName().equals("vocab") && r.peek() == JsonToken.BEGIN_OBJECT) {
                r.beginObject();
                while (r.hasNext()) {
                  String token = r.nextName();
                  int id = r.nextInt();
                  ids.put(token, id);
                  max[0] = Math.max(max[0], id);
                }
                r.endObject();
              } else {
                r.skipValue();
              }
            }
            r.endObject();
          } else if (key.equals("added_tokens") && r.peek() == JsonToken.BEGIN_ARRAY) {
            r.beginArray();
            while (r.hasNext()) {
              JsonObject a = JsonParser.parseReader(r).getAsJsonObject();
              int id = a.get("id").getAsInt();
              ids.put(a.get("content").getAsString(), id);
              max[0] = Math.max(max[0], id);
            }
            r.endArray();
          } else {
            r.skipValue();
          }
        }
        r.endObject();
        return new Vocabulary(ids, max[0] + 1);
      } catch (IOException e) {
        throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
      } catch (RuntimeException e) {
        throw ModelFormatException.of(file, "is not a valid tokenizer.json: " + e.getMessage(),
            e);
      }
    }
  }

  @Override
  public int[] encode(PromptText prompt) {
    int[] body = ints(tokenizer.encode(prompt.text(), false, false).getIds());
    if (prompt instanceof PromptText.RenderedChat) {
      return body;
    }
    int[] out = new int[plainHead.length + body.length + plainTail.length];
    System.arraycopy(plainHead, 0, out, 0, plainHead.length);
    System.arraycopy(body, 0, out, plainHead.length, body.length);
    System.arraycopy(plainTail, 0, out, plainHead.length + body.length, plainTail.length);
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
