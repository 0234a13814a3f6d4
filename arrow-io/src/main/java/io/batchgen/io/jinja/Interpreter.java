package io.batchgen.io.jinja;

import io.batchgen.io.jinja.Node.Expr;
import io.batchgen.io.jinja.Node.Stmt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a parsed template once: a tree walk over the immutable AST with its own scopes and
 * output, so one parsed template serves any number of threads, each with its own interpreter.
 *
 * <p>Scoping follows Jinja2: a for-loop body runs in a fresh scope per iteration (assignments do
 * not survive the iteration; {@code namespace()} is how state leaves a loop), {@code if} opens
 * no scope, a macro call runs in a scope over the one it was defined in.
 *
 * <p>Sandbox: values are only the types of {@link Values}; attribute access reaches dict items,
 * namespace attributes and a fixed list of Python methods, never a host object. Mutating methods
 * ({@code list.append}, {@code dict.update}) are refused as in Jinja2's immutable sandbox. Output
 * size, loop iterations and call depth are bounded by {@link JinjaTemplate.Limits}.
 */
final class Interpreter {
  private enum Signal { NONE, BREAK, CONTINUE }

  /** A variable scope; lookups walk to the parent, assignments stay here. */
  static final class Scope {
    final Scope parent;
    final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
      this.parent = parent;
    }
  }

  /** The {@code loop} variable of a for loop. */
  static final class Loop {
    final List<Object> items;
    final int index0;
    private Object lastChanged = NO_VALUE;

    Loop(List<Object> items, int index0) {
      this.items = items;
      this.index0 = index0;
    }
  }

  private static final Object NO_VALUE = new Object();

  private final Map<String, Object> globals;
  private final JinjaTemplate.Limits limits;
  private StringBuilder out = new StringBuilder();
  private long iterations;
  private int depth;

  Interpreter(Map<String, Object> globals, JinjaTemplate.Limits limits) {
    this.globals = globals;
    this.limits = limits;
  }

  String render(List<Stmt> body) {
    Scope root = new Scope(null);
    exec(body, root);
    return out.toString();
  }

  JinjaTemplate.Limits limits() {
    return limits;
  }

  // ---- statements ----

  private Signal exec(List<Stmt> body, Scope scope) {
    for (Stmt s : body) {
      Signal sig = exec(s, scope);
      if (sig != Signal.NONE) {
        return sig;
      }
    }
    return Signal.NONE;
  }

  private Signal exec(Stmt stmt, Scope scope) {
    if (stmt instanceof Node.Text t) {
      write(t.text(), t.line());
    } else if (stmt instanceof Node.Output o) {
      write(Values.str(eval(o.expr(), scope)), o.line());
    } else if (stmt instanceof Node.If i) {
      for (int k = 0; k < i.conditions().size(); k++) {
        if (Values.truthy(eval(i.conditions().get(k), scope))) {
          return exec(i.bodies().get(k), scope);
        }
      }
      return exec(i.orElse(), scope);
    } else if (stmt instanceof Node.For f) {
      return forLoop(f, scope);
    } else if (stmt instanceof Node.Set s) {
      set(s, scope);
    } else if (stmt instanceof Node.SetBlock s) {
      String text = capture(s.body(), new Scope(scope));
      Object value = s.filters() == null ? text : applyFilters(s.filters(), text, scope);
      scope.vars.put(s.name(), value);
    } else if (stmt instanceof Node.Macro m) {
      scope.vars.put(m.name(), new Macro(m.name(), m.params(), m.defaults(), m.body(), scope));
    } else if (stmt instanceof Node.CallBlock c) {
      Macro caller = new Macro("caller", c.params(), c.defaults(), c.body(), scope);
      Object fn = eval(c.call().function(), scope);
      List<Object> args = evalAll(c.call().args(), scope);
      Map<String, Object> kwargs = kwargs(c.call().kwNames(), c.call().kwValues(), scope);
      kwargs.put("caller", caller);
      write(Values.str(call(fn, args, kwargs, c.line())), c.line());
    } else if (stmt instanceof Node.Break) {
      return Signal.BREAK;
    } else if (stmt instanceof Node.Continue) {
      return Signal.CONTINUE;
    } else if (stmt instanceof Node.FilterBlock f) {
      String text = capture(f.body(), new Scope(scope));
      write(Values.str(applyFilters(f.filters(), text, scope)), f.line());
    } else if (stmt instanceof Node.Scoped w) {
      Scope inner = new Scope(scope);
      for (int k = 0; k < w.names().size(); k++) {
        inner.vars.put(w.names().get(k), eval(w.values().get(k), scope));
      }
      return exec(w.body(), inner);
    } else {
      throw new IllegalStateException("unknown statement " + stmt);
    }
    return Signal.NONE;
  }

  private void write(String s, int line) {
    if (out.length() + (long) s.length() > limits.maxOutputChars()) {
      throw new TemplateException.LimitExceeded("output exceeds " + limits.maxOutputChars()
          + " characters", line);
    }
    out.append(s);
  }

  /**
   * Renders {@code body} into a string instead of the output (block set, filter, macro); the
   * capture is bounded by the output limit like the output itself.
   */
  private String capture(List<Stmt> body, Scope scope) {
    StringBuilder saved = out;
    out = new StringBuilder();
    try {
      exec(body, scope);
      return out.toString();
    } finally {
      out = saved;
    }
  }

  private Signal forLoop(Node.For f, Scope scope) {
    List<Object> items = Values.iterate(eval(f.iterable(), scope), f.line());
    if (f.filter() != null) {
      List<Object> kept = new ArrayList<>();
      for (Object item : items) {
        Scope s = new Scope(scope);
        bind(f.targets(), f.unpack(), item, s, f.line());
        if (Values.truthy(eval(f.filter(), s))) {
          kept.add(item);
        }
        tick(f.line());
      }
      items = kept;
    }
    if (items.isEmpty()) {
      exec(f.orElse(), new Scope(scope));
      return Signal.NONE;
    }
    Loop previous = null;
    for (int i = 0; i < items.size(); i++) {
      tick(f.line());
      Scope s = new Scope(scope);
      bind(f.targets(), f.unpack(), items.get(i), s, f.line());
      Loop loop = new Loop(items, i);
      if (previous != null) {
        loop.lastChanged = previous.lastChanged;
      }
      previous = loop;
      s.vars.put("loop", loop);
      if (exec(f.body(), s) == Signal.BREAK) {
        break;
      }
    }
    return Signal.NONE;
  }

  private void tick(int line) {
    if (++iterations > limits.maxLoopIterations()) {
      throw new TemplateException.LimitExceeded("more than " + limits.maxLoopIterations()
          + " loop iterations", line);
    }
  }

  private void bind(List<String> names, boolean unpack, Object value, Scope scope, int line) {
    if (!unpack) {
      scope.vars.put(names.get(0), value);
      return;
    }
    List<Object> parts = Values.iterate(value, line);
    if (parts.size() != names.size()) {
      throw new TemplateException((parts.size() < names.size() ? "not enough" : "too many")
          + " values to unpack (expected " + names.size() + ", got " + parts.size() + ")", line);
    }
    for (int k = 0; k < names.size(); k++) {
      scope.vars.put(names.get(k), parts.get(k));
    }
  }

  private void set(Node.Set s, Scope scope) {
    Object value = eval(s.value(), scope);
    if (s.namespaceAttr() != null) {
      Object target = lookup(s.names().get(0), scope);
      if (!(target instanceof Namespace ns)) {
        throw new TemplateException("cannot assign attribute on non-namespace object ("
            + Values.typeName(target) + " '" + s.names().get(0) + "')", s.line());
      }
      ns.attributes.put(s.namespaceAttr(), value);
      return;
    }
    bind(s.names(), s.unpack(), value, scope, s.line());
  }

  // ---- expressions ----

  Object lookup(String name, Scope scope) {
    for (Scope s = scope; s != null; s = s.parent) {
      if (s.vars.containsKey(name)) {
        return s.vars.get(name);
      }
    }
    if (globals.containsKey(name)) {
      return globals.get(name);
    }
    return Undefined.name(name);
  }

  Object eval(Expr e, Scope scope) {
    if (e instanceof Node.Const c) {
      return c.value();
    } else if (e instanceof Node.Name n) {
      return lookup(n.name(), scope);
    } else if (e instanceof Node.Attr a) {
      return Access.attribute(this, eval(a.target(), scope), a.name(), a.line());
    } else if (e instanceof Node.Item i) {
      return Access.item(this, eval(i.target(), scope), eval(i.key(), scope), i.line());
    } else if (e instanceof Node.Slice s) {
      return Access.slice(eval(s.target(), scope), evalOrNull(s.start(), scope),
          evalOrNull(s.stop(), scope), evalOrNull(s.step(), scope), s.line());
    } else if (e instanceof Node.Call c) {
      return call(eval(c.function(), scope), evalAll(c.args(), scope),
          kwargs(c.kwNames(), c.kwValues(), scope), c.line());
    } else if (e instanceof Node.Filter f) {
      return Filters.apply(f.name(), eval(f.value(), scope), evalAll(f.args(), scope),
          kwargs(f.kwNames(), f.kwValues(), scope), this, f.line());
    } else if (e instanceof Node.Test t) {
      boolean r = Tests.apply(t.name(), eval(t.value(), scope), evalAll(t.args(), scope), this,
          t.line());
      return t.negated() != r;
    } else if (e instanceof Node.Unary u) {
      return unary(u, scope);
    } else if (e instanceof Node.Binary b) {
      return binary(b, scope);
    } else if (e instanceof Node.Compare c) {
      return compare(c, scope);
    } else if (e instanceof Node.CondExpr c) {
      return Values.truthy(eval(c.test(), scope)) ? eval(c.yes(), scope)
          : c.no() != null ? eval(c.no(), scope)
              : new Undefined("the conditional expression had no else branch");
    } else if (e instanceof Node.ListLit l) {
      return new ArrayList<>(evalAll(l.items(), scope));
    } else if (e instanceof Node.TupleLit t) {
      return PyTuple.of(evalAll(t.items(), scope));
    } else if (e instanceof Node.DictLit d) {
      Map<Object, Object> m = new LinkedHashMap<>();
      for (int k = 0; k < d.keys().size(); k++) {
        m.put(eval(d.keys().get(k), scope), eval(d.values().get(k), scope));
      }
      return m;
    }
    throw new IllegalStateException("unknown expression " + e);
  }

  private Object evalOrNull(Expr e, Scope scope) {
    return e == null ? null : eval(e, scope);
  }

  private List<Object> evalAll(List<Expr> exprs, Scope scope) {
    List<Object> out = new ArrayList<>(exprs.size());
    for (Expr e : exprs) {
      out.add(eval(e, scope));
    }
    return out;
  }

  private Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int k = 0; k < names.size(); k++) {
      out.put(names.get(k), eval(values.get(k), scope));
    }
    return out;
  }

  /** Applies a block's filter chain ({@code filter a | b}) to the block's text {@code input}. */
  private Object applyFilters(Expr chain, Object input, Scope scope) {
    if (!(chain instanceof Node.Filter f)) {
      throw new IllegalStateException("not a filter chain");
    }
    Object value = f.value() == null ? input : applyFilters(f.value(), input, scope);
    return Filters.apply(f.name(), value, evalAll(f.args(), scope),
        kwargs(f.kwNames(), f.kwValues(), scope), this, f.line());
  }

  Object call(Object fn, List<Object> args, Map<String, Object> kwargs, int line) {
    if (fn instanceof Undefined u) {
      throw u.error(line);
    }
    if (!(fn instanceof JinjaFunction f)) {
      throw new TemplateException("'" + Values.typeName(fn) + "' object is not callable", line);
    }
    if (++depth > limits.maxCallDepth()) {
      throw new TemplateException.LimitExceeded("calls nested more than "
          + limits.maxCallDepth() + " deep", line);
    }
    try {
      return f.call(this, args, kwargs, line);
    } finally {
      depth--;
    }
  }

  private Object unary(Node.Unary u, Scope scope) {
    Object v = eval(u.operand(), scope);
    return switch (u.op()) {
      case "not" -> !Values.truthy(v);
      case "-" -> Operators.negate(v, u.line());
      default -> Operators.plus(v, u.line());
    };
  }

  private Object binary(Node.Binary b, Scope scope) {
    switch (b.op()) {
      case "and" -> {
        Object l = eval(b.left(), scope);
        return Values.truthy(l) ? eval(b.right(), scope) : l;
      }
      case "or" -> {
        Object l = eval(b.left(), scope);
        return Values.truthy(l) ? l : eval(b.right(), scope);
      }
      default -> {
        Object l = eval(b.left(), scope);
        Object r = eval(b.right(), scope);
        return Operators.binary(b.op(), l, r, limits, b.line());
      }
    }
  }

  private Object compare(Node.Compare c, Scope scope) {
    Object left = eval(c.first(), scope);
    for (int k = 0; k < c.ops().size(); k++) {
      Object right = eval(c.operands().get(k), scope);
      String op = c.ops().get(k);
      boolean ok = switch (op) {
        case "==" -> Values.eq(left, right);
        case "!=" -> !Values.eq(left, right);
        case "<" -> Values.compare(left, right, op, c.line()) < 0;
        case "<=" -> Values.compare(left, right, op, c.line()) <= 0;
        case ">" -> Values.compare(left, right, op, c.line()) > 0;
        case ">=" -> Values.compare(left, right, op, c.line()) >= 0;
        case "in" -> Values.contains(right, left, c.line());
        case "notin" -> !Values.contains(right, left, c.line());
        default -> throw new IllegalStateException(op);
      };
      if (!ok) {
        return false;
      }
      left = right;
    }
    return true;
  }

  // ---- macros and loop attributes ----

  /** A macro: renders its body in a scope over the one it was defined in; returns the text. */
  private final class Macro implements JinjaFunction {
    private final String name;
    private final List<String> params;
    private final List<Expr> defaults;
    private final List<Stmt> body;
    private final Scope closure;

    Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, Scope closure) {
      this.name = name;
      this.params = params;
      this.defaults = defaults;
      this.body = body;
      this.closure = closure;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs, int line) {
      Scope s = new Scope(closure);
      Map<String, Object> extraKw = new LinkedHashMap<>(kwargs);
      int firstDefault = params.size() - defaults.size();
      for (int k = 0; k < params.size(); k++) {
        String p = params.get(k);
        if (k < args.size()) {
          s.vars.put(p, args.get(k));
        } else if (extraKw.containsKey(p)) {
          s.vars.put(p, extraKw.remove(p));
        } else if (k >= firstDefault) {
          s.vars.put(p, eval(defaults.get(k - firstDefault), s));
        } else {
          s.vars.put(p, new Undefined("parameter '" + p + "' of macro '" + name
              + "' was not provided"));
        }
      }
      s.vars.put("varargs", args.size() > params.size()
          ? new ArrayList<>(args.subList(params.size(), args.size())) : new ArrayList<>());
      Object caller = extraKw.remove("caller");
      if (caller != null) {
        s.vars.put("caller", caller);
      }
      s.vars.put("kwargs", new LinkedHashMap<Object, Object>(extraKw));
      return capture(body, s);
    }
  }

  /** {@code loop.*}: index, index0, revindex, revindex0, first, last, length, previtem, ... */
  Object loopAttribute(Loop loop, String name, int line) {
    int n = loop.items.size();
    int i = loop.index0;
    return switch (name) {
      case "index" -> (long) i + 1;
      case "index0" -> (long) i;
      case "revindex" -> (long) (n - i);
      case "revindex0" -> (long) (n - i - 1);
      case "first" -> i == 0;
      case "last" -> i == n - 1;
      case "length" -> (long) n;
      case "depth" -> 1L;
      case "depth0" -> 0L;
      case "previtem" -> i > 0 ? loop.items.get(i - 1)
          : new Undefined("there is no previous item");
      case "nextitem" -> i + 1 < n ? loop.items.get(i + 1)
          : new Undefined("there is no next item");
      case "cycle" -> new Builtins.Fn("cycle", (in, args, kw, l) -> {
        if (args.isEmpty()) {
          throw new TemplateException("no items for cycling given", l);
        }
        return args.get(i % args.size());
      });
      case "changed" -> new Builtins.Fn("changed", (in, args, kw, l) -> {
        Object value = PyTuple.of(args);
        if (loop.lastChanged == NO_VALUE || !Values.eq(loop.lastChanged, value)) {
          loop.lastChanged = value;
          return true;
        }
        return false;
      });
      default -> Undefined.attribute(loop, name);
    };
  }
}
