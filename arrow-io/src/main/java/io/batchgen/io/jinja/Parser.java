package io.batchgen.io.jinja;

import io.batchgen.io.jinja.Lexer.Token;
import io.batchgen.io.jinja.Lexer.Type;
import io.batchgen.io.jinja.Node.Expr;
import io.batchgen.io.jinja.Node.Stmt;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser for the Jinja2 subset chat templates use, with Jinja2's grammar and
 * operator precedence (filters bind tighter than arithmetic: {@code 'a' + x | trim} trims x).
 * Tags: if/elif/else, for (with loop filter and else), set (plain, unpacking, namespace
 * attribute, block), macro, call, filter, with, generation, break, continue. Template
 * composition (include, import, extends, block) is not supported: a chat template is one file.
 */
final class Parser {
  private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", ">", "<=", ">=");

  private final List<Token> tokens;
  private int pos;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  static List<Stmt> parse(String source) {
    Parser p = new Parser(Lexer.tokenize(source));
    List<Stmt> body = p.statements(Set.of());
    if (p.peek().type() != Type.EOF) {
      Token t = p.peek(1);
      throw new TemplateException("unexpected '" + t.value() + "' tag", t.line());
    }
    return body;
  }

  // ---- token helpers ----

  private Token peek() {
    return tokens.get(pos);
  }

  private Token peek(int ahead) {
    return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(pos);
    if (t.type() != Type.EOF) {
      pos++;
    }
    return t;
  }

  private boolean skipOp(String op) {
    if (peek().isOp(op)) {
      pos++;
      return true;
    }
    return false;
  }

  private boolean skipName(String name) {
    if (peek().isName(name)) {
      pos++;
      return true;
    }
    return false;
  }

  private Token expectOp(String op) {
    Token t = next();
    if (!t.isOp(op)) {
      throw new TemplateException("expected '" + op + "', got " + t, t.line());
    }
    return t;
  }

  private String expectName() {
    Token t = next();
    if (t.type() != Type.NAME) {
      throw new TemplateException("expected a name, got " + t, t.line());
    }
    return t.value();
  }

  private void expectBlockEnd() {
    Token t = next();
    if (t.type() != Type.BLOCK_END) {
      throw new TemplateException("expected end of tag '%}', got " + t, t.line());
    }
  }

  // ---- statements ----

  /** Statements until a block tag whose name is in {@code ends} (left unconsumed) or EOF. */
  private List<Stmt> statements(Set<String> ends) {
    List<Stmt> out = new ArrayList<>();
    while (true) {
      Token t = peek();
      switch (t.type()) {
        case EOF -> {
          if (!ends.isEmpty()) {
            throw new TemplateException("unexpected end of template; expected one of "
                + ends.stream().sorted().toList(), t.line());
          }
          return out;
        }
        case TEXT -> {
          next();
          out.add(new Node.Text(t.value(), t.line()));
        }
        case VAR_BEGIN -> {
          next();
          Expr e = tuple(true, Set.of(), false);
          Token end = next();
          if (end.type() != Type.VAR_END) {
            throw new TemplateException("expected end of expression '}}', got " + end,
                end.line());
          }
          out.add(new Node.Output(e, t.line()));
        }
        case BLOCK_BEGIN -> {
          Token name = peek(1);
          if (name.type() == Type.NAME && ends.contains(name.value())) {
            return out;
          }
          next();
          out.add(tag());
        }
        default -> throw new TemplateException("unexpected " + t, t.line());
      }
    }
  }

  /** After {@code {%}: one tag statement. */
  private Stmt tag() {
    Token t = next();
    if (t.type() != Type.NAME) {
      throw new TemplateException("expected a tag name, got " + t, t.line());
    }
    int line = t.line();
    return switch (t.value()) {
      case "if" -> ifTag(line);
      case "for" -> forTag(line);
      case "set" -> setTag(line);
      case "macro" -> macroTag(line);
      case "call" -> callTag(line);
      case "filter" -> filterTag(line);
      case "with" -> withTag(line);
      case "generation" -> {
        expectBlockEnd();
        List<Stmt> body = statements(Set.of("endgeneration"));
        endTag("endgeneration");
        yield new Node.Scoped(List.of(), List.of(), body, line);
      }
      case "break" -> {
        expectBlockEnd();
        yield new Node.Break(line);
      }
      case "continue" -> {
        expectBlockEnd();
        yield new Node.Continue(line);
      }
      case "include", "import", "from", "extends", "block" -> throw new TemplateException("tag '"
          + t.value() + "' is not supported: a chat template is rendered on its own, without"
          + " other templates", line);
      default -> throw new TemplateException("unknown tag '" + t.value() + "'", line);
    };
  }

  /** Consumes {@code {% name %}}. */
  private void endTag(String name) {
    next(); // {%
    Token t = next();
    if (!t.isName(name)) {
      throw new TemplateException("expected '" + name + "', got " + t, t.line());
    }
    expectBlockEnd();
  }

  private Stmt ifTag(int line) {
    List<Expr> conditions = new ArrayList<>();
    List<List<Stmt>> bodies = new ArrayList<>();
    conditions.add(tuple(true, Set.of(), false));
    expectBlockEnd();
    while (true) {
      bodies.add(statements(Set.of("elif", "else", "endif")));
      next(); // {%
      String which = expectName();
      if (which.equals("elif")) {
        conditions.add(tuple(true, Set.of(), false));
        expectBlockEnd();
      } else if (which.equals("else")) {
        expectBlockEnd();
        List<Stmt> orElse = statements(Set.of("endif"));
        endTag("endif");
        return new Node.If(conditions, bodies, orElse, line);
      } else {
        expectBlockEnd();
        return new Node.If(conditions, bodies, List.of(), line);
      }
    }
  }

  private Stmt forTag(int line) {
    List<String> targets = new ArrayList<>();
    boolean unpack = assignTargets(targets, "in");
    if (!skipName("in")) {
      throw new TemplateException("expected 'in' in for loop, got " + peek(), peek().line());
    }
    Expr iterable = tuple(false, Set.of("recursive"), false);
    Expr filter = null;
    if (skipName("if")) {
      filter = expression(true);
    }
    if (skipName("recursive")) {
      throw new TemplateException("recursive for loops are not supported", line);
    }
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endfor", "else"));
    List<Stmt> orElse = List.of();
    next();
    if (expectName().equals("else")) {
      expectBlockEnd();
      orElse = statements(Set.of("endfor"));
      endTag("endfor");
    } else {
      expectBlockEnd();
    }
    return new Node.For(List.copyOf(targets), unpack, iterable, filter, body, orElse, line);
  }

  /** Names of an assignment target ({@code a}, {@code a, b}, {@code (a, b)}); true when a tuple. */
  private boolean assignTargets(List<String> names, String endName) {
    boolean paren = skipOp("(");
    boolean tuple = paren;
    while (true) {
      names.add(expectName());
      if (!skipOp(",")) {
        break;
      }
      tuple = true;
      if (peek().isOp(")") || peek().isName(endName) || peek().isOp("=")) {
        break;
      }
    }
    if (paren) {
      expectOp(")");
    }
    return tuple;
  }

  private Stmt setTag(int line) {
    if (peek().type() == Type.NAME && peek(1).isOp(".")) {
      String ns = expectName();
      next();
      String attr = expectName();
      expectOp("=");
      Expr value = tuple(true, Set.of(), false);
      expectBlockEnd();
      return new Node.Set(List.of(ns), false, attr, value, line);
    }
    List<String> names = new ArrayList<>();
    boolean unpack = assignTargets(names, "");
    if (skipOp("=")) {
      Expr value = tuple(true, Set.of(), false);
      expectBlockEnd();
      return new Node.Set(List.copyOf(names), unpack, null, value, line);
    }
    if (unpack || names.size() != 1) {
      throw new TemplateException("a block 'set' assigns exactly one name", line);
    }
    Expr filters = null;
    if (peek().isOp("|")) {
      filters = filterChain(null);
    }
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endset"));
    endTag("endset");
    return new Node.SetBlock(names.get(0), body, filters, line);
  }

  private Stmt macroTag(int line) {
    String name = expectName();
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    signature(params, defaults);
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endmacro"));
    endTag("endmacro");
    return new Node.Macro(name, List.copyOf(params), List.copyOf(defaults), body, line);
  }

  /** {@code (a, b=1)}; defaults are for the last parameters, as in Python. */
  private void signature(List<String> params, List<Expr> defaults) {
    expectOp("(");
    while (!peek().isOp(")")) {
      if (!params.isEmpty()) {
        expectOp(",");
        if (peek().isOp(")")) {
          break;
        }
      }
      Token p = peek();
      params.add(expectName());
      if (skipOp("=")) {
        defaults.add(expression(true));
      } else if (!defaults.isEmpty()) {
        throw new TemplateException("parameter '" + p.value()
            + "' without a default follows one with a default", p.line());
      }
    }
    expectOp(")");
  }

  private Stmt callTag(int line) {
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    if (peek().isOp("(")) {
      signature(params, defaults);
    }
    Expr call = expression(true);
    if (!(call instanceof Node.Call c)) {
      throw new TemplateException("'call' needs a macro call, e.g. {% call m() %}", line);
    }
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endcall"));
    endTag("endcall");
    return new Node.CallBlock(c, List.copyOf(params), List.copyOf(defaults), body, line);
  }

  private Stmt filterTag(int line) {
    Expr filters = filterChain(null, true);
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endfilter"));
    endTag("endfilter");
    return new Node.FilterBlock(filters, body, line);
  }

  private Stmt withTag(int line) {
    List<String> names = new ArrayList<>();
    List<Expr> values = new ArrayList<>();
    while (peek().type() != Type.BLOCK_END) {
      if (!names.isEmpty()) {
        expectOp(",");
      }
      names.add(expectName());
      expectOp("=");
      values.add(expression(true));
    }
    expectBlockEnd();
    List<Stmt> body = statements(Set.of("endwith"));
    endTag("endwith");
    return new Node.Scoped(List.copyOf(names), List.copyOf(values), body, line);
  }

  // ---- expressions ----

  /**
   * Jinja2's parse_tuple: one expression, or a tuple when commas separate several. Ends at a tag
   * end, a closing parenthesis or a name in {@code endNames}.
   */
  private Expr tuple(boolean withCondExpr, Set<String> endNames, boolean explicitParens) {
    int line = peek().line();
    List<Expr> items = new ArrayList<>();
    boolean isTuple = false;
    while (true) {
      if (!items.isEmpty()) {
        expectOp(",");
      }
      Token t = peek();
      if (t.type() == Type.VAR_END || t.type() == Type.BLOCK_END || t.isOp(")")
          || (t.type() == Type.NAME && endNames.contains(t.value()))) {
        break;
      }
      items.add(expression(withCondExpr));
      if (peek().isOp(",")) {
        isTuple = true;
      } else {
        break;
      }
    }
    if (!isTuple) {
      if (!items.isEmpty()) {
        return items.get(0);
      }
      if (!explicitParens) {
        throw new TemplateException("expected an expression, got " + peek(), line);
      }
    }
    return new Node.TupleLit(List.copyOf(items), line);
  }

  private Expr expression(boolean withCondExpr) {
    return withCondExpr ? condExpr() : or();
  }

  private Expr condExpr() {
    Expr expr = or();
    while (peek().isName("if")) {
      int line = next().line();
      Expr test = or();
      Expr no = null;
      if (skipName("else")) {
        no = condExpr();
      }
      expr = new Node.CondExpr(test, expr, no, line);
    }
    return expr;
  }

  private Expr or() {
    Expr left = and();
    while (peek().isName("or")) {
      int line = next().line();
      left = new Node.Binary("or", left, and(), line);
    }
    return left;
  }

  private Expr and() {
    Expr left = not();
    while (peek().isName("and")) {
      int line = next().line();
      left = new Node.Binary("and", left, not(), line);
    }
    return left;
  }

  private Expr not() {
    if (peek().isName("not")) {
      int line = next().line();
      return new Node.Unary("not", not(), line);
    }
    return compare();
  }

  private Expr compare() {
    int line = peek().line();
    Expr first = math1();
    List<String> ops = new ArrayList<>();
    List<Expr> operands = new ArrayList<>();
    while (true) {
      Token t = peek();
      if (t.type() == Type.OP && COMPARE_OPS.contains(t.value())) {
        next();
        ops.add(t.value());
      } else if (t.isName("in")) {
        next();
        ops.add("in");
      } else if (t.isName("not") && peek(1).isName("in")) {
        next();
        next();
        ops.add("notin");
      } else {
        break;
      }
      operands.add(math1());
    }
    return ops.isEmpty() ? first
        : new Node.Compare(first, List.copyOf(ops), List.copyOf(operands), line);
  }

  private Expr math1() {
    Expr left = concat();
    while (peek().isOp("+") || peek().isOp("-")) {
      Token op = next();
      left = new Node.Binary(op.value(), left, concat(), op.line());
    }
    return left;
  }

  private Expr concat() {
    Expr left = math2();
    while (peek().isOp("~")) {
      Token op = next();
      left = new Node.Binary("~", left, math2(), op.line());
    }
    return left;
  }

  private Expr math2() {
    Expr left = pow();
    while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
      Token op = next();
      left = new Node.Binary(op.value(), left, pow(), op.line());
    }
    return left;
  }

  private Expr pow() {
    Expr left = unary(true);
    while (peek().isOp("**")) {
      Token op = next();
      left = new Node.Binary("**", left, unary(true), op.line());
    }
    return left;
  }

  private Expr unary(boolean withFilter) {
    Token t = peek();
    Expr node;
    if (t.isOp("-") || t.isOp("+")) {
      next();
      node = new Node.Unary(t.value(), unary(false), t.line());
    } else {
      node = primary();
    }
    node = postfix(node);
    return withFilter ? filterExpr(node) : node;
  }

  private Expr primary() {
    Token t = next();
    int line = t.line();
    switch (t.type()) {
      case NAME -> {
        return switch (t.value()) {
          case "true", "True" -> new Node.Const(Boolean.TRUE, line);
          case "false", "False" -> new Node.Const(Boolean.FALSE, line);
          case "none", "None" -> new Node.Const(null, line);
          default -> new Node.Name(t.value(), line);
        };
      }
      case STRING -> {
        StringBuilder sb = new StringBuilder(t.value());
        while (peek().type() == Type.STRING) {
          sb.append(next().value());
        }
        return new Node.Const(sb.toString(), line);
      }
      case INT -> {
        try {
          return new Node.Const(Long.parseLong(t.value()), line);
        } catch (NumberFormatException e) {
          throw new TemplateException("integer literal " + t.value() + " is too large", line);
        }
      }
      case FLOAT -> {
        return new Node.Const(Double.parseDouble(t.value()), line);
      }
      case OP -> {
        switch (t.value()) {
          case "(" -> {
            Expr e = tuple(true, Set.of(), true);
            expectOp(")");
            return e;
          }
          case "[" -> {
            List<Expr> items = new ArrayList<>();
            while (!peek().isOp("]")) {
              if (!items.isEmpty()) {
                expectOp(",");
                if (peek().isOp("]")) {
                  break;
                }
              }
              items.add(expression(true));
            }
            expectOp("]");
            return new Node.ListLit(List.copyOf(items), line);
          }
          case "{" -> {
            List<Expr> keys = new ArrayList<>();
            List<Expr> values = new ArrayList<>();
            while (!peek().isOp("}")) {
              if (!keys.isEmpty()) {
                expectOp(",");
                if (peek().isOp("}")) {
                  break;
                }
              }
              keys.add(expression(true));
              expectOp(":");
              values.add(expression(true));
            }
            expectOp("}");
            return new Node.DictLit(List.copyOf(keys), List.copyOf(values), line);
          }
          default -> {
            // fall through to the error below
          }
        }
      }
      default -> {
        // fall through to the error below
      }
    }
    throw new TemplateException("unexpected " + t + " in expression", line);
  }

  private Expr postfix(Expr node) {
    while (true) {
      Token t = peek();
      if (t.isOp(".")) {
        next();
        Token attr = next();
        if (attr.type() == Type.NAME) {
          node = new Node.Attr(node, attr.value(), attr.line());
        } else if (attr.type() == Type.INT) {
          node = new Node.Item(node, new Node.Const(Long.parseLong(attr.value()), attr.line()),
              attr.line());
        } else {
          throw new TemplateException("expected an attribute name after '.', got " + attr,
              attr.line());
        }
      } else if (t.isOp("[")) {
        next();
        node = subscript(node, t.line());
        expectOp("]");
      } else if (t.isOp("(")) {
        node = call(node);
      } else {
        return node;
      }
    }
  }

  private Expr subscript(Expr target, int line) {
    Expr start = null;
    if (!peek().isOp(":")) {
      Expr key = expression(true);
      if (!peek().isOp(":")) {
        return new Node.Item(target, key, line);
      }
      start = key;
    }
    expectOp(":");
    Expr stop = null;
    if (!peek().isOp(":") && !peek().isOp("]")) {
      stop = expression(true);
    }
    Expr step = null;
    if (skipOp(":") && !peek().isOp("]")) {
      step = expression(true);
    }
    return new Node.Slice(target, start, stop, step, line);
  }

  private Node.Call call(Expr function) {
    int line = expectOp("(").line();
    List<Expr> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Expr> kwValues = new ArrayList<>();
    callArgs(args, kwNames, kwValues);
    return new Node.Call(function, List.copyOf(args), List.copyOf(kwNames),
        List.copyOf(kwValues), line);
  }

  /** After {@code (}: arguments up to and including {@code )}. */
  private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
    boolean first = true;
    while (!peek().isOp(")")) {
      if (!first) {
        expectOp(",");
        if (peek().isOp(")")) {
          break;
        }
      }
      first = false;
      if (peek().isOp("*") || peek().isOp("**")) {
        throw new TemplateException("*args and **kwargs in calls are not supported",
            peek().line());
      }
      if (peek().type() == Type.NAME && peek(1).isOp("=")) {
        kwNames.add(next().value());
        next();
        kwValues.add(expression(true));
      } else {
        if (!kwNames.isEmpty()) {
          throw new TemplateException("positional argument follows keyword argument",
              peek().line());
        }
        args.add(expression(true));
      }
    }
    expectOp(")");
  }

  private Expr filterExpr(Expr node) {
    while (true) {
      if (peek().isOp("|")) {
        node = filterChain(node);
      } else if (peek().isName("is")) {
        node = test(node);
      } else if (peek().isOp("(")) {
        node = call(node);
      } else {
        return node;
      }
    }
  }

  private Expr filterChain(Expr value) {
    return filterChain(value, false);
  }

  /** {@code | f(args) | g ...}; a filter block starts without the first {@code |}. */
  private Expr filterChain(Expr value, boolean startsBare) {
    boolean first = true;
    while (peek().isOp("|") || (first && startsBare)) {
      if (!(first && startsBare)) {
        next();
      }
      first = false;
      Token name = next();
      if (name.type() != Type.NAME) {
        throw new TemplateException("expected a filter name after '|', got " + name,
            name.line());
      }
      String fullName = name.value();
      while (peek().isOp(".")) {
        next();
        fullName += "." + expectName();
      }
      List<Expr> args = new ArrayList<>();
      List<String> kwNames = new ArrayList<>();
      List<Expr> kwValues = new ArrayList<>();
      if (skipOp("(")) {
        callArgs(args, kwNames, kwValues);
      }
      value = new Node.Filter(value, fullName, List.copyOf(args), List.copyOf(kwNames),
          List.copyOf(kwValues), name.line());
    }
    return value;
  }

  private Expr test(Expr value) {
    int line = next().line(); // is
    boolean negated = skipName("not");
    Token name = next();
    if (name.type() != Type.NAME) {
      throw new TemplateException("expected a test name after 'is', got " + name, name.line());
    }
    String fullName = name.value();
    while (peek().isOp(".")) {
      next();
      fullName += "." + expectName();
    }
    List<Expr> args = new ArrayList<>();
    Token t = peek();
    if (t.isOp("(")) {
      List<String> kwNames = new ArrayList<>();
      next();
      callArgs(args, kwNames, new ArrayList<>());
      if (!kwNames.isEmpty()) {
        throw new TemplateException("keyword arguments to tests are not supported", line);
      }
    } else if ((t.type() == Type.NAME || t.type() == Type.STRING || t.type() == Type.INT
        || t.type() == Type.FLOAT || t.isOp("(") || t.isOp("[") || t.isOp("{"))
        && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
      if (t.isName("is")) {
        throw new TemplateException("tests cannot be chained with 'is'", t.line());
      }
      args.add(postfix(primary()));
    }
    return new Node.Test(value, fullName, List.copyOf(args), negated, line);
  }
}
