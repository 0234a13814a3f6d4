package io.batchgen.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE over an explicit vocabulary with per-token scores: the GGUF {@code llama}
 * tokenizer (llama.cpp's {@code tokenizer.ggml.*} arrays of Llama-2/Mistral/Mixtral models).
 *
 * <p>Encoding: special tokens (control, user-defined and unknown types) are cut out of the text
 * first. Each remaining fragment gets a leading space when it starts the text or follows a special
 * token (if {@code addSpacePrefix}), spaces become {@code U+2581}, and the fragment is split into
 * code points. Then, repeatedly, the adjacent pair whose concatenation is a vocabulary token with
 * the highest score is merged (ties go to the leftmost pair); a priority queue over the adjacent
 * pairs keeps this O(n log n). A final piece that is not in the vocabulary falls back to its
 * UTF-8 bytes as {@code <0xNN>} tokens (or the unknown token when the vocabulary has no byte
 * tokens).
 *
 * <p>Decoding leaves control, unknown and unused tokens out, turns {@code U+2581} back into
 * spaces, reassembles byte tokens into UTF-8, and removes the one space the encoder put in front of
 * the text, so {@code decode(encode(s)).equals(s)} for text without special-token strings.
 * Thread-safe: the vocabulary is immutable and each call has its own work arrays.
 */
public final class SentencePieceBpeTokenizer implements TextTokenizer {
  /** llama.cpp token types ({@code tokenizer.ggml.token_type}). */
  public static final int TYPE_NORMAL = 1;
  public static final int TYPE_UNKNOWN = 2;
  public static final int TYPE_CONTROL = 3;
  public static final int TYPE_USER_DEFINED = 4;
  public static final int TYPE_UNUSED = 5;
  public static final int TYPE_BYTE = 6;

  /** SentencePiece's visible space, U+2581 LOWER ONE EIGHTH BLOCK. */
  static final char SPACE_MARK = '\u2581';

  /**
   * What the tokenizer adds around the text; ids are -1 when the vocabulary has none.
   *
   * @param bosId          beginning-of-sequence id
   * @param eosId          end-of-sequence id
   * @param unknownId      id for a piece that is neither in the vocabulary nor byte-encodable
   * @param addBos         {@link #encode} starts with {@code bosId}
   * @param addEos         {@link #encode} ends with {@code eosId}
   * @param addSpacePrefix a space is put in front of the text (and stripped again by decode)
   */
  public record Options(int bosId, int eosId, int unknownId, boolean addBos, boolean addEos,
      boolean addSpacePrefix) {
  }

  /** A candidate merge of the adjacent symbols {@code left} and {@code right}. */
  private record Pair(int left, int right, float score, int length) {
  }

  /** Highest score first; among equal scores the leftmost pair. */
  private static final Comparator<Pair> BEST_FIRST = (a, b) -> {
    int c = Float.compare(b.score, a.score);
    return c != 0 ? c : Integer.compare(a.left, b.left);
  };

  private final List<String> tokens;
  private final float[] scores;
  private final int[] types;
  private final Options options;
  private final Map<String, Integer> ids = new HashMap<>();
  private final int[] byteIds = new int[256]; // byte value -> token id, -1 when absent
  private final Map<Character, List<String>> specialsByFirstChar = new HashMap<>();

  /**
   * @param tokens     token strings by id
   * @param scores     merge scores by id (higher merges first)
   * @param tokenTypes llama.cpp token types by id ({@link #TYPE_NORMAL}, ...)
   * @param options    special ids and what {@link #encode} adds
   * @throws IllegalArgumentException when the arrays differ in length or an id is out of range
   */
  public SentencePieceBpeTokenizer(List<String> tokens, float[] scores, int[] tokenTypes,
      Options options) {
    if (scores.length != tokens.size() || tokenTypes.length != tokens.size()) {
      throw new IllegalArgumentException("Vocabulary arrays differ in length: " + tokens.size()
          + " tokens, " + scores.length + " scores, " + tokenTypes.length + " token types");
    }
    for (int id : new int[] {options.bosId(), options.eosId(), options.unknownId()}) {
      if (id < -1 || id >= tokens.size()) {
        throw new IllegalArgumentException("Special token id " + id + " is outside the "
            + tokens.size() + "-token vocabulary");
      }
    }
    this.tokens = List.copyOf(tokens);
    this.scores = scores.clone();
    this.types = tokenTypes.clone();
    this.options = options;
    List<String> specials = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      String t = tokens.get(i);
      ids.putIfAbsent(t, i);
      int type = types[i];
      if ((type == TYPE_CONTROL || type == TYPE_USER_DEFINED || type == TYPE_UNKNOWN)
          && !t.isEmpty()) {
        specials.add(t);
      }
    }
    specials.sort(Comparator.comparingInt(String::length).reversed());
    for (String t : specials) {
      specialsByFirstChar.computeIfAbsent(t.charAt(0), k -> new ArrayList<>()).add(t);
    }
    Arrays.fill(byteIds, -1);
    for (int b = 0; b < 256; b++) {
      Integer id = ids.get(String.format("<0x%02X>", b));
      if (id == null && b < 0x80) {
        id = ids.get(String.valueOf((char) b)); // llama.cpp's fallback: the byte as a string
      }
      if (id != null) {
        byteIds[b] = id;
      }
    }
  }

  /** BOS/EOS per {@link Options} for a plain prompt; none for a rendered chat. */
  @Override
  public int[] encode(PromptText prompt) {
    String text = prompt.text();
    boolean plain = prompt instanceof PromptText.Plain;
    IntList out = new IntList();
    if (plain && options.addBos() && options.bosId() >= 0) {
      out.add(options.bosId());
    }
    boolean afterSpecial = true; // the text start counts as "after a special token"
    int fragmentStart = 0;
    int i = 0;
    while (i < text.length()) {
      String special = specialAt(text, i);
      if (special == null) {
        i++;
        continue;
      }
      if (i > fragmentStart) {
        encodeFragment(text.substring(fragmentStart, i), afterSpecial, out);
      }
      out.add(ids.get(special));
      afterSpecial = true;
      i += special.length();
      fragmentStart = i;
    }
    if (fragmentStart < text.length()) {
      encodeFragment(text.substring(fragmentStart), afterSpecial, out);
    }
    if (plain && options.addEos() && options.eosId() >= 0) {
      out.add(options.eosId());
    }
    return out.toArray();
  }

  /** The longest special token starting at {@code at}, or null. */
  private String specialAt(String text, int at) {
    List<String> candidates = specialsByFirstChar.get(text.charAt(at));
    if (candidates != null) {
      for (String s : candidates) { // longest first
        if (text.startsWith(s, at)) {
          return s;
        }
      }
    }
    return null;
  }

  private void encodeFragment(String fragment, boolean afterSpecial, IntList out) {
    String s = options.addSpacePrefix() && afterSpecial ? " " + fragment : fragment;
    mergeByScore(s.replace(' ', SPACE_MARK), out);
  }

  /** Merges one normalised fragment by score and appends its ids. */
  private void mergeByScore(String s, IntList out) {
    int n = s.codePointCount(0, s.length());
    int[] start = new int[n]; // symbol i covers chars [start[i], start[i] + len[i])
    int[] len = new int[n];   // 0 once merged into its left neighbour
    int[] prev = new int[n];
    int[] next = new int[n];
    for (int i = 0, at = 0; i < n; i++) {
      start[i] = at;
      len[i] = Character.charCount(s.codePointAt(at));
      at += len[i];
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    PriorityQueue<Pair> queue = new PriorityQueue<>(Math.max(1, n), BEST_FIRST);
    for (int i = 1; i < n; i++) {
      offer(s, start, len, i - 1, i, queue);
    }
    while (!queue.isEmpty()) {
      Pair p = queue.poll();
      int l = p.left();
      int r = p.right();
      // Stale when either side has changed since the pair was queued.
      if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != p.length()) {
        continue;
      }
      len[l] += len[r];
      len[r] = 0;
      next[l] = next[r];
      if (next[r] >= 0) {
        prev[next[r]] = l;
      }
      offer(s, start, len, prev[l], l, queue);
      offer(s, start, len, l, next[l], queue);
    }
    for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
      String piece = s.substring(start[i], start[i] + len[i]);
      Integer id = ids.get(piece);
      if (id != null) {
        out.add(id);
      } else {
        byteFallback(piece, out);
      }
    }
  }

  private void offer(String s, int[] start, int[] len, int left, int right,
      PriorityQueue<Pair> queue) {
    if (left < 0 || right < 0) {
      return;
    }
    int length = len[left] + len[right];
    Integer id = ids.get(s.substring(start[left], start[left] + length));
    if (id != null) {
      queue.add(new Pair(left, right, scores[id], length));
    }
  }

  private void byteFallback(String piece, IntList out) {
    byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
    for (byte b : utf8) {
      if (byteIds[b & 0xff] < 0) {
        if (options.unknownId() < 0) {
          throw new IllegalArgumentException("Text piece of " + utf8.length + " bytes is not in"
              + " the vocabulary, which has neither byte tokens <0x00>..<0xFF> nor an unknown"
              + " token");
        }
        out.add(options.unknownId());
        return;
      }
    }
    for (byte b : utf8) {
      out.add(byteIds[b & 0xff]);
    }
  }

  @Override
  public String decode(int[] idsToDecode) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int id : idsToDecode) {
      if (id < 0 || id >= tokens.size()) {
        continue;
      }
      String t = tokens.get(id);
      switch (types[id]) {
        case TYPE_BYTE -> {
          int b = byteValue(t);
          if (b >= 0) {
            bytes.write(b);
          }
        }
        case TYPE_USER_DEFINED -> write(bytes, t);
        case TYPE_CONTROL, TYPE_UNKNOWN, TYPE_UNUSED -> {
          // special tokens are left out of the text
        }
        default -> write(bytes, t.replace(SPACE_MARK, ' '));
      }
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    return options.addSpacePrefix() && text.startsWith(" ") ? text.substring(1) : text;
  }

  private static void write(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(b, 0, b.length);
  }

  /** The byte of a {@code <0xNN>} token, or -1. */
  static int byteValue(String token) {
    if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
      return -1;
    }
    int hi = Character.digit(token.charAt(3), 16);
    int lo = Character.digit(token.charAt(4), 16);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }

  @Override
  public int[] eosTokenIds() {
    return options.eosId() >= 0 ? new int[] {options.eosId()} : new int[0];
  }

  @Override
  public int vocabSize() {
    return tokens.size();
  }

  @Override
  public void close() {
  }

  /** A growable int array, to avoid boxing every id. */
  private static final class IntList {
    private int[] a = new int[16];
    private int n;

    void add(int v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
