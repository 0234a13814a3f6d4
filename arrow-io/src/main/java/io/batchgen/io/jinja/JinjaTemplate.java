package io.batchgen.io.jinja;

import io.batchgen.io.jinja.Node.Stmt;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A Jinja2 template parsed once and rendered any number of times, from any threads, with Jinja2's
 * semantics as Hugging Face {@code transformers} renders chat templates: {@code trim_blocks} and
 * {@code lstrip_blocks} on, loop controls, {@code namespace()}, Python str/list/dict methods, the
 * built-in filters and tests templates use, {@code tojson} as transformers defines it, and the
 * globals {@code raise_exception} and {@code strftime_now}.
 *
 * <p>Sandboxed: only the template source is parsed; variables are data, converted on entry to
 * plain values (str, int, float, bool, None, list, dict), never interpreted and never exposing a
 * Java object. Templates cannot modify values, and each render is bounded by {@link Limits}.
 */
public final class JinjaTemplate {

  /**
   * Bounds of one render, so a runaway template fails instead of exhausting the executor.
   *
   * @param maxOutputChars    longest output (and longest intermediate string or list)
   * @param maxLoopIterations loop iterations over the whole render
   * @param maxCallDepth      nesting of macro and function calls
   */
  public record Limits(long maxOutputChars, long maxLoopIterations, int maxCallDepth) {
    /** 16 Mi characters, 1 million loop iterations, calls 64 deep. */
    public static final Limits DEFAULT = new Limits(16L << 20, 1_000_000L, 64);
  }

  private final List<Stmt> body;

  private JinjaTemplate(List<Stmt> body) {
    this.body = body;
  }

  /**
   * Parses {@code source}.
   *
   * @throws TemplateException with the line of the first syntax error
   */
  public static JinjaTemplate parse(String source) {
    return new JinjaTemplate(Parser.parse(source));
  }

  /** Renders with {@link Limits#DEFAULT} and the system clock for {@code strftime_now}. */
  public String render(Map<String, ?> variables) {
    return render(variables, Limits.DEFAULT, ZonedDateTime::now);
  }

  /**
   * Renders with {@code variables} (plain Java values: String, Number, Boolean, null, List,
   * Map with String keys; anything else is rejected).
   *
   * @throws TemplateException when the template fails; {@link TemplateException.Raised} when it
   *     called {@code raise_exception}
   * @throws IllegalArgumentException when a variable holds a value of another type
   */
  public String render(Map<String, ?> variables, Limits limits, Supplier<ZonedDateTime> clock) {
    Map<String, Object> globals = Builtins.globals(clock);
    variables.forEach((k, v) -> globals.put(k, toValue(v, k)));
    return new Interpreter(globals, limits).render(body);
  }

  /**
   * Checks that {@code variables} hold only plain data (what {@link #render} accepts).
   *
   * @throws IllegalArgumentException naming the variable that does not
   */
  public static void checkVariables(Map<String, ?> variables) {
    variables.forEach((k, v) -> toValue(v, k));
  }

  /** A plain Java value as a template value; rejects anything that is not data. */
  static Object toValue(Object v, String where) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long
        || v instanceof Double) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte
        || v instanceof BigInteger) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float || v instanceof BigDecimal) {
      return ((Number) v).doubleValue();
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object o : l) {
        out.add(toValue(o, where));
      }
      return out;
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> {
        if (!(k instanceof String)) {
          throw new IllegalArgumentException("Template variable [" + where + "] has a map key of"
              + " type " + k.getClass().getSimpleName() + "; keys must be strings");
        }
        out.put(k, toValue(x, where));
      });
      return out;
    }
    throw new IllegalArgumentException("Template variable [" + where + "] holds a "
        + v.getClass().getSimpleName() + "; only strings, numbers, booleans, null, lists and"
        + " maps are passed to templates");
  }
}
