package io.batchgen.io.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python's arithmetic and Jinja2's {@code ~} on template values, with the sandbox's size bound. */
final class Operators {
  private Operators() {
  }

  static Object negate(Object v, int line) {
    if (v instanceof Double d) {
      return -d;
    }
    if (Values.isIntLike(v)) {
      return Math.negateExact(Values.toLong(v));
    }
    throw unsupported("unary -", v, line);
  }

  static Object plus(Object v, int line) {
    if (v instanceof Double || v instanceof Long) {
      return v;
    }
    if (v instanceof Boolean) {
      return Values.toLong(v);
    }
    throw unsupported("unary +", v, line);
  }

  static Object binary(String op, Object l, Object r, JinjaTemplate.Limits limits, int line) {
    if (op.equals("~")) {
      return checked(Values.str(l) + Values.str(r), limits, line);
    }
    if (l instanceof Undefined u) {
      throw u.error(line);
    }
    if (r instanceof Undefined u) {
      throw u.error(line);
    }
    try {
      return switch (op) {
        case "+" -> add(l, r, limits, line);
        case "-" -> arithmetic(op, l, r, line);
        case "*" -> multiply(l, r, limits, line);
        case "/" -> {
          requireNumbers(op, l, r, line);
          double d = Values.toDouble(r);
          if (d == 0) {
            throw new TemplateException("division by zero", line);
          }
          yield Values.toDouble(l) / d;
        }
        case "//", "%" -> {
          if (op.equals("%") && l instanceof String fmt) {
            yield checked(PyFormat.percent(fmt, r, line), limits, line);
          }
          yield arithmetic(op, l, r, line);
        }
        case "**" -> power(l, r, line);
        default -> throw new IllegalStateException(op);
      };
    } catch (ArithmeticException e) {
      throw new TemplateException("integer overflow in '" + op + "'", line);
    }
  }

  private static Object add(Object l, Object r, JinjaTemplate.Limits limits, int line) {
    if (Values.isNumber(l) && Values.isNumber(r)) {
      return arithmetic("+", l, r, line);
    }
    if (l instanceof String a && r instanceof String b) {
      return checked(a + b, limits, line);
    }
    if (l instanceof List<?> a && r instanceof List<?> b
        && (l instanceof PyTuple) == (r instanceof PyTuple)) {
      List<Object> out = new ArrayList<>(a);
      out.addAll(b);
      checkSize(out.size(), limits, line);
      return l instanceof PyTuple ? PyTuple.of(out) : out;
    }
    if (l instanceof String) {
      throw new TemplateException("can only concatenate str (not \"" + Values.typeName(r)
          + "\") to str", line);
    }
    throw unsupported("+", l, r, line);
  }

  private static Object multiply(Object l, Object r, JinjaTemplate.Limits limits, int line) {
    if (Values.isNumber(l) && Values.isNumber(r)) {
      return arithmetic("*", l, r, line);
    }
    Object seq = Values.isIntLike(r) ? l : Values.isIntLike(l) ? r : null;
    Object count = seq == l ? r : l;
    if (seq instanceof String s) {
      long n = Math.max(0, Values.toLong(count));
      checkSize(n * s.length(), limits, line);
      return s.repeat((int) n);
    }
    if (seq instanceof List<?> list) {
      long n = Math.max(0, Values.toLong(count));
      checkSize(n * list.size(), limits, line);
      List<Object> out = new ArrayList<>();
      for (long i = 0; i < n; i++) {
        out.addAll(list);
      }
      return seq instanceof PyTuple ? PyTuple.of(out) : out;
    }
    throw unsupported("*", l, r, line);
  }

  private static Object arithmetic(String op, Object l, Object r, int line) {
    requireNumbers(op, l, r, line);
    if (Values.isIntLike(l) && Values.isIntLike(r)) {
      long a = Values.toLong(l);
      long b = Values.toLong(r);
      return switch (op) {
        case "+" -> Math.addExact(a, b);
        case "-" -> Math.subtractExact(a, b);
        case "*" -> Math.multiplyExact(a, b);
        case "//" -> {
          if (b == 0) {
            throw new TemplateException("integer division or modulo by zero", line);
          }
          yield Math.floorDiv(a, b);
        }
        case "%" -> {
          if (b == 0) {
            throw new TemplateException("integer division or modulo by zero", line);
          }
          yield Math.floorMod(a, b);
        }
        default -> throw new IllegalStateException(op);
      };
    }
    double a = Values.toDouble(l);
    double b = Values.toDouble(r);
    return switch (op) {
      case "+" -> a + b;
      case "-" -> a - b;
      case "*" -> a * b;
      case "//" -> {
        if (b == 0) {
          throw new TemplateException("float floor division by zero", line);
        }
        yield Math.floor(a / b);
      }
      case "%" -> {
        if (b == 0) {
          throw new TemplateException("float modulo", line);
        }
        double m = a % b;
        yield m != 0 && (m < 0) != (b < 0) ? m + b : m;
      }
      default -> throw new IllegalStateException(op);
    };
  }

  private static Object power(Object l, Object r, int line) {
    requireNumbers("**", l, r, line);
    if (Values.isIntLike(l) && Values.isIntLike(r) && Values.toLong(r) >= 0) {
      long result = 1;
      long base = Values.toLong(l);
      for (long e = Values.toLong(r); e > 0; e >>= 1) {
        if ((e & 1) == 1) {
          result = Math.multiplyExact(result, base);
        }
        if (e > 1) {
          base = Math.multiplyExact(base, base);
        }
      }
      return result;
    }
    return Math.pow(Values.toDouble(l), Values.toDouble(r));
  }

  private static void requireNumbers(String op, Object l, Object r, int line) {
    if (!Values.isNumber(l) || !Values.isNumber(r)) {
      throw unsupported(op, l, r, line);
    }
  }

  static String checked(String s, JinjaTemplate.Limits limits, int line) {
    checkSize(s.length(), limits, line);
    return s;
  }

  static void checkSize(long size, JinjaTemplate.Limits limits, int line) {
    if (size > limits.maxOutputChars()) {
      throw new TemplateException.LimitExceeded("a value of " + size + " items or characters"
          + " exceeds the limit of " + limits.maxOutputChars(), line);
    }
  }

  private static TemplateException unsupported(String op, Object l, Object r, int line) {
    return new TemplateException("unsupported operand type(s) for " + op + ": '"
        + Values.typeName(l) + "' and '" + Values.typeName(r) + "'", line);
  }

  private static TemplateException unsupported(String op, Object v, int line) {
    return new TemplateException("bad operand type for " + op + ": '" + Values.typeName(v) + "'",
        line);
  }
}
