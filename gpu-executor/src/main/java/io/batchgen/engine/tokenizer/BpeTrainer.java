package io.batchgen.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Learns byte-level BPE merges from a text, deterministically (most frequent pair first, ties by
 * the pair's strings), for the generated test models. Not meant for large corpora.
 */
public final class BpeTrainer {
  private BpeTrainer() {
  }

  /** The learned vocabulary: 256 byte tokens in byte order, then one token per merge. */
  public record Vocabulary(List<String> tokens, List<String> merges) {
  }

  public static Vocabulary train(String corpus, int maxMerges) {
    Map<String, Integer> wordCounts = new LinkedHashMap<>();
    Matcher m = ByteLevel.PRE_TOKENIZER.matcher(corpus);
    while (m.find()) {
      wordCounts.merge(ByteLevel.encode(m.group().getBytes(StandardCharsets.UTF_8)), 1,
          Integer::sum);
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (var e : wordCounts.entrySet()) {
      List<String> parts = new ArrayList<>();
      for (char c : e.getKey().toCharArray()) {
        parts.add(String.valueOf(c));
      }
      words.add(parts);
      counts.add(e.getValue());
    }
    List<String> tokens = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      tokens.add(String.valueOf(ByteLevel.charOf(b)));
    }
    java.util.Set<String> known = new java.util.HashSet<>(tokens);
    List<String> merges = new ArrayList<>();
    for (int step = 0; step < maxMerges; step++) {
      Map<String, Integer> pairs = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> p = words.get(w);
        for (int i = 0; i + 1 < p.size(); i++) {
          pairs.merge(p.get(i) + " " + p.get(i + 1), counts.get(w), Integer::sum);
        }
      }
      String best = null;
      int bestCount = 1;
      for (var e : pairs.entrySet()) {
        if (e.getValue() > bestCount
            || (e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null) {
        break;
      }
      int sp = best.indexOf(' ');
      String left = best.substring(0, sp);
      String right = best.substring(sp + 1);
      merges.add(best);
      if (known.add(left + right)) {
        tokens.add(left + right);
      }
      for (List<String> p : words) {
        for (int i = 0; i + 1 < p.size(); i++) {
          if (p.get(i).equals(left) && p.get(i + 1).equals(right)) {
            p.set(i, left + right);
            p.remove(i + 1);
          }
        }
      }
    }
    return new Vocabulary(tokens, merges);
  }
}
