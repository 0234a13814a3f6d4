package io.batchgen.io.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's built-in filters that chat templates use, with Jinja2's semantics, and Hugging Face's
 * own {@code tojson} (no HTML escaping, {@code ensure_ascii=False}, {@code indent},
 * {@code separators} and {@code sort_keys} arguments).
 */
final class Filters {
  private Filters() {
  }

  static final Set<String> NAMES = Set.of("abs", "attr", "capitalize", "center", "count",
      "d", "default", "dictsort", "e", "escape", "first", "float", "format", "indent", "int",
      "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
      "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
      "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount");

  static Object apply(String name, Object v, List<Object> args, Map<String, Object> kw,
      Interpreter in, int line) {
    Params p = new Params(name, args, kw, line);
    return switch (name) {
      case "abs" -> {
        if (v instanceof Double d) {
          yield Math.abs(d);
        }
        if (Values.isIntLike(v)) {
          yield Math.abs(Values.toLong(v));
        }
        throw bad(name, v, line);
      }
      case "attr" -> Access.attribute(in, v, Values.str(p.get(0, "name", null)), line);
      case "capitalize" -> Methods.capitalize(Values.str(v));
      case "center" -> Methods.pad(Values.str(v), "center",
          (int) Values.toLong(p.get(0, "width", 80L)), " ", in.limits(), line);
      case "count", "length" -> (long) Values.length(v, line);
      case "d", "default" -> {
        Object dflt = p.get(0, "default_value", "");
        boolean bool = Values.truthy(p.get(1, "boolean", false));
        yield v instanceof Undefined || (bool && !Values.truthy(v)) ? dflt : v;
      }
      case "dictsort" -> dictsort(v, p, line);
      case "e", "escape" -> escape(Values.str(v));
      case "first" -> {
        List<Object> items = Values.iterate(v, line);
        yield items.isEmpty() ? new Undefined("No first item, sequence was empty.")
            : items.get(0);
      }
      case "last" -> {
        List<Object> items = Values.iterate(v, line);
        yield items.isEmpty() ? new Undefined("No last item, sequence was empty.")
            : items.get(items.size() - 1);
      }
      case "float" -> toFloat(v, p.get(0, "default", 0.0));
      case "int" -> toInt(v, p.get(0, "default", 0L), p.get(1, "base", 10L));
      case "format" -> PyFormat.percent(Values.str(v), PyTuple.of(args), line);
      case "indent" -> indent(Values.str(v), p.get(0, "width", 4L),
          Values.truthy(p.get(1, "first", false)), Values.truthy(p.get(2, "blank", false)));
      case "items" -> {
        List<Object> out = new ArrayList<>();
        if (v instanceof Map<?, ?> m) {
          m.forEach((k, x) -> out.add(new PyTuple(k, x)));
        } else if (!(v instanceof Undefined)) {
          throw new TemplateException("Can only get item pairs from a mapping, not "
              + Values.typeName(v), line);
        }
        yield out;
      }
      case "join" -> {
        String sep = Values.str(p.get(0, "d", ""));
        Object attribute = p.get(1, "attribute", null);
        StringBuilder sb = new StringBuilder();
        List<Object> items = Values.iterate(v, line);
        for (int i = 0; i < items.size(); i++) {
          if (i > 0) {
            sb.append(sep);
          }
          Object item = attribute == null ? items.get(i) : path(in, items.get(i), attribute, line);
          sb.append(Values.str(item));
          Operators.checkSize(sb.length(), in.limits(), line);
        }
        yield sb.toString();
      }
      case "list" -> {
        List<Object> items = Values.iterate(v, line);
        Operators.checkSize(items.size(), in.limits(), line);
        yield new ArrayList<>(items);
      }
      case "lower" -> Values.str(v).toLowerCase(Locale.ROOT);
      case "upper" -> Values.str(v).toUpperCase(Locale.ROOT);
      case "title" -> Methods.title(Values.str(v));
      case "map" -> map(v, args, kw, in, line);
      case "max", "min" -> {
        List<Object> items = Values.iterate(v, line);
        if (items.isEmpty()) {
          yield new Undefined("No aggregated item, sequence was empty.");
        }
        Comparator<Object> c = sortKey(in, p.get(1, "attribute", null),
            Values.truthy(p.get(0, "case_sensitive", false)), line);
        Object best = items.get(0);
        for (Object o : items) {
          int cmp = c.compare(o, best);
          if (name.equals("max") ? cmp > 0 : cmp < 0) {
            best = o;
          }
        }
        yield best;
      }
      case "select", "reject" -> {
        List<Object> out = new ArrayList<>();
        for (Object item : Values.iterate(v, line)) {
          boolean ok = args.isEmpty() ? Values.truthy(item)
              : Tests.apply(Values.str(args.get(0)), item, args.subList(1, args.size()), in,
                  line);
          if (ok == name.equals("select")) {
            out.add(item);
          }
        }
        yield out;
      }
      case "selectattr", "rejectattr" -> {
        if (args.isEmpty()) {
          throw new TemplateException("filter '" + name + "' needs an attribute name", line);
        }
        List<Object> out = new ArrayList<>();
        for (Object item : Values.iterate(v, line)) {
          Object attr = path(in, item, args.get(0), line);
          boolean ok = args.size() < 2 ? Values.truthy(attr)
              : Tests.apply(Values.str(args.get(1)), attr, args.subList(2, args.size()), in,
                  line);
          if (ok == name.equals("selectattr")) {
            out.add(item);
          }
        }
        yield out;
      }
      case "replace" -> {
        Object count = p.get(2, "count", null);
        yield Methods.replace(Values.str(v), Values.str(p.get(0, "old", "")),
            Values.str(p.get(1, "new", "")), count == null ? -1 : Values.toLong(count),
            in.limits(), line);
      }
      case "reverse" -> {
        if (v instanceof String s) {
          yield new StringBuilder(s).reverse().toString();
        }
        List<Object> items = new ArrayList<>(Values.iterate(v, line));
        java.util.Collections.reverse(items);
        yield items;
      }
      case "round" -> round(v, p.get(0, "precision", 0L), Values.str(p.get(1, "method",
          "common")), line);
      case "safe" -> v;
      case "sort" -> {
        List<Object> items = new ArrayList<>(Values.iterate(v, line));
        Comparator<Object> c = sortKey(in, p.get(2, "attribute", null),
            Values.truthy(p.get(1, "case_sensitive", false)), line);
        items.sort(Values.truthy(p.get(0, "reverse", false)) ? c.reversed() : c);
        yield items;
      }
      case "string" -> Values.str(v);
      case "sum" -> {
        Object attribute = p.get(0, "attribute", null);
        Object total = p.get(1, "start", 0L);
        for (Object item : Values.iterate(v, line)) {
          total = Operators.binary("+", total, attribute == null ? item
              : path(in, item, attribute, line), in.limits(), line);
        }
        yield total;
      }
      case "tojson" -> Json.dumps(v, p.get(1, "indent", null), p.get(2, "separators", null),
          Values.truthy(p.get(3, "sort_keys", false)), Values.truthy(p.get(0, "ensure_ascii",
              false)), in.limits(), line);
      case "trim" -> Values.strip(Values.str(v), p.get(0, "chars", null) == null ? null
          : Values.str(p.get(0, "chars", null)), true, true);
      case "unique" -> {
        List<Object> out = new ArrayList<>();
        boolean cs = Values.truthy(p.get(0, "case_sensitive", false));
        Object attribute = p.get(1, "attribute", null);
        List<Object> seen = new ArrayList<>();
        for (Object item : Values.iterate(v, line)) {
          Object key = attribute == null ? item : path(in, item, attribute, line);
          if (!cs && key instanceof String s) {
            key = s.toLowerCase(Locale.ROOT);
          }
          final Object k = key;
          if (seen.stream().noneMatch(x -> Values.eq(x, k))) {
            seen.add(key);
            out.add(item);
          }
        }
        yield out;
      }
      case "wordcount" -> (long) Methods.split(Values.str(v), null, -1, line).size();
      default -> throw new TemplateException("no filter named '" + name + "'; supported: "
          + NAMES.stream().sorted().toList(), line);
    };
  }

  /** Positional-or-keyword arguments of one filter call (after the filtered value). */
  private record Params(String filter, List<Object> args, Map<String, Object> kw, int line) {
    Object get(int index, String name, Object dflt) {
      if (index < args.size()) {
        return args.get(index);
      }
      return kw.containsKey(name) ? kw.get(name) : dflt;
    }
  }

  private static TemplateException bad(String filter, Object v, int line) {
    return new TemplateException("filter '" + filter + "' cannot take a value of type '"
        + Values.typeName(v) + "'", line);
  }

  /** An item's attribute by a dotted path ({@code "function.name"}), Jinja2's attrgetter. */
  static Object path(Interpreter in, Object item, Object attribute, int line) {
    if (Values.isIntLike(attribute)) {
      return Access.item(in, item, attribute, line);
    }
    Object cur = item;
    for (String part : Values.str(attribute).split("\\.")) {
      Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty()
          ? (Object) Long.parseLong(part) : part;
      if (cur instanceof Undefined) {
        return cur;
      }
      cur = Access.item(in, cur, key, line);
    }
    return cur;
  }

  private static Object map(Object v, List<Object> args, Map<String, Object> kw, Interpreter in,
      int line) {
    List<Object> out = new ArrayList<>();
    List<Object> items = Values.iterate(v, line);
    if (kw.containsKey("attribute")) {
      Object dflt = kw.get("default");
      for (Object item : items) {
        Object x = path(in, item, kw.get("attribute"), line);
        out.add(x instanceof Undefined && kw.containsKey("default") ? dflt : x);
      }
      return out;
    }
    if (args.isEmpty()) {
      throw new TemplateException("map() needs a filter name or attribute=", line);
    }
    String filter = Values.str(args.get(0));
    Map<String, Object> rest = new LinkedHashMap<>(kw);
    for (Object item : items) {
      out.add(apply(filter, item, args.subList(1, args.size()), rest, in, line));
    }
    return out;
  }

  private static Comparator<Object> sortKey(Interpreter in, Object attribute,
      boolean caseSensitive, int line) {
    return (a, b) -> {
      Object ka = attribute == null ? a : path(in, a, attribute, line);
      Object kb = attribute == null ? b : path(in, b, attribute, line);
      if (!caseSensitive) {
        ka = ka instanceof String s ? s.toLowerCase(Locale.ROOT) : ka;
        kb = kb instanceof String s ? s.toLowerCase(Locale.ROOT) : kb;
      }
      return Values.compare(ka, kb, "<", line);
    };
  }

  private static Object dictsort(Object v, Params p, int line) {
    if (!(v instanceof Map<?, ?> m)) {
      throw new TemplateException("You can only sort by either 'key' or 'value'; dictsort needs"
          + " a mapping, got " + Values.typeName(v), line);
    }
    boolean cs = Values.truthy(p.get(0, "case_sensitive", false));
    boolean byValue = "value".equals(p.get(1, "by", "key"));
    List<Object> items = new ArrayList<>();
    m.forEach((k, x) -> items.add(new PyTuple(k, x)));
    Comparator<Object> c = (a, b) -> {
      Object ka = ((PyTuple) a).get(byValue ? 1 : 0);
      Object kb = ((PyTuple) b).get(byValue ? 1 : 0);
      if (!cs) {
        ka = ka instanceof String s ? s.toLowerCase(Locale.ROOT) : ka;
        kb = kb instanceof String s ? s.toLowerCase(Locale.ROOT) : kb;
      }
      return Values.compare(ka, kb, "<", line);
    };
    items.sort(Values.truthy(p.get(2, "reverse", false)) ? c.reversed() : c);
    return items;
  }

  static String escape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&#34;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static Object toFloat(Object v, Object dflt) {
    if (Values.isNumber(v)) {
      return Values.toDouble(v);
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s.strip());
      } catch (NumberFormatException e) {
        return dflt;
      }
    }
    return dflt;
  }

  private static Object toInt(Object v, Object dflt, Object base) {
    if (Values.isIntLike(v)) {
      return Values.toLong(v);
    }
    if (v instanceof Double d) {
      return (long) d.doubleValue();
    }
    if (v instanceof String s) {
      String t = s.strip().replace("_", "");
      try {
        return Long.parseLong(t, (int) Values.toLong(base));
      } catch (NumberFormatException e) {
        try {
          return (long) Double.parseDouble(t);
        } catch (NumberFormatException e2) {
          return dflt;
        }
      }
    }
    return dflt;
  }

  /** Jinja2's indent: every line but the first (or also the first) gets the indentation. */
  private static String indent(String s, Object width, boolean first, boolean blank) {
    String indentation = width instanceof String w ? w : " ".repeat((int) Values.toLong(width));
    List<Object> lines = Methods.splitLines(s + "\n", false);
    StringBuilder sb = new StringBuilder();
    if (blank) {
      for (int i = 0; i < lines.size(); i++) {
        if (i > 0) {
          sb.append('\n').append(indentation);
        }
        sb.append(lines.get(i));
      }
    } else {
      sb.append(lines.isEmpty() ? "" : lines.get(0));
      for (int i = 1; i < lines.size(); i++) {
        String line = (String) lines.get(i);
        sb.append('\n').append(line.isEmpty() ? line : indentation + line);
      }
    }
    return first ? indentation + sb : sb.toString();
  }

  private static Object round(Object v, Object precision, String method, int line) {
    if (!Values.isNumber(v)) {
      throw bad("round", v, line);
    }
    int digits = (int) Values.toLong(precision);
    RoundingMode mode = switch (method) {
      case "common" -> RoundingMode.HALF_EVEN;
      case "ceil" -> RoundingMode.CEILING;
      case "floor" -> RoundingMode.FLOOR;
      default -> throw new TemplateException("method must be common, ceil or floor", line);
    };
    return new BigDecimal(Values.toDouble(v)).setScale(digits, mode).doubleValue();
  }
}
