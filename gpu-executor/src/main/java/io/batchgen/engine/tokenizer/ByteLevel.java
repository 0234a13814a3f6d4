package io.batchgen.engine.tokenizer;

import java.util.regex.Pattern;

/**
 * GPT-2 byte-level BPE conventions: each byte maps to one printable code point, so byte strings
 * become ordinary strings that BPE merges can work on, and the pre-tokenizer regex that splits
 * text into words before merging.
 */
public final class ByteLevel {
  /** The GPT-2 pre-tokenizer pattern (Hugging Face ByteLevel, use_regex=true). */
  public static final Pattern PRE_TOKENIZER = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[512];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC)
          || (b >= 0xAE && b <= 0xFF);
      char c = printable ? (char) b : (char) (256 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevel() {
  }

  /** The byte-level string of {@code bytes}. */
  public static String encode(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      sb.append(BYTE_TO_CHAR[b & 0xff]);
    }
    return sb.toString();
  }

  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xff];
  }

  /** Appends the bytes of a byte-level token string; false when it has a non byte-level char. */
  public static boolean decodeInto(String token, java.io.ByteArrayOutputStream out) {
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
      if (b < 0) {
        return false;
      }
      out.write(b);
    }
    return true;
  }
}
