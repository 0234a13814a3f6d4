package io.batchgen.io.jinja;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is string}, ...). */
final class Tests {
  private Tests() {
  }

  static final Set<String> NAMES = Set.of("boolean", "callable", "defined", "divisibleby", "eq",
      "equalto", "==", "escaped", "even", "false", "filter", "float", "ge", ">=", "gt",
      "greaterthan", ">", "in", "integer", "iterable", "le", "<=", "lower", "lt", "lessthan", "<",
      "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test",
      "true", "undefined", "upper");

  static boolean apply(String name, Object v, List<Object> args, Interpreter in, int line) {
    return switch (name) {
      case "boolean" -> v instanceof Boolean;
      case "callable" -> v instanceof JinjaFunction;
      case "defined" -> !(v instanceof Undefined);
      case "undefined" -> v instanceof Undefined;
      case "none" -> v == null;
      case "true" -> Boolean.TRUE.equals(v);
      case "false" -> Boolean.FALSE.equals(v);
      case "string" -> v instanceof String;
      case "number" -> Values.isNumber(v);
      case "integer" -> v instanceof Long;
      case "float" -> v instanceof Double;
      case "mapping" -> v instanceof Map;
      case "iterable" -> Values.iterable(v);
      case "sequence" -> v instanceof List || v instanceof String || v instanceof Map;
      case "escaped" -> false;
      case "lower" -> {
        String s = Values.str(v);
        yield s.codePoints().anyMatch(Character::isLowerCase)
            && s.codePoints().noneMatch(Character::isUpperCase);
      }
      case "upper" -> {
        String s = Values.str(v);
        yield s.codePoints().anyMatch(Character::isUpperCase)
            && s.codePoints().noneMatch(Character::isLowerCase);
      }
      case "odd", "even" -> {
        if (!Values.isIntLike(v)) {
          throw new TemplateException("test '" + name + "' needs an integer, got "
              + Values.typeName(v), line);
        }
        yield (Math.floorMod(Values.toLong(v), 2) == 1) == name.equals("odd");
      }
      case "divisibleby" -> {
        Object n = arg(args, name, line);
        if (!Values.isIntLike(v) || !Values.isIntLike(n) || Values.toLong(n) == 0) {
          throw new TemplateException("test 'divisibleby' needs non-zero integers", line);
        }
        yield Values.toLong(v) % Values.toLong(n) == 0;
      }
      case "eq", "equalto", "==" -> Values.eq(v, arg(args, name, line));
      case "ne", "!=" -> !Values.eq(v, arg(args, name, line));
      case "lt", "lessthan", "<" -> Values.compare(v, arg(args, name, line), "<", line) < 0;
      case "le", "<=" -> Values.compare(v, arg(args, name, line), "<=", line) <= 0;
      case "gt", "greaterthan", ">" -> Values.compare(v, arg(args, name, line), ">", line) > 0;
      case "ge", ">=" -> Values.compare(v, arg(args, name, line), ">=", line) >= 0;
      case "in" -> Values.contains(arg(args, name, line), v, line);
      case "sameas" -> {
        Object o = arg(args, name, line);
        yield v == o || (v instanceof Boolean && v.equals(o));
      }
      case "filter" -> Filters.NAMES.contains(Values.str(v));
      case "test" -> NAMES.contains(Values.str(v));
      default -> throw new TemplateException("no test named '" + name + "'; supported: "
          + NAMES.stream().sorted().toList(), line);
    };
  }

  private static Object arg(List<Object> args, String test, int line) {
    if (args.isEmpty()) {
      throw new TemplateException("test '" + test + "' needs an argument", line);
    }
    return args.get(0);
  }
}
