package io.batchgen.io.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's rules for the values a template sees, as Jinja2 applies them: truthiness,
 * {@code str()} and {@code repr()}, equality and ordering, lengths and iteration.
 *
 * <p>Value model: {@code String} (str), {@code Long} (int), {@code Double} (float),
 * {@code Boolean} (bool), {@code null} (None), {@link List} (list; {@link PyTuple} for tuples),
 * {@link Map} (dict, insertion-ordered), {@link Namespace}, {@link Undefined},
 * {@link JinjaFunction} and {@link Interpreter.Loop}. Strings are indexed by code point, as in
 * Python.
 */
final class Values {
  private Values() {
  }

  static boolean truthy(Object v) {
    if (v == null || v instanceof Undefined) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s) {
      return !s.isEmpty();
    }
    if (v instanceof Long n) {
      return n != 0;
    }
    if (v instanceof Double d) {
      return d != 0.0;
    }
    if (v instanceof List<?> l) {
      return !l.isEmpty();
    }
    if (v instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    return true;
  }

  /** Python's type name, for error messages. */
  static String typeName(Object v) {
    if (v == null) {
      return "NoneType";
    }
    if (v instanceof String) {
      return "str";
    }
    if (v instanceof Boolean) {
      return "bool";
    }
    if (v instanceof Long) {
      return "int";
    }
    if (v instanceof Double) {
      return "float";
    }
    if (v instanceof PyTuple) {
      return "tuple";
    }
    if (v instanceof PyRange) {
      return "range";
    }
    if (v instanceof List) {
      return "list";
    }
    if (v instanceof Map) {
      return "dict";
    }
    if (v instanceof Namespace) {
      return "Namespace";
    }
    if (v instanceof Undefined) {
      return "Undefined";
    }
    if (v instanceof Interpreter.Loop) {
      return "LoopContext";
    }
    if (v instanceof JinjaFunction) {
      return "function";
    }
    return "object";
  }

  /** Python's {@code str(v)}; Undefined prints as the empty string. */
  static String str(Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Undefined) {
      return "";
    }
    return repr(v);
  }

  /** Python's {@code repr(v)}. */
  static String repr(Object v) {
    StringBuilder sb = new StringBuilder();
    repr(v, sb, 0);
    return sb.toString();
  }

  private static void repr(Object v, StringBuilder sb, int depth) {
    if (depth > 100) {
      throw new TemplateException.LimitExceeded("value nested more than 100 levels deep", 0);
    }
    if (v == null) {
      sb.append("None");
    } else if (v instanceof String s) {
      reprString(s, sb);
    } else if (v instanceof Boolean b) {
      sb.append(b ? "True" : "False");
    } else if (v instanceof Long n) {
      sb.append(n);
    } else if (v instanceof Double d) {
      sb.append(floatRepr(d));
    } else if (v instanceof PyRange r) {
      sb.append(r);
    } else if (v instanceof PyTuple t) {
      sb.append('(');
      for (int i = 0; i < t.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        repr(t.get(i), sb, depth + 1);
      }
      sb.append(t.size() == 1 ? ",)" : ")");
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        repr(l.get(i), sb, depth + 1);
      }
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        repr(e.getKey(), sb, depth + 1);
        sb.append(": ");
        repr(e.getValue(), sb, depth + 1);
      }
      sb.append('}');
    } else if (v instanceof Namespace ns) {
      sb.append("<Namespace ");
      repr(ns.attributes, sb, depth + 1);
      sb.append('>');
    } else if (v instanceof Undefined) {
      sb.append("Undefined");
    } else if (v instanceof JinjaFunction f) {
      sb.append("<function ").append(f.name()).append('>');
    } else if (v instanceof Interpreter.Loop) {
      sb.append("<LoopContext>");
    } else {
      sb.append("<object>");
    }
  }

  /** Python's repr of a str: single quotes unless the text has ' and no ". */
  private static void reprString(String s, StringBuilder sb) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    sb.append(quote);
    s.codePoints().forEach(cp -> {
      if (cp == quote || cp == '\\') {
        sb.append('\\').appendCodePoint(cp);
      } else if (cp == '\n') {
        sb.append("\\n");
      } else if (cp == '\r') {
        sb.append("\\r");
      } else if (cp == '\t') {
        sb.append("\\t");
      } else if (cp < 0x20 || cp == 0x7f) {
        sb.append(String.format("\\x%02x", cp));
      } else if (!printable(cp)) {
        sb.append(cp <= 0xff ? String.format("\\x%02x", cp)
            : cp <= 0xffff ? String.format("\\u%04x", cp) : String.format("\\U%08x", cp));
      } else {
        sb.appendCodePoint(cp);
      }
    });
    sb.append(quote);
  }

  /** Python's str.isprintable for one code point (space counts as printable). */
  private static boolean printable(int cp) {
    if (cp == ' ') {
      return true;
    }
    int type = Character.getType(cp);
    return switch (type) {
      case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
          Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SPACE_SEPARATOR -> false;
      default -> true;
    };
  }

  /** Python's {@code repr(float)}: the shortest digits that round-trip, in Python's layout. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    String digits = null;
    for (int p = 0; p <= 17; p++) {
      String s = String.format(java.util.Locale.ROOT, "%." + p + "e", d);
      if (Double.parseDouble(s) == d) {
        digits = s;
        break;
      }
    }
    BigDecimal bd = new BigDecimal(digits);
    BigDecimal abs = bd.abs().stripTrailingZeros();
    int exponent = abs.precision() - abs.scale() - 1; // decimal exponent of the leading digit
    String unscaled = abs.unscaledValue().toString();
    String sign = d < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = abs.toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = unscaled.length() == 1 ? unscaled
        : unscaled.charAt(0) + "." + unscaled.substring(1);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+")
        + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double || v instanceof Boolean;
  }

  static double toDouble(Object v) {
    if (v instanceof Long n) {
      return n;
    }
    if (v instanceof Double d) {
      return d;
    }
    if (v instanceof Boolean b) {
      return b ? 1 : 0;
    }
    throw new IllegalStateException("not a number: " + typeName(v));
  }

  /** An int-like value (int or bool) as a long. */
  static long toLong(Object v) {
    if (v instanceof Long n) {
      return n;
    }
    if (v instanceof Boolean b) {
      return b ? 1 : 0;
    }
    throw new IllegalStateException("not an int: " + typeName(v));
  }

  static boolean isIntLike(Object v) {
    return v instanceof Long || v instanceof Boolean;
  }

  /** Python's {@code ==}. */
  static boolean eq(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (a instanceof Undefined || b instanceof Undefined) {
      return a instanceof Undefined && b instanceof Undefined;
    }
    if (isNumber(a) && isNumber(b)) {
      if (isIntLike(a) && isIntLike(b)) {
        return toLong(a) == toLong(b);
      }
      return toDouble(a) == toDouble(b);
    }
    if (a instanceof String || b instanceof String) {
      return a.equals(b);
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      if ((a instanceof PyTuple) != (b instanceof PyTuple) || la.size() != lb.size()) {
        return false;
      }
      for (int i = 0; i < la.size(); i++) {
        if (!eq(la.get(i), lb.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
      if (ma.size() != mb.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : ma.entrySet()) {
        if (!mb.containsKey(e.getKey()) || !eq(e.getValue(), mb.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  /** Python's ordering ({@code <} and friends): numbers, strings, lists; else a TypeError. */
  static int compare(Object a, Object b, String op, int line) {
    if (isNumber(a) && isNumber(b)) {
      if (isIntLike(a) && isIntLike(b)) {
        return Long.compare(toLong(a), toLong(b));
      }
      return Double.compare(toDouble(a), toDouble(b));
    }
    if (a instanceof String sa && b instanceof String sb) {
      return compareCodePoints(sa, sb);
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
        if (!eq(la.get(i), lb.get(i))) {
          return compare(la.get(i), lb.get(i), op, line);
        }
      }
      return Integer.compare(la.size(), lb.size());
    }
    if (a instanceof Undefined u) {
      throw u.error(line);
    }
    if (b instanceof Undefined u) {
      throw u.error(line);
    }
    throw new TemplateException("'" + op + "' not supported between instances of '"
        + typeName(a) + "' and '" + typeName(b) + "'", line);
  }

  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** Python's {@code len(v)}; Undefined has length 0. */
  static int length(Object v, int line) {
    if (v instanceof String s) {
      return s.codePointCount(0, s.length());
    }
    if (v instanceof List<?> l) {
      return l.size();
    }
    if (v instanceof Map<?, ?> m) {
      return m.size();
    }
    if (v instanceof Undefined) {
      return 0;
    }
    throw new TemplateException("object of type '" + typeName(v) + "' has no len()", line);
  }

  /**
   * The items of iterating {@code v}: list items, dict keys, code points of a string. Read-only
   * (a list is returned as a view, so iterating a large range costs nothing up front).
   */
  @SuppressWarnings("unchecked")
  static List<Object> iterate(Object v, int line) {
    if (v instanceof List<?> l) {
      return java.util.Collections.unmodifiableList((List<Object>) l);
    }
    if (v instanceof Map<?, ?> m) {
      return new ArrayList<>(m.keySet());
    }
    if (v instanceof String s) {
      List<Object> out = new ArrayList<>();
      s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
      return out;
    }
    if (v instanceof Undefined) {
      return new ArrayList<>();
    }
    throw new TemplateException("'" + typeName(v) + "' object is not iterable", line);
  }

  static boolean iterable(Object v) {
    return v instanceof List || v instanceof Map || v instanceof String || v instanceof Undefined;
  }

  /** Python's {@code x in container}. */
  static boolean contains(Object container, Object item, int line) {
    if (container instanceof String s) {
      if (!(item instanceof String sub)) {
        throw new TemplateException("'in <string>' requires string as left operand, not "
            + typeName(item), line);
      }
      return s.contains(sub);
    }
    if (container instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (eq(k, item)) {
          return true;
        }
      }
      return false;
    }
    if (container instanceof List<?> l) {
      for (Object o : l) {
        if (eq(o, item)) {
          return true;
        }
      }
      return false;
    }
    if (container instanceof Undefined) {
      return false;
    }
    throw new TemplateException("argument of type '" + typeName(container)
        + "' is not iterable", line);
  }

  // ---- strings by code point ----

  static int[] codePoints(String s) {
    return s.codePoints().toArray();
  }

  static String fromCodePoints(int[] cps, int from, int to) {
    return new String(cps, from, Math.max(0, to - from));
  }

  /** Python's str.isspace for one code point. */
  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }

  /** Python's {@code s.strip(chars)}; {@code chars == null} strips whitespace. */
  static String strip(String s, String chars, boolean left, boolean right) {
    int[] cps = codePoints(s);
    int from = 0;
    int to = cps.length;
    if (left) {
      while (from < to && stripped(cps[from], chars)) {
        from++;
      }
    }
    if (right) {
      while (to > from && stripped(cps[to - 1], chars)) {
        to--;
      }
    }
    return fromCodePoints(cps, from, to);
  }

  private static boolean stripped(int cp, String chars) {
    return chars == null ? isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
  }

  /** An iterator-free check that a value is a plain str (not Undefined). */
  static boolean isString(Object v) {
    return v instanceof String;
  }

  static Iterator<Object> empty() {
    return java.util.Collections.emptyIterator();
  }
}
