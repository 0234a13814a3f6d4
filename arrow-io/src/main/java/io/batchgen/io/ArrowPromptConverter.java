package io.batchgen.io;

import io.batchgen.io.RowAssembler.RawRow;
import io.batchgen.io.RowAssembler.RowProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FloatingPointVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ViewVarCharVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Turns Arrow record batches of a prompt table into {@link PromptRequest}s. This is the path for
 * Spark's {@code ColumnarBatch} (whose Arrow vectors a caller wraps in a {@link VectorSchemaRoot})
 * and for any Arrow IPC producer.
 *
 * <p>Accepted column types (see {@code docs/schemas.md}): the id is any Arrow integer or a string
 * ({@code Utf8}, {@code LargeUtf8}, {@code Utf8View}); {@code prompt} a string; {@code messages} a
 * list of struct with string fields {@code role} and {@code content};
 * {@code max_new_tokens}, {@code top_k}, {@code seed} integers; {@code temperature}, {@code top_p}
 * floating point or integer; {@code stop} a string or a list of strings. Other columns are
 * ignored. A missing or mistyped column throws {@link BadInputException} whatever the policy.
 *
 * <p>One converter per input stream: row numbers in errors continue across {@link #convert}
 * calls, and duplicate ids are detected across them. Not thread-safe. The converter copies what
 * it needs; the caller still owns (and closes) the record batches.
 */
public final class ArrowPromptConverter {

  private final RowAssembler assembler;
  private long nextRow;

  /**
   * @param source a name for error messages (a path, a Spark partition id); never prompt text
   */
  public ArrowPromptConverter(String source, PromptSchema schema, BadRowPolicy policy) {
    this.assembler = new RowAssembler(source, schema, policy);
  }

  /** Reads every row of {@code root}, in order. */
  public PromptBatch convert(VectorSchemaRoot root) {
    Columns cols = bind(root);
    int rows = root.getRowCount();
    for (int i = 0; i < rows; i++) {
      long rowNumber = nextRow + i;
      String id = null;
      try {
        id = cols.id(i);
        RawRow raw = new RawRow(id, cols.string(cols.prompt, cols.promptName, i),
            cols.messages(i), cols.overrides(i));
        assembler.accept(rowNumber, raw);
      } catch (RowProblem p) {
        assembler.reject(rowNumber, id, p);
      }
    }
    nextRow += rows;
    return assembler.drain();
  }

  /** Rows read so far, good and bad. */
  public long rowsRead() {
    return nextRow;
  }

  /**
   * Checks, before any row is read, that a table with {@code schema} can be read as prompts:
   * the same column checks as {@link #convert} makes on its first batch.
   *
   * @throws BadInputException naming the column, its type and the fix
   */
  public static void checkSchema(String source, org.apache.arrow.vector.types.pojo.Schema schema,
      PromptSchema promptSchema) {
    try (org.apache.arrow.memory.BufferAllocator allocator =
             new org.apache.arrow.memory.RootAllocator();
         VectorSchemaRoot empty = VectorSchemaRoot.create(schema, allocator)) {
      new ArrowPromptConverter(source, promptSchema, BadRowPolicy.FAIL).convert(empty);
    }
  }

  /** The id type of a prompt table with this Arrow schema; throws when the id column is bad. */
  public static IdType idType(org.apache.arrow.vector.types.pojo.Schema schema,
      PromptSchema promptSchema) {
    Field f = schema.getFields().stream()
        .filter(x -> x.getName().equals(promptSchema.idColumn())).findFirst()
        .orElseThrow(() -> missingId("Arrow schema", promptSchema.idColumn(), schema.getFields()));
    return switch (f.getType().getTypeID()) {
      case Int -> IdType.LONG;
      case Utf8, LargeUtf8, Utf8View -> IdType.STRING;
      default -> throw wrongIdType("Arrow schema", f);
    };
  }

  private Columns bind(VectorSchemaRoot root) {
    String source = assembler.source();
    PromptSchema s = assembler.schema();
    Columns c = new Columns();
    FieldVector id = root.getVector(s.idColumn());
    if (id == null) {
      throw missingId(source, s.idColumn(), root.getSchema().getFields());
    }
    if (!(id instanceof BaseIntVector) && !isString(id)) {
      throw wrongIdType(source, id.getField());
    }
    c.idColumn = id;
    c.idName = s.idColumn();
    c.prompt = root.getVector(s.promptColumn());
    c.promptName = s.promptColumn();
    c.messagesName = s.messagesColumn();
    FieldVector messages = root.getVector(s.messagesColumn());
    if (c.prompt == null && messages == null) {
      throw BadInputException.schema(source, s.promptColumn(), "neither a prompt column '"
          + s.promptColumn() + "' nor a messages column '" + s.messagesColumn()
          + "' exists; columns are " + names(root.getSchema().getFields())
          + ". Rename your text column, or set the prompt/messages column option to its name.");
    }
    if (c.prompt != null && !isString(c.prompt)) {
      throw wrongType(source, c.prompt.getField(), "a string",
          "Cast it to string upstream (e.g. col(\"" + s.promptColumn() + "\").cast(\"string\")).");
    }
    if (messages != null) {
      c.messages = messagesVector(source, messages);
    }
    c.maxNewTokens = intColumn(root, source, PromptSchema.MAX_NEW_TOKENS);
    c.topK = intColumn(root, source, PromptSchema.TOP_K);
    c.seed = intColumn(root, source, PromptSchema.SEED);
    c.temperature = numberColumn(root, source, PromptSchema.TEMPERATURE);
    c.topP = numberColumn(root, source, PromptSchema.TOP_P);
    FieldVector stop = root.getVector(PromptSchema.STOP);
    if (stop != null && !isString(stop)
        && !(stop instanceof ListVector lv && isString(lv.getDataVector()))) {
      throw wrongType(source, stop.getField(), "a string or a list of strings",
          "Cast it, e.g. to array<string>.");
    }
    c.stop = stop;
    return c;
  }

  private static ListVector messagesVector(String source, FieldVector v) {
    String expected = "array<struct<role:string,content:string>>";
    if (v instanceof ListVector list) {
      FieldVector data = list.getDataVector();
      if (data instanceof StructVector st) {
        FieldVector role = st.getChild(PromptSchema.ROLE);
        FieldVector content = st.getChild(PromptSchema.CONTENT);
        if (role != null && content != null && isString(role) && isString(content)) {
          return list;
        }
      }
    }
    throw wrongType(source, v.getField(), expected,
        "Build it as an array of structs with string fields 'role' and 'content'.");
  }

  private static FieldVector intColumn(VectorSchemaRoot root, String source, String name) {
    FieldVector v = root.getVector(name);
    if (v != null && !(v instanceof BaseIntVector)) {
      throw wrongType(source, v.getField(), "an integer",
          "Cast it, e.g. col(\"" + name + "\").cast(\"long\"), or drop the column.");
    }
    return v;
  }

  private static FieldVector numberColumn(VectorSchemaRoot root, String source, String name) {
    FieldVector v = root.getVector(name);
    if (v != null && !(v instanceof BaseIntVector) && !(v instanceof FloatingPointVector)) {
      throw wrongType(source, v.getField(), "a float, double or integer",
          "Cast it, e.g. col(\"" + name + "\").cast(\"double\"), or drop the column.");
    }
    return v;
  }

  static boolean isString(FieldVector v) {
    return v instanceof VarCharVector || v instanceof LargeVarCharVector
        || v instanceof ViewVarCharVector;
  }

  private static BadInputException missingId(String source, String idColumn, List<Field> fields) {
    return BadInputException.schema(source, idColumn, "the id column is missing; columns are "
        + names(fields) + ". Add a unique id column (long or string), or set the id column"
        + " option to the name of yours.");
  }

  private static BadInputException wrongIdType(String source, Field f) {
    return wrongType(source, f, "a long (any integer) or a string",
        "Cast it to long or string upstream.");
  }

  private static BadInputException wrongType(String source, Field f, String expected,
      String fix) {
    return BadInputException.schema(source, f.getName(), "the column has type " + typeName(f)
        + " but must be " + expected + ". " + fix);
  }

  /**
   * A column type as SQL users (Spark, Parquet tools) spell it: {@code string}, {@code double},
   * {@code array<struct<role:string,content:string>>}; the Arrow name for anything else.
   */
  static String typeName(Field f) {
    org.apache.arrow.vector.types.pojo.ArrowType t = f.getType();
    return switch (t.getTypeID()) {
      case Utf8, LargeUtf8, Utf8View -> "string";
      case Binary, LargeBinary, BinaryView, FixedSizeBinary -> "binary";
      case Bool -> "boolean";
      case Int -> {
        var i = (org.apache.arrow.vector.types.pojo.ArrowType.Int) t;
        String base = switch (i.getBitWidth()) {
          case 8 -> "tinyint";
          case 16 -> "smallint";
          case 32 -> "int";
          default -> "bigint";
        };
        yield i.getIsSigned() ? base : "unsigned " + base;
      }
      case FloatingPoint -> switch (((org.apache.arrow.vector.types.pojo.ArrowType.FloatingPoint) t)
          .getPrecision()) {
        case HALF -> "half";
        case SINGLE -> "float";
        case DOUBLE -> "double";
      };
      case Decimal -> {
        var d = (org.apache.arrow.vector.types.pojo.ArrowType.Decimal) t;
        yield "decimal(" + d.getPrecision() + "," + d.getScale() + ")";
      }
      case List, LargeList, FixedSizeList, ListView, LargeListView ->
          "array<" + (f.getChildren().isEmpty() ? "?" : typeName(f.getChildren().get(0))) + ">";
      case Struct -> f.getChildren().stream().map(c -> c.getName() + ":" + typeName(c))
          .collect(Collectors.joining(",", "struct<", ">"));
      default -> t.toString();
    };
  }

  private static String names(List<Field> fields) {
    return fields.stream().map(Field::getName).collect(Collectors.joining(", ", "[", "]"));
  }

  /** The vectors bound for one batch, with per-row accessors that throw {@link RowProblem}. */
  private static final class Columns {
    FieldVector idColumn;
    String idName;
    FieldVector prompt;
    String promptName;
    ListVector messages;
    String messagesName;
    FieldVector maxNewTokens;
    FieldVector topK;
    FieldVector seed;
    FieldVector temperature;
    FieldVector topP;
    FieldVector stop;

    String id(int i) {
      if (idColumn.isNull(i)) {
        return null;
      }
      if (idColumn instanceof BaseIntVector iv) {
        return Long.toString(iv.getValueAsLong(i));
      }
      return string(idColumn, idName, i);
    }

    String string(FieldVector v, String name, int i) {
      if (v == null || v.isNull(i)) {
        return null;
      }
      return RowAssembler.utf8(bytes(v, i), name);
    }

    static byte[] bytes(FieldVector v, int i) {
      if (v instanceof VarCharVector s) {
        return s.get(i);
      } else if (v instanceof LargeVarCharVector s) {
        return s.get(i);
      }
      return ((ViewVarCharVector) v).get(i);
    }

    List<ChatMessage> messages(int i) {
      if (messages == null || messages.isNull(i)) {
        return null;
      }
      StructVector st = (StructVector) messages.getDataVector();
      FieldVector role = st.getChild(PromptSchema.ROLE);
      FieldVector content = st.getChild(PromptSchema.CONTENT);
      int start = messages.getElementStartIndex(i);
      int end = messages.getElementEndIndex(i);
      List<ChatMessage> out = new ArrayList<>(end - start);
      for (int j = start; j < end; j++) {
        int k = j - start;
        if (st.isNull(j)) {
          throw new RowProblem(messagesName, "message " + k + " is null; drop it or give it a"
              + " role and content.");
        }
        String r = string(role, messagesName + "." + PromptSchema.ROLE, j);
        String c = string(content, messagesName + "." + PromptSchema.CONTENT, j);
        out.add(RowAssembler.chatMessage(messagesName, k, r, c));
      }
      return out;
    }

    GenerationOverrides overrides(int i) {
      Long maxNew = longOrNull(maxNewTokens, i);
      Long k = longOrNull(topK, i);
      return new GenerationOverrides(
          toInt(maxNew, PromptSchema.MAX_NEW_TOKENS), doubleOrNull(temperature, i),
          doubleOrNull(topP, i), toInt(k, PromptSchema.TOP_K), longOrNull(seed, i), stop(i));
    }

    private static Integer toInt(Long v, String column) {
      if (v == null) {
        return null;
      }
      if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
        throw new RowProblem(column, column + " is " + v + ", outside the int range; use a"
            + " value below " + Integer.MAX_VALUE + ".");
      }
      return v.intValue();
    }

    private static Long longOrNull(FieldVector v, int i) {
      return v == null || v.isNull(i) ? null : ((BaseIntVector) v).getValueAsLong(i);
    }

    private static Double doubleOrNull(FieldVector v, int i) {
      if (v == null || v.isNull(i)) {
        return null;
      }
      return v instanceof FloatingPointVector f ? f.getValueAsDouble(i)
          : (double) ((BaseIntVector) v).getValueAsLong(i);
    }

    private List<String> stop(int i) {
      if (stop == null || stop.isNull(i)) {
        return null;
      }
      if (isString(stop)) {
        return List.of(string(stop, PromptSchema.STOP, i));
      }
      ListVector lv = (ListVector) stop;
      FieldVector data = lv.getDataVector();
      List<String> out = new ArrayList<>();
      for (int j = lv.getElementStartIndex(i); j < lv.getElementEndIndex(i); j++) {
        out.add(string(data, PromptSchema.STOP, j)); // null elements are caught by validate()
      }
      return out;
    }
  }
}
