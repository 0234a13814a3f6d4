package io.batchgen.io.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods of str, list and dict that templates call ({@code s.startswith('x')},
 * {@code s.split('</think>')[-1]}, {@code d.items()}), as bound functions. Methods that mutate
 * (list.append, dict.update, ...) are refused with Jinja2's immutable-sandbox error.
 */
final class Methods {
  private Methods() {
  }

  private static final Set<String> STR = Set.of("startswith", "endswith", "split", "rsplit",
      "splitlines", "strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize",
      "swapcase", "casefold", "replace", "find", "rfind", "index", "rindex", "count", "join",
      "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "isnumeric", "isdecimal",
      "zfill", "center", "ljust", "rjust", "partition", "rpartition", "format", "removeprefix",
      "removesuffix");
  private static final Set<String> LIST = Set.of("index", "count");
  private static final Set<String> DICT = Set.of("keys", "values", "items", "get");
  private static final Set<String> LIST_MUTATORS = Set.of("append", "extend", "insert", "pop",
      "remove", "clear", "sort", "reverse");
  private static final Set<String> DICT_MUTATORS = Set.of("update", "pop", "popitem",
      "setdefault", "clear");

  /** {@code obj.name} as a method, or null when {@code obj} has no such method. */
  static JinjaFunction bind(Object obj, String name) {
    if (obj instanceof String s && STR.contains(name)) {
      return new Builtins.Fn(name, (in, args, kw, line) -> str(s, name, args, kw, in, line));
    }
    if (obj instanceof List<?> l) {
      if (LIST.contains(name)) {
        return new Builtins.Fn(name, (in, args, kw, line) -> list(l, name, args, line));
      }
      if (LIST_MUTATORS.contains(name)) {
        return refused(obj, name);
      }
    }
    if (obj instanceof Map<?, ?> m) {
      if (DICT.contains(name)) {
        return new Builtins.Fn(name, (in, args, kw, line) -> dict(m, name, args, line));
      }
      if (DICT_MUTATORS.contains(name)) {
        return refused(obj, name);
      }
    }
    return null;
  }

  private static JinjaFunction refused(Object obj, String name) {
    return new Builtins.Fn(name, (in, args, kw, line) -> {
      throw new TemplateException("access to attribute '" + name + "' of '"
          + Values.typeName(obj) + "' object is unsafe (templates cannot modify values)", line);
    });
  }

  private static Object arg(List<Object> args, int i, Object dflt) {
    return i < args.size() ? args.get(i) : dflt;
  }

  private static String strArg(List<Object> args, int i, String what, int line) {
    Object v = arg(args, i, null);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new TemplateException(what + " must be str or None, not " + Values.typeName(v), line);
    }
    return s;
  }

  private static String requireStr(Object v, String what, int line) {
    if (!(v instanceof String s)) {
      throw new TemplateException(what + " must be str, not " + Values.typeName(v), line);
    }
    return s;
  }

  private static long intArg(List<Object> args, int i, long dflt, int line) {
    Object v = arg(args, i, null);
    if (v == null) {
      return dflt;
    }
    if (!Values.isIntLike(v)) {
      throw new TemplateException("an integer is required, not " + Values.typeName(v), line);
    }
    return Values.toLong(v);
  }

  static Object str(String s, String name, List<Object> args, Map<String, Object> kw,
      Interpreter in, int line) {
    return switch (name) {
      case "startswith", "endswith" -> {
        Object p = arg(args, 0, null);
        List<?> options = p instanceof PyTuple t ? t : List.of(requireStr(p, name + " arg",
            line));
        boolean start = name.equals("startswith");
        for (Object o : options) {
          String x = requireStr(o, name + " arg", line);
          if (start ? s.startsWith(x) : s.endsWith(x)) {
            yield true;
          }
        }
        yield false;
      }
      case "split" -> split(s, strArg(args, 0, "sep", line),
          (int) intArg(args, 1, kw.containsKey("maxsplit") ? Values.toLong(kw.get("maxsplit"))
              : -1, line), line);
      case "rsplit" -> rsplit(s, strArg(args, 0, "sep", line), (int) intArg(args, 1, -1, line),
          line);
      case "splitlines" -> splitLines(s, Values.truthy(arg(args, 0, false)));
      case "strip" -> Values.strip(s, strArg(args, 0, "chars", line), true, true);
      case "lstrip" -> Values.strip(s, strArg(args, 0, "chars", line), true, false);
      case "rstrip" -> Values.strip(s, strArg(args, 0, "chars", line), false, true);
      case "upper" -> s.toUpperCase(Locale.ROOT);
      case "lower" -> s.toLowerCase(Locale.ROOT);
      case "casefold" -> s.toLowerCase(Locale.ROOT);
      case "title" -> title(s);
      case "capitalize" -> capitalize(s);
      case "swapcase" -> swapcase(s);
      case "replace" -> replace(s, requireStr(arg(args, 0, null), "old", line),
          requireStr(arg(args, 1, null), "new", line), intArg(args, 2, -1, line),
          in.limits(), line);
      case "find", "index" -> {
        int at = s.indexOf(requireStr(arg(args, 0, null), "sub", line));
        if (at < 0 && name.equals("index")) {
          throw new TemplateException("substring not found", line);
        }
        yield at < 0 ? -1L : (long) s.codePointCount(0, at);
      }
      case "rfind", "rindex" -> {
        int at = s.lastIndexOf(requireStr(arg(args, 0, null), "sub", line));
        if (at < 0 && name.equals("rindex")) {
          throw new TemplateException("substring not found", line);
        }
        yield at < 0 ? -1L : (long) s.codePointCount(0, at);
      }
      case "count" -> {
        String sub = requireStr(arg(args, 0, null), "sub", line);
        if (sub.isEmpty()) {
          yield (long) s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
          n++;
        }
        yield n;
      }
      case "join" -> {
        StringBuilder sb = new StringBuilder();
        List<Object> items = Values.iterate(arg(args, 0, null), line);
        for (int i = 0; i < items.size(); i++) {
          if (i > 0) {
            sb.append(s);
          }
          sb.append(requireStr(items.get(i), "sequence item " + i, line));
          Operators.checkSize(sb.length(), in.limits(), line);
        }
        yield sb.toString();
      }
      case "isdigit", "isnumeric", "isdecimal" -> !s.isEmpty()
          && s.codePoints().allMatch(Character::isDigit);
      case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
      case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(Values::isSpace);
      case "islower" -> s.codePoints().anyMatch(Character::isLowerCase)
          && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
      case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase)
          && s.codePoints().noneMatch(c -> Character.isLowerCase(c) || Character.isTitleCase(c));
      case "zfill" -> {
        int width = (int) intArg(args, 0, 0, line);
        int n = s.codePointCount(0, s.length());
        if (n >= width) {
          yield s;
        }
        boolean sign = s.startsWith("+") || s.startsWith("-");
        String pad = "0".repeat(width - n);
        yield sign ? s.charAt(0) + pad + s.substring(1) : pad + s;
      }
      case "center", "ljust", "rjust" -> pad(s, name, (int) intArg(args, 0, 0, line),
          args.size() > 1 ? requireStr(args.get(1), "fillchar", line) : " ", in.limits(), line);
      case "partition", "rpartition" -> {
        String sep = requireStr(arg(args, 0, null), "sep", line);
        int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
        if (at < 0) {
          yield name.equals("partition") ? new PyTuple(s, "", "") : new PyTuple("", "", s);
        }
        yield new PyTuple(s.substring(0, at), sep, s.substring(at + sep.length()));
      }
      case "format" -> PyFormat.format(s, args, kw, line);
      case "removeprefix" -> {
        String p = requireStr(arg(args, 0, null), "prefix", line);
        yield s.startsWith(p) ? s.substring(p.length()) : s;
      }
      case "removesuffix" -> {
        String p = requireStr(arg(args, 0, null), "suffix", line);
        yield s.endsWith(p) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
      }
      default -> throw new IllegalStateException(name);
    };
  }

  /** Python's str.split: on whitespace runs when {@code sep} is null, else on {@code sep}. */
  static List<Object> split(String s, String sep, int maxSplit, int line) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      int[] cps = Values.codePoints(s);
      int i = 0;
      while (i < cps.length) {
        while (i < cps.length && Values.isSpace(cps[i])) {
          i++;
        }
        if (i >= cps.length) {
          break;
        }
        if (maxSplit >= 0 && out.size() == maxSplit) {
          int end = cps.length;
          while (end > i && Values.isSpace(cps[end - 1])) {
            end--;
          }
          out.add(Values.fromCodePoints(cps, i, end));
          break;
        }
        int start = i;
        while (i < cps.length && !Values.isSpace(cps[i])) {
          i++;
        }
        out.add(Values.fromCodePoints(cps, start, i));
      }
      return out;
    }
    if (sep.isEmpty()) {
      throw new TemplateException("empty separator", line);
    }
    int from = 0;
    while (maxSplit < 0 || out.size() < maxSplit) {
      int at = s.indexOf(sep, from);
      if (at < 0) {
        break;
      }
      out.add(s.substring(from, at));
      from = at + sep.length();
    }
    out.add(s.substring(from));
    return out;
  }

  private static List<Object> rsplit(String s, String sep, int maxSplit, int line) {
    if (maxSplit < 0 || sep == null) {
      if (sep == null && maxSplit >= 0) {
        throw new TemplateException("rsplit() without a separator and with maxsplit is not"
            + " supported", line);
      }
      return split(s, sep, -1, line);
    }
    if (sep.isEmpty()) {
      throw new TemplateException("empty separator", line);
    }
    List<Object> out = new ArrayList<>();
    int to = s.length();
    while (out.size() < maxSplit) {
      int at = s.lastIndexOf(sep, to - sep.length());
      if (at < 0) {
        break;
      }
      out.add(0, s.substring(at + sep.length(), to));
      to = at;
    }
    out.add(0, s.substring(0, to));
    return out;
  }

  /** Python's str.splitlines: \n, \r, \r\n and the other Unicode line boundaries. */
  static List<Object> splitLines(String s, boolean keepEnds) {
    List<Object> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      int len = 0;
      if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
        len = 2;
      } else if (c == '\n' || c == '\r' || c == '\u000b' || c == '\u000c' || c == '\u001c'
          || c == '\u001d' || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
        len = 1;
      }
      if (len > 0) {
        out.add(s.substring(start, keepEnds ? i + len : i));
        i += len;
        start = i;
      } else {
        i++;
      }
    }
    if (start < s.length()) {
      out.add(s.substring(start));
    }
    return out;
  }

  static String title(String s) {
    StringBuilder sb = new StringBuilder();
    boolean previousCased = false;
    for (int cp : Values.codePoints(s)) {
      boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp)
          || Character.isTitleCase(cp);
      if (cased) {
        sb.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
      } else {
        sb.appendCodePoint(cp);
      }
      previousCased = cased;
    }
    return sb.toString();
  }

  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    return new String(Character.toChars(Character.toTitleCase(first)))
        + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
  }

  private static String swapcase(String s) {
    StringBuilder sb = new StringBuilder();
    for (int cp : Values.codePoints(s)) {
      sb.appendCodePoint(Character.isUpperCase(cp) ? Character.toLowerCase(cp)
          : Character.isLowerCase(cp) ? Character.toUpperCase(cp) : cp);
    }
    return sb.toString();
  }

  static String replace(String s, String old, String repl, long count,
      JinjaTemplate.Limits limits, int line) {
    if (count < 0) {
      if (old.isEmpty()) {
        StringBuilder sb = new StringBuilder(repl);
        for (int cp : Values.codePoints(s)) {
          sb.appendCodePoint(cp).append(repl);
          Operators.checkSize(sb.length(), limits, line);
        }
        return sb.toString();
      }
      long hits = 0;
      for (int at = s.indexOf(old); at >= 0; at = s.indexOf(old, at + old.length())) {
        hits++;
      }
      Operators.checkSize(s.length() + hits * (repl.length() - old.length()), limits, line);
      return s.replace(old, repl);
    }
    StringBuilder sb = new StringBuilder();
    int from = 0;
    for (long n = 0; n < count; n++) {
      int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
      if (at < 0) {
        break;
      }
      sb.append(s, from, at).append(repl);
      if (old.isEmpty()) {
        if (at < s.length()) {
          sb.appendCodePoint(s.codePointAt(at));
          from = at + Character.charCount(s.codePointAt(at));
        } else {
          from = at + 1;
        }
      } else {
        from = at + old.length();
      }
      Operators.checkSize(sb.length(), limits, line);
    }
    if (from <= s.length()) {
      sb.append(s.substring(from));
    }
    return sb.toString();
  }

  static String pad(String s, String how, int width, String fill, JinjaTemplate.Limits limits,
      int line) {
    if (fill.codePointCount(0, fill.length()) != 1) {
      throw new TemplateException("The fill character must be exactly one character long", line);
    }
    int n = s.codePointCount(0, s.length());
    if (width <= n) {
      return s;
    }
    Operators.checkSize(width, limits, line);
    int total = width - n;
    int left = switch (how) {
      case "ljust" -> 0;
      case "rjust" -> total;
      default -> total / 2 + (total & width & 1); // CPython's centering rule
    };
    return fill.repeat(left) + s + fill.repeat(total - left);
  }

  private static Object list(List<?> l, String name, List<Object> args, int line) {
    Object x = arg(args, 0, null);
    if (name.equals("count")) {
      long n = 0;
      for (Object o : l) {
        if (Values.eq(o, x)) {
          n++;
        }
      }
      return n;
    }
    for (int i = 0; i < l.size(); i++) {
      if (Values.eq(l.get(i), x)) {
        return (long) i;
      }
    }
    throw new TemplateException(Values.repr(x) + " is not in list", line);
  }

  private static Object dict(Map<?, ?> m, String name, List<Object> args, int line) {
    return switch (name) {
      case "keys" -> new ArrayList<Object>(m.keySet());
      case "values" -> new ArrayList<Object>(m.values());
      case "items" -> {
        List<Object> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(new PyTuple(k, v)));
        yield out;
      }
      case "get" -> {
        Object key = arg(args, 0, null);
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (Values.eq(e.getKey(), key)) {
            yield e.getValue();
          }
        }
        yield arg(args, 1, null);
      }
      default -> throw new IllegalStateException(name);
    };
  }
}
