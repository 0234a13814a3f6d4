package io.batchgen.io.jinja;

import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The global functions a chat template may call, as Hugging Face provides them: Jinja2's
 * {@code range}, {@code dict}, {@code namespace}, and transformers' {@code raise_exception} and
 * {@code strftime_now}.
 */
final class Builtins {
  private Builtins() {
  }

  /** A function body: positional args, keyword args, call line. */
  interface Body {
    Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs, int line);
  }

  /** A named built-in function. */
  record Fn(String name, Body body) implements JinjaFunction {
    @Override
    public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs, int line) {
      return body.call(in, args, kwargs, line);
    }
  }

  static Map<String, Object> globals(Supplier<ZonedDateTime> clock) {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("range", new Fn("range", Builtins::range));
    g.put("dict", new Fn("dict", (in, args, kw, line) -> {
      Map<Object, Object> m = new LinkedHashMap<>();
      if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> src) {
        m.putAll(src);
      }
      m.putAll(kw);
      return m;
    }));
    g.put("namespace", new Fn("namespace", (in, args, kw, line) -> {
      Namespace ns = new Namespace();
      if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> src) {
        src.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
      }
      ns.attributes.putAll(kw);
      return ns;
    }));
    g.put("raise_exception", new Fn("raise_exception", (in, args, kw, line) -> {
      throw new TemplateException.Raised(args.isEmpty() ? "raise_exception() was called"
          : Values.str(args.get(0)), line);
    }));
    g.put("strftime_now", new Fn("strftime_now", (in, args, kw, line) -> {
      if (args.isEmpty() || !(args.get(0) instanceof String format)) {
        throw new TemplateException("strftime_now() needs a format string", line);
      }
      return Strftime.format(format, clock.get(), line);
    }));
    return g;
  }

  private static Object range(Interpreter in, List<Object> args, Map<String, Object> kw,
      int line) {
    for (Object a : args) {
      if (!Values.isIntLike(a)) {
        throw new TemplateException("range() takes integers, got '" + Values.typeName(a) + "'",
            line);
      }
    }
    return switch (args.size()) {
      case 1 -> new PyRange(0, Values.toLong(args.get(0)), 1, line);
      case 2 -> new PyRange(Values.toLong(args.get(0)), Values.toLong(args.get(1)), 1, line);
      case 3 -> new PyRange(Values.toLong(args.get(0)), Values.toLong(args.get(1)),
          Values.toLong(args.get(2)), line);
      default -> throw new TemplateException("range() takes 1 to 3 arguments, got "
          + args.size(), line);
    };
  }
}
