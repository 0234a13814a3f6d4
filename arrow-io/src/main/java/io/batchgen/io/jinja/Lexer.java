package io.batchgen.io.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits template source into text and tag tokens the way Jinja2's lexer does with the settings
 * Hugging Face renders chat templates with: {@code trim_blocks} (the newline after a block or
 * comment tag is dropped), {@code lstrip_blocks} (spaces and tabs before a block or comment tag at
 * the start of a line are dropped), {@code -} and {@code +} whitespace control on either side of a
 * tag, {@code {% raw %}}, newlines normalised to {@code \n} and one trailing newline of the source
 * dropped ({@code keep_trailing_newline=False}).
 */
final class Lexer {
  enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

  record Token(Type type, String value, int line) {
    boolean is(Type t, String v) {
      return type == t && value.equals(v);
    }

    boolean isName(String v) {
      return is(Type.NAME, v);
    }

    boolean isOp(String v) {
      return is(Type.OP, v);
    }

    @Override
    public String toString() {
      return type == Type.EOF ? "end of template" : "'" + value + "'";
    }
  }

  private static final String[] OPERATORS = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "*",
      "/", "%", "~", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "=", "<", ">"};

  private final String src;
  private final List<Token> out = new ArrayList<>();
  private int pos;
  private int line = 1;
  /** Whether the text that follows the last tag starts a line (Jinja2's line_starting). */
  private boolean lineStarting = true;

  private Lexer(String source) {
    String s = source.replace("\r\n", "\n").replace('\r', '\n');
    if (s.endsWith("\n")) {
      s = s.substring(0, s.length() - 1);
    }
    this.src = s;
  }

  static List<Token> tokenize(String source) {
    Lexer l = new Lexer(source);
    l.run();
    return l.out;
  }

  private void run() {
    while (pos < src.length()) {
      int open = nextTagStart(pos);
      if (open < 0) {
        text(src.substring(pos));
        pos = src.length();
        break;
      }
      char kind = src.charAt(open + 1);
      char sign = open + 2 < src.length() ? src.charAt(open + 2) : ' ';
      String chunk = src.substring(pos, open);
      boolean blockLike = kind == '%' || kind == '#';
      if (sign == '-') {
        chunk = Values.strip(chunk, null, false, true);
      } else if (sign != '+' && blockLike) {
        chunk = lstripBlock(chunk);
      }
      text(chunk);
      advanceTo(open);
      int afterOpen = open + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      if (kind == '#') {
        comment(afterOpen);
      } else if (kind == '%' && isRaw(afterOpen)) {
        raw(afterOpen);
      } else {
        tag(kind, afterOpen);
      }
    }
    out.add(new Token(Type.EOF, "", line));
  }

  private int nextTagStart(int from) {
    int i = from;
    while (true) {
      i = src.indexOf('{', i);
      if (i < 0 || i + 1 >= src.length()) {
        return -1;
      }
      char c = src.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
      i++;
    }
  }

  /** lstrip_blocks: drop spaces before a block tag when only they stand between it and a line start. */
  private String lstripBlock(String chunk) {
    int lineStart = chunk.lastIndexOf('\n') + 1;
    if (lineStart == 0 && !lineStarting) {
      return chunk;
    }
    for (int i = lineStart; i < chunk.length(); i++) {
      if (!Values.isSpace(chunk.charAt(i))) {
        return chunk;
      }
    }
    return chunk.substring(0, lineStart);
  }

  private void text(String chunk) {
    if (!chunk.isEmpty()) {
      out.add(new Token(Type.TEXT, chunk, line));
    }
  }

  private void advanceTo(int to) {
    for (int i = pos; i < to; i++) {
      if (src.charAt(i) == '\n') {
        line++;
      }
    }
    pos = to;
  }

  /** After a tag's closing delimiter at {@code endAt} (exclusive): whitespace control. */
  private void closeTag(int endAt, char sign, boolean trimNewline) {
    int next = endAt;
    if (sign == '-') {
      while (next < src.length() && Values.isSpace(src.charAt(next))) {
        next++;
      }
    } else if (sign != '+' && trimNewline && next < src.length() && src.charAt(next) == '\n') {
      next++;
    }
    lineStarting = next > 0 && src.charAt(next - 1) == '\n';
    advanceTo(next);
  }

  private void comment(int from) {
    int end = src.indexOf("#}", from);
    if (end < 0) {
      throw new TemplateException("comment not closed: missing '#}'", line);
    }
    char sign = src.charAt(end - 1);
    closeTag(end + 2, sign == '-' || sign == '+' ? sign : ' ', true);
  }

  private boolean isRaw(int from) {
    int i = skipSpaces(from);
    if (!src.startsWith("raw", i)) {
      return false;
    }
    int j = skipSpaces(i + 3);
    return src.startsWith("%}", j) || src.startsWith("-%}", j);
  }

  private int skipSpaces(int i) {
    while (i < src.length() && Values.isSpace(src.charAt(i))) {
      i++;
    }
    return i;
  }

  /** {@code {% raw %}…{% endraw %}}: the body is text, whatever it holds. */
  private void raw(int from) {
    int i = skipSpaces(skipSpaces(from) + 3);
    boolean dash = src.charAt(i) == '-';
    int bodyStart = i + (dash ? 3 : 2);
    if (dash) {
      bodyStart = skipSpaces(bodyStart);
    }
    int search = bodyStart;
    while (true) {
      int open = src.indexOf("{%", search);
      if (open < 0) {
        throw new TemplateException("'raw' block not closed: missing '{% endraw %}'", line);
      }
      char sign = open + 2 < src.length() ? src.charAt(open + 2) : ' ';
      int k = skipSpaces(open + 2 + (sign == '-' || sign == '+' ? 1 : 0));
      if (src.startsWith("endraw", k)) {
        int e = skipSpaces(k + 6);
        char endSign = ' ';
        if (src.charAt(e) == '-' || src.charAt(e) == '+') {
          endSign = src.charAt(e);
          e++;
        }
        if (src.startsWith("%}", e)) {
          String body = src.substring(bodyStart, open);
          if (sign == '-') {
            body = Values.strip(body, null, false, true);
          } else if (sign != '+') {
            boolean saved = lineStarting;
            lineStarting = bodyStart > 0 && src.charAt(bodyStart - 1) == '\n';
            body = lstripBlock(body);
            lineStarting = saved;
          }
          advanceTo(bodyStart);
          text(body);
          advanceTo(open);
          closeTag(e + 2, endSign, true);
          return;
        }
      }
      search = open + 2;
    }
  }

  private void tag(char kind, int from) {
    boolean block = kind == '%';
    int startLine = line;
    out.add(new Token(block ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, block ? "{%" : "{{", line));
    advanceTo(from);
    int depth = 0;
    String close = block ? "%}" : "}}";
    while (true) {
      if (pos >= src.length()) {
        throw new TemplateException("tag not closed: missing '" + close + "'", startLine);
      }
      char c = src.charAt(pos);
      if (depth == 0) {
        if (src.startsWith(close, pos)) {
          out.add(new Token(block ? Type.BLOCK_END : Type.VAR_END, close, line));
          closeTag(pos + 2, ' ', block);
          return;
        }
        if ((c == '-' || c == '+') && src.startsWith(close, pos + 1)) {
          out.add(new Token(block ? Type.BLOCK_END : Type.VAR_END, close, line));
          closeTag(pos + 3, c == '-' ? '-' : (block ? '+' : ' '), block);
          return;
        }
      }
      if (Values.isSpace(c)) {
        advanceTo(pos + 1);
      } else if (Character.isLetter(c) || c == '_') {
        int e = pos;
        while (e < src.length() && (Character.isLetterOrDigit(src.charAt(e))
            || src.charAt(e) == '_')) {
          e++;
        }
        out.add(new Token(Type.NAME, src.substring(pos, e), line));
        advanceTo(e);
      } else if (Character.isDigit(c)) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        String op = null;
        for (String o : OPERATORS) {
          if (src.startsWith(o, pos)) {
            op = o;
            break;
          }
        }
        if (op == null) {
          throw new TemplateException("unexpected character '" + c + "' in tag", line);
        }
        if (op.equals("(") || op.equals("[") || op.equals("{")) {
          depth++;
        } else if (op.equals(")") || op.equals("]") || op.equals("}")) {
          depth = Math.max(0, depth - 1);
        }
        out.add(new Token(Type.OP, op, line));
        advanceTo(pos + op.length());
      }
    }
  }

  private void number() {
    int e = digits(pos);
    boolean isFloat = false;
    if (e + 1 < src.length() && src.charAt(e) == '.' && Character.isDigit(src.charAt(e + 1))) {
      e = digits(e + 1);
      isFloat = true;
    }
    if (e < src.length() && (src.charAt(e) == 'e' || src.charAt(e) == 'E')) {
      int x = e + 1;
      if (x < src.length() && (src.charAt(x) == '+' || src.charAt(x) == '-')) {
        x++;
      }
      if (x < src.length() && Character.isDigit(src.charAt(x))) {
        e = digits(x);
        isFloat = true;
      }
    }
    out.add(new Token(isFloat ? Type.FLOAT : Type.INT, src.substring(pos, e).replace("_", ""),
        line));
    advanceTo(e);
  }

  private int digits(int i) {
    while (i < src.length() && (Character.isDigit(src.charAt(i))
        || (src.charAt(i) == '_' && i + 1 < src.length() && Character.isDigit(src.charAt(i + 1))))) {
      i++;
    }
    return i;
  }

  private void string(char quote) {
    int startLine = line;
    int i = pos + 1;
    StringBuilder raw = new StringBuilder();
    while (true) {
      if (i >= src.length()) {
        throw new TemplateException("string literal not closed", startLine);
      }
      char c = src.charAt(i);
      if (c == '\\' && i + 1 < src.length()) {
        raw.append(c).append(src.charAt(i + 1));
        i += 2;
      } else if (c == quote) {
        break;
      } else {
        raw.append(c);
        i++;
      }
    }
    out.add(new Token(Type.STRING, unescape(raw.toString(), startLine), startLine));
    advanceTo(i + 1);
  }

  /** Python's unicode-escape decoding of a string literal's body. */
  static String unescape(String s, int line) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= s.length()) {
        sb.append(c);
        continue;
      }
      char n = s.charAt(++i);
      switch (n) {
        case '\n' -> { }
        case '\\' -> sb.append('\\');
        case '\'' -> sb.append('\'');
        case '"' -> sb.append('"');
        case 'a' -> sb.append('\u0007');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'v' -> sb.append('\u000b');
        case 'x', 'u', 'U' -> {
          int len = n == 'x' ? 2 : n == 'u' ? 4 : 8;
          String hex = s.substring(i + 1, Math.min(s.length(), i + 1 + len));
          if (hex.length() != len || !hex.chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
            throw new TemplateException("truncated \\" + n + " escape in a string literal",
                line);
          }
          sb.appendCodePoint(Integer.parseInt(hex, 16));
          i += len;
        }
        default -> {
          if (n >= '0' && n <= '7') {
            int v = n - '0';
            int k = 1;
            while (k < 3 && i + 1 < s.length() && s.charAt(i + 1) >= '0' && s.charAt(i + 1) <= '7') {
              v = v * 8 + (s.charAt(++i) - '0');
              k++;
            }
            sb.appendCodePoint(v);
          } else {
            sb.append('\\').append(n);
          }
        }
      }
    }
    return sb.toString();
  }
}
