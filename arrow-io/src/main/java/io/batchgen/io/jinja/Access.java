package io.batchgen.io.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Jinja2's {@code obj.name} and {@code obj[key]} on the sandbox's values. {@code obj.name} tries
 * the Python attribute first (a str/list/dict method, a namespace or loop attribute), then the
 * item; {@code obj[key]} tries the item first. Missing things are {@link Undefined}; anything on
 * an Undefined is an error. No host object is ever reached.
 */
final class Access {
  private Access() {
  }

  static Object attribute(Interpreter in, Object obj, String name, int line) {
    if (obj instanceof Undefined u) {
      throw u.error(line);
    }
    if (obj instanceof Namespace ns) {
      return ns.attributes.containsKey(name) ? ns.attributes.get(name)
          : Undefined.attribute(obj, name);
    }
    if (obj instanceof Interpreter.Loop loop) {
      return in.loopAttribute(loop, name, line);
    }
    Object method = Methods.bind(obj, name);
    if (method != null) {
      return method;
    }
    if (obj instanceof Map<?, ?> m && m.containsKey(name)) {
      return m.get(name);
    }
    return Undefined.attribute(obj, name);
  }

  static Object item(Interpreter in, Object obj, Object key, int line) {
    if (obj instanceof Undefined u) {
      throw u.error(line);
    }
    if (obj instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (Values.eq(e.getKey(), key) && (e.getKey() instanceof String) == (key instanceof String)) {
          return e.getValue();
        }
      }
    } else if ((obj instanceof List || obj instanceof String) && Values.isIntLike(key)) {
      int n = Values.length(obj, line);
      long i = Values.toLong(key);
      if (i < 0) {
        i += n;
      }
      if (i >= 0 && i < n) {
        if (obj instanceof List<?> l) {
          return l.get((int) i);
        }
        String s = (String) obj;
        int at = s.offsetByCodePoints(0, (int) i);
        return new String(Character.toChars(s.codePointAt(at)));
      }
      return new Undefined("index " + Values.toLong(key) + " is out of range of a "
          + Values.typeName(obj) + " of length " + n);
    }
    if (key instanceof String name) {
      return attribute(in, obj, name, line);
    }
    return new Undefined("'" + Values.typeName(obj) + " object' has no item "
        + Values.repr(key));
  }

  /** Python's {@code obj[start:stop:step]} on a list, tuple or str. */
  static Object slice(Object obj, Object start, Object stop, Object step, int line) {
    if (obj instanceof Undefined u) {
      throw u.error(line);
    }
    if (!(obj instanceof List || obj instanceof String)) {
      throw new TemplateException("'" + Values.typeName(obj) + "' object is not subscriptable",
          line);
    }
    int n = Values.length(obj, line);
    long st = step == null ? 1 : index(step, line);
    if (st == 0) {
      throw new TemplateException("slice step cannot be zero", line);
    }
    long lo;
    long hi;
    if (st > 0) {
      lo = start == null ? 0 : clamp(index(start, line), n, 0, n);
      hi = stop == null ? n : clamp(index(stop, line), n, 0, n);
    } else {
      lo = start == null ? n - 1 : clamp(index(start, line), n, -1, n - 1);
      hi = stop == null ? -1 : clamp(index(stop, line), n, -1, n - 1);
    }
    List<Integer> picks = new ArrayList<>();
    for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
      picks.add((int) i);
    }
    if (obj instanceof String s) {
      int[] cps = Values.codePoints(s);
      StringBuilder sb = new StringBuilder();
      for (int i : picks) {
        sb.appendCodePoint(cps[i]);
      }
      return sb.toString();
    }
    List<?> l = (List<?>) obj;
    List<Object> out = new ArrayList<>(picks.size());
    for (int i : picks) {
      out.add(l.get(i));
    }
    return obj instanceof PyTuple ? PyTuple.of(out) : out;
  }

  private static long index(Object v, int line) {
    if (!Values.isIntLike(v)) {
      throw new TemplateException("slice indices must be integers or None, not "
          + Values.typeName(v), line);
    }
    return Values.toLong(v);
  }

  /** Python's slice index adjustment: negative counts from the end, then clamped. */
  private static long clamp(long i, int n, long min, long max) {
    if (i < 0) {
      i += n;
    }
    return Math.max(min, Math.min(max, i));
  }
}
