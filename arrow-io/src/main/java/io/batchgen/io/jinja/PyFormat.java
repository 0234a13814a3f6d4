package io.batchgen.io.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/** Python's {@code str % args} and {@code str.format(...)} for the common conversions. */
final class PyFormat {
  private PyFormat() {
  }

  /** {@code fmt % args}: %s, %r, %d, %i, %f (with precision), %x, %%. */
  static String percent(String fmt, Object args, int line) {
    List<?> values = args instanceof PyTuple t ? t : java.util.Collections.singletonList(args);
    StringBuilder sb = new StringBuilder();
    int next = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c != '%') {
        sb.append(c);
        continue;
      }
      if (++i >= fmt.length()) {
        throw new TemplateException("incomplete format", line);
      }
      int precision = -1;
      if (fmt.charAt(i) == '.') {
        int start = ++i;
        while (i < fmt.length() && Character.isDigit(fmt.charAt(i))) {
          i++;
        }
        precision = Integer.parseInt(fmt.substring(start, i));
      }
      char conv = fmt.charAt(i);
      if (conv == '%') {
        sb.append('%');
        continue;
      }
      if (next >= values.size()) {
        throw new TemplateException("not enough arguments for format string", line);
      }
      Object v = values.get(next++);
      switch (conv) {
        case 's' -> sb.append(Values.str(v));
        case 'r' -> sb.append(Values.repr(v));
        case 'd', 'i' -> sb.append(integer(v, line));
        case 'x' -> sb.append(Long.toHexString(integer(v, line)));
        case 'f' -> sb.append(fixed(v, precision < 0 ? 6 : precision, line));
        default -> throw new TemplateException("unsupported format character '" + conv + "'",
            line);
      }
    }
    if (next < values.size()) {
      throw new TemplateException("not all arguments converted during string formatting", line);
    }
    return sb.toString();
  }

  private static long integer(Object v, int line) {
    if (Values.isIntLike(v)) {
      return Values.toLong(v);
    }
    if (v instanceof Double d) {
      return d.longValue();
    }
    throw new TemplateException("%d format: a number is required, not " + Values.typeName(v),
        line);
  }

  private static String fixed(Object v, int precision, int line) {
    if (!Values.isNumber(v)) {
      throw new TemplateException("must be real number, not " + Values.typeName(v), line);
    }
    return new BigDecimal(Values.toDouble(v)).setScale(precision, RoundingMode.HALF_EVEN)
        .toPlainString();
  }

  /** {@code fmt.format(*args, **kwargs)} with {@code {}}, {@code {0}}, {@code {name}} fields. */
  static String format(String fmt, List<Object> args, Map<String, Object> kwargs, int line) {
    StringBuilder sb = new StringBuilder();
    int auto = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c == '{' && i + 1 < fmt.length() && fmt.charAt(i + 1) == '{') {
        sb.append('{');
        i++;
      } else if (c == '}' && i + 1 < fmt.length() && fmt.charAt(i + 1) == '}') {
        sb.append('}');
        i++;
      } else if (c == '{') {
        int end = fmt.indexOf('}', i);
        if (end < 0) {
          throw new TemplateException("single '{' encountered in format string", line);
        }
        String field = fmt.substring(i + 1, end);
        if (field.contains(":") || field.contains("!")) {
          throw new TemplateException("format specs in str.format are not supported", line);
        }
        Object v;
        if (field.isEmpty()) {
          v = argAt(args, auto++, line);
        } else if (field.chars().allMatch(Character::isDigit)) {
          v = argAt(args, Integer.parseInt(field), line);
        } else if (kwargs.containsKey(field)) {
          v = kwargs.get(field);
        } else {
          throw new TemplateException("format field '" + field + "' is not given", line);
        }
        sb.append(Values.str(v));
        i = end;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static Object argAt(List<Object> args, int i, int line) {
    if (i >= args.size()) {
      throw new TemplateException("replacement index " + i + " out of range for positional"
          + " args tuple", line);
    }
    return args.get(i);
  }
}
