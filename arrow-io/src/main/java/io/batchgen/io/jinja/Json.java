package io.batchgen.io.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as Hugging Face's {@code tojson} filter calls it: separators
 * {@code ", "} and {@code ": "} (or {@code ","} with an indent), non-ASCII kept unless
 * {@code ensure_ascii}, floats as Python prints them, NaN and Infinity as Python writes them.
 */
final class Json {
  private Json() {
  }

  static String dumps(Object v, Object indent, Object separators, boolean sortKeys,
      boolean ensureAscii, JinjaTemplate.Limits limits, int line) {
    String ind = null;
    if (indent instanceof String s) {
      ind = s;
    } else if (indent != null && Values.isIntLike(indent)) {
      ind = " ".repeat((int) Math.max(0, Values.toLong(indent)));
    } else if (indent != null) {
      throw new TemplateException("tojson indent must be an int or str", line);
    }
    String itemSep = ind == null ? ", " : ",";
    String keySep = ": ";
    if (separators != null) {
      List<Object> seps = Values.iterate(separators, line);
      if (seps.size() != 2) {
        throw new TemplateException("tojson separators must be a pair (item, key)", line);
      }
      itemSep = Values.str(seps.get(0));
      keySep = Values.str(seps.get(1));
    }
    StringBuilder sb = new StringBuilder();
    new Json.Writer(ind, itemSep, keySep, sortKeys, ensureAscii, limits, line).write(v, sb, 0);
    return sb.toString();
  }

  private record Writer(String indent, String itemSep, String keySep, boolean sortKeys,
      boolean ensureAscii, JinjaTemplate.Limits limits, int line) {

    void write(Object v, StringBuilder sb, int level) {
      if (level > 100) {
        throw new TemplateException.LimitExceeded("tojson: value nested more than 100 levels",
            line);
      }
      Operators.checkSize(sb.length(), limits, line);
      if (v == null) {
        sb.append("null");
      } else if (v instanceof Boolean b) {
        sb.append(b ? "true" : "false");
      } else if (v instanceof Long n) {
        sb.append(n);
      } else if (v instanceof Double d) {
        sb.append(number(d));
      } else if (v instanceof String s) {
        string(s, sb);
      } else if (v instanceof List<?> l) {
        if (l.isEmpty()) {
          sb.append("[]");
          return;
        }
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
          if (i > 0) {
            sb.append(itemSep);
          }
          newline(sb, level + 1);
          write(l.get(i), sb, level + 1);
        }
        newline(sb, level);
        sb.append(']');
      } else if (v instanceof Map<?, ?> m) {
        if (m.isEmpty()) {
          sb.append("{}");
          return;
        }
        List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
        if (sortKeys) {
          entries.sort((a, b) -> Values.compare(a.getKey(), b.getKey(), "<", line));
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : entries) {
          if (!first) {
            sb.append(itemSep);
          }
          first = false;
          newline(sb, level + 1);
          string(key(e.getKey()), sb);
          sb.append(keySep);
          write(e.getValue(), sb, level + 1);
        }
        newline(sb, level);
        sb.append('}');
      } else {
        throw new TemplateException("Object of type " + Values.typeName(v)
            + " is not JSON serializable", line);
      }
    }

    private void newline(StringBuilder sb, int level) {
      if (indent != null) {
        sb.append('\n').append(indent.repeat(level));
      }
    }

    private String key(Object k) {
      if (k instanceof String s) {
        return s;
      }
      if (k == null) {
        return "null";
      }
      if (k instanceof Boolean b) {
        return b ? "true" : "false";
      }
      if (k instanceof Long || k instanceof Double) {
        return k instanceof Double d ? number(d) : k.toString();
      }
      throw new TemplateException("keys must be str, int, float, bool or None, not "
          + Values.typeName(k), line);
    }

    private static String number(double d) {
      if (Double.isNaN(d)) {
        return "NaN";
      }
      if (Double.isInfinite(d)) {
        return d > 0 ? "Infinity" : "-Infinity";
      }
      return Values.floatRepr(d);
    }

    private void string(String s, StringBuilder sb) {
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          case '\b' -> sb.append("\\b");
          case '\f' -> sb.append("\\f");
          default -> {
            if (c < 0x20 || (ensureAscii && c > 0x7e)) {
              sb.append(String.format("\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
    }
  }
}
