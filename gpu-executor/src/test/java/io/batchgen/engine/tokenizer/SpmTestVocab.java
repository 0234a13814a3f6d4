package io.batchgen.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A hand-built SentencePiece vocabulary laid out as llama.cpp's converter writes a Llama-2 one:
 * {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte tokens (byte b has id 3 + b), then normal
 * pieces. Scores are chosen so that merge order matters: {@code bc} (-2) beats {@code ab} (-3),
 * and {@code ll} (-1) beats everything.
 */
public final class SpmTestVocab {
  public static final int UNK = 0;
  public static final int BOS = 1;
  public static final int EOS = 2;
  public static final int SPACE = 259; // "▁"
  public static final int A = 260;
  public static final int B = 261;
  public static final int C = 262;
  public static final int AB = 267;
  public static final int BC = 268;
  public static final int SPACE_A = 269; // "▁a"
  public static final int SPACE_HELLO = 275; // "▁hello"
  public static final int E_ACUTE = 276; // "é"

  /** Normal pieces from id 259 on, with their scores. */
  private static final Object[][] PIECES = {
      {"▁", -20f}, {"a", -21f}, {"b", -22f}, {"c", -23f}, {"h", -24f}, {"e", -25f},
      {"l", -26f}, {"o", -27f}, {"ab", -3f}, {"bc", -2f}, {"▁a", -4f}, {"ll", -1f},
      {"he", -5f}, {"llo", -6f}, {"▁he", -7f}, {"hello", -8f}, {"▁hello", -9f}, {"é", -28f}};

  public final List<String> tokens = new ArrayList<>();
  public final float[] scores;
  public final int[] types;

  private SpmTestVocab(float abScore, float bcScore) {
    int n = 3 + 256 + PIECES.length;
    scores = new float[n];
    types = new int[n];
    add("<unk>", 0, SentencePieceBpeTokenizer.TYPE_UNKNOWN);
    add("<s>", 0, SentencePieceBpeTokenizer.TYPE_CONTROL);
    add("</s>", 0, SentencePieceBpeTokenizer.TYPE_CONTROL);
    for (int b = 0; b < 256; b++) {
      add(String.format("<0x%02X>", b), 0, SentencePieceBpeTokenizer.TYPE_BYTE);
    }
    for (Object[] p : PIECES) {
      add((String) p[0], (Float) p[1], SentencePieceBpeTokenizer.TYPE_NORMAL);
    }
    scores[AB] = abScore;
    scores[BC] = bcScore;
  }

  /** The vocabulary described above. */
  public static SpmTestVocab standard() {
    return new SpmTestVocab(-3f, -2f);
  }

  /** The same pieces with the scores of {@code ab} and {@code bc} set to the given values. */
  public static SpmTestVocab withPairScores(float ab, float bc) {
    return new SpmTestVocab(ab, bc);
  }

  /** Byte token id of byte {@code b}. */
  public static int byteId(int b) {
    return 3 + b;
  }

  private void add(String token, float score, int type) {
    scores[tokens.size()] = score;
    types[tokens.size()] = type;
    tokens.add(token);
  }

  /** A tokenizer with llama.cpp's defaults for a Llama-2 vocab (BOS added, space prefix on). */
  public SentencePieceBpeTokenizer tokenizer() {
    return tokenizer(true, true);
  }

  public SentencePieceBpeTokenizer tokenizer(boolean addBos, boolean addSpacePrefix) {
    return new SentencePieceBpeTokenizer(tokens, scores, types,
        new SentencePieceBpeTokenizer.Options(BOS, EOS, UNK, addBos, false, addSpacePrefix));
  }
}
