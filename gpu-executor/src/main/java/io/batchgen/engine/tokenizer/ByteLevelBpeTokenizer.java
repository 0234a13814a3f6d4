package io.batchgen.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * Byte-level BPE over an explicit vocabulary and merge list: the GGUF {@code gpt2} tokenizer
 * (llama.cpp's {@code tokenizer.ggml.*} arrays). Special tokens (control and user-defined types)
 * are matched in the text first; the rest is split by the GPT-2 pattern and merged by rank.
 * Thread-safe.
 */
public final class ByteLevelBpeTokenizer implements TextTokenizer {
  static final int TYPE_CONTROL = 3;
  static final int TYPE_USER_DEFINED = 4;

  private final List<String> tokens;
  private final int[] tokenTypes;
  private final Map<String, Integer> ids = new HashMap<>();
  private final Map<String, Integer> mergeRank = new HashMap<>();
  private final List<String> specials = new ArrayList<>();
  private final int[] eos;
  private final int bosToAdd;
  private final int eosToAdd;
  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  /**
   * @param tokens     token strings by id (byte-level encoded)
   * @param merges     merges by rank, each {@code "left right"}
   * @param tokenTypes llama.cpp token types by id (1 normal, 3 control, 4 user-defined, ...)
   * @param eos        end-of-sequence ids
   * @param bosToAdd   id a plain prompt starts with, or -1
   * @param eosToAdd   id a plain prompt ends with, or -1
   */
  public ByteLevelBpeTokenizer(List<String> tokens, List<String> merges, int[] tokenTypes,
      int[] eos, int bosToAdd, int eosToAdd) {
    this.tokens = List.copyOf(tokens);
    this.tokenTypes = tokenTypes.clone();
    for (int i = 0; i < tokens.size(); i++) {
      ids.putIfAbsent(tokens.get(i), i);
      if (tokenTypes[i] == TYPE_CONTROL || tokenTypes[i] == TYPE_USER_DEFINED) {
        specials.add(tokens.get(i));
      }
    }
    specials.sort(Comparator.comparingInt(String::length).reversed());
    for (int r = 0; r < merges.size(); r++) {
      mergeRank.putIfAbsent(merges.get(r), r);
    }
    this.eos = eos.clone();
    this.bosToAdd = bosToAdd;
    this.eosToAdd = eosToAdd;
  }

  /** BOS/EOS (when the GGUF file asks for them) for a plain prompt; none for a rendered chat. */
  @Override
  public int[] encode(PromptText prompt) {
    String text = prompt.text();
    boolean plain = prompt instanceof PromptText.Plain;
    List<Integer> out = new ArrayList<>();
    if (plain && bosToAdd >= 0) {
      out.add(bosToAdd);
    }
    int pos = 0;
    while (pos < text.length()) {
      int nextAt = text.length();
      String next = null;
      for (String s : specials) {
        int at = text.indexOf(s, pos);
        if (at >= 0 && at < nextAt) {
          nextAt = at;
          next = s;
        }
      }
      encodePlain(text.substring(pos, nextAt), out);
      if (next == null) {
        break;
      }
      out.add(ids.get(next));
      pos = nextAt + next.length();
    }
    if (plain && eosToAdd >= 0) {
      out.add(eosToAdd);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private void encodePlain(String text, List<Integer> out) {
    Matcher m = ByteLevel.PRE_TOKENIZER.matcher(text);
    while (m.find()) {
      String word = ByteLevel.encode(m.group().getBytes(StandardCharsets.UTF_8));
      for (int id : cache.computeIfAbsent(word, this::bpe)) {
        out.add(id);
      }
    }
  }

  private int[] bpe(String word) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < word.length(); i++) {
      parts.add(String.valueOf(word.charAt(i)));
    }
    while (parts.size() > 1) {
      int best = Integer.MAX_VALUE;
      String left = null;
      String right = null;
      for (int i = 0; i + 1 < parts.size(); i++) {
        Integer r = mergeRank.get(parts.get(i) + " " + parts.get(i + 1));
        if (r != null && r < best) {
          best = r;
          left = parts.get(i);
          right = parts.get(i + 1);
        }
      }
      if (left == null) {
        break;
      }
      List<String> merged = new ArrayList<>(parts.size());
      for (int i = 0; i < parts.size(); i++) {
        if (i + 1 < parts.size() && parts.get(i).equals(left) && parts.get(i + 1).equals(right)) {
          merged.add(left + right);
          i++;
        } else {
          merged.add(parts.get(i));
        }
      }
      parts = merged;
    }
    int[] out = new int[parts.size()];
    for (int i = 0; i < out.length; i++) {
      Integer id = ids.get(parts.get(i));
      if (id == null) {
        throw new IllegalStateException("Byte-level symbol [" + parts.get(i)
            + "] is not in the vocabulary; the GGUF vocab lacks byte tokens");
      }
      out[i] = id;
    }
    return out;
  }

  @Override
  public String decode(int[] idsToDecode) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int id : idsToDecode) {
      if (id < 0 || id >= tokens.size() || tokenTypes[id] == TYPE_CONTROL) {
        continue;
      }
      String t = tokens.get(id);
      if (tokenTypes[id] == TYPE_USER_DEFINED || !ByteLevel.decodeInto(t, bytes)) {
        byte[] raw = t.getBytes(StandardCharsets.UTF_8);
        bytes.write(raw, 0, raw.length);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Override
  public int[] eosTokenIds() {
    return eos.clone();
  }

  @Override
  public int vocabSize() {
    return tokens.size();
  }

  @Override
  public void close() {
  }
}
