package io.batchgen.io;

import io.batchgen.io.RowAssembler.RawRow;
import io.batchgen.io.RowAssembler.RowProblem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Reads prompt rows from Parquet files, decoding only the id, prompt/messages and override
 * columns (a projection: other columns' pages are never read). Accepts the types of
 * {@code docs/schemas.md} in Parquet form: integers as INT32/INT64, strings as BINARY annotated
 * STRING, lists in the standard three-level LIST layout (and the legacy two-level one).
 *
 * <p>Created by {@link PromptDataset#openReader}. Call {@link #next} until it returns null, then
 * close. Duplicate ids are detected across all files of the reader. Not thread-safe.
 */
public final class ParquetPromptReader implements AutoCloseable {

  private final List<Path> files;
  private final Configuration conf;
  private final PromptSchema schema;
  private final RowAssembler assembler;
  private final int batchRows;
  private int fileIndex = -1;
  private ParquetReader<Group> current;
  private Binding binding;
  private IdType idType;
  private long rowInFile;

  ParquetPromptReader(List<Path> files, Configuration conf, PromptSchema schema,
      BadRowPolicy policy, int batchRows) {
    if (batchRows <= 0) {
      throw new IllegalArgumentException("batchRows must be > 0, got " + batchRows);
    }
    this.files = List.copyOf(files);
    this.conf = conf;
    this.schema = schema;
    this.batchRows = batchRows;
    this.assembler = new RowAssembler(files.isEmpty() ? "" : files.get(0).toString(), schema,
        policy);
  }

  /** The id type of the files read so far (null before the first {@link #next}). */
  public IdType idType() {
    return idType;
  }

  /** The next batch of up to {@code batchRows} rows, or null when every file is read. */
  public PromptBatch next() {
    int rows = 0;
    try {
      while (rows < batchRows) {
        if (current == null && !openNextFile()) {
          break;
        }
        Group g = current.read();
        if (g == null) {
          current.close();
          current = null;
          continue;
        }
        readRow(g);
        rows++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read prompts from [" + assembler.source() + "]: "
          + e.getMessage(), e);
    }
    return rows == 0 ? null : assembler.drain();
  }

  private void readRow(Group g) {
    long rowNumber = rowInFile++;
    String id = null;
    try {
      id = binding.id(g);
      assembler.accept(rowNumber, new RawRow(id, binding.string(g, binding.prompt),
          binding.messages(g), binding.overrides(g)));
    } catch (RowProblem p) {
      assembler.reject(rowNumber, id, p);
    }
  }

  private boolean openNextFile() throws IOException {
    if (fileIndex + 1 >= files.size()) {
      return false;
    }
    fileIndex++;
    Path file = files.get(fileIndex);
    String source = file.toString();
    assembler.source(source);
    rowInFile = 0;
    MessageType fileSchema;
    try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
      fileSchema = footer.getFooter().getFileMetaData().getSchema();
    }
    binding = Binding.bind(source, fileSchema, schema);
    if (idType != null && idType != binding.idType) {
      throw BadInputException.schema(source, schema.idColumn(), "the id column is " + binding.idType
          + " here but " + idType + " in earlier files. Give every file the same id type.");
    }
    idType = binding.idType;
    Configuration projected = new Configuration(conf);
    projected.set(ReadSupport.PARQUET_READ_SCHEMA, binding.projection.toString());
    current = ParquetReader.builder(new GroupReadSupport(), file).withConf(projected).build();
    return true;
  }

  @Override
  public void close() {
    if (current != null) {
      try {
        current.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot close [" + assembler.source() + "]", e);
      } finally {
        current = null;
      }
    }
  }

  /** Which needed columns a file has, their Parquet shapes, and the projection to read. */
  private static final class Binding {
    IdType idType;
    String idName;
    String prompt;
    String messages;
    String stop;
    boolean stopIsList;
    final List<String> ints = new ArrayList<>();
    final List<String> floats = new ArrayList<>();
    MessageType projection;

    static Binding bind(String source, MessageType file, PromptSchema s) {
      Binding b = new Binding();
      List<Type> keep = new ArrayList<>();
      if (!file.containsField(s.idColumn())) {
        throw BadInputException.schema(source, s.idColumn(), "the id column is missing; columns"
            + " are " + names(file) + ". Add a unique id column (long or string), or set the id"
            + " column option to the name of yours.");
      }
      Type id = file.getType(s.idColumn());
      if (isInt(id)) {
        b.idType = IdType.LONG;
      } else if (isString(id)) {
        b.idType = IdType.STRING;
      } else {
        throw wrongType(source, id, "a long (INT32/INT64) or a string (BINARY STRING)",
            "Cast it to long or string upstream.");
      }
      b.idName = s.idColumn();
      keep.add(id);
      if (file.containsField(s.promptColumn())) {
        Type t = file.getType(s.promptColumn());
        if (!isString(t)) {
          throw wrongType(source, t, "a string (BINARY STRING)", "Cast it to string upstream"
              + " (e.g. col(\"" + s.promptColumn() + "\").cast(\"string\")).");
        }
        b.prompt = s.promptColumn();
        keep.add(t);
      }
      if (file.containsField(s.messagesColumn())) {
        Type t = file.getType(s.messagesColumn());
        Type element = listElement(t);
        if (element == null || element.isPrimitive()
            || !element.asGroupType().containsField(PromptSchema.ROLE)
            || !element.asGroupType().containsField(PromptSchema.CONTENT)
            || !isString(element.asGroupType().getType(PromptSchema.ROLE))
            || !isString(element.asGroupType().getType(PromptSchema.CONTENT))) {
          throw wrongType(source, t, "array<struct<role:string,content:string>> (a LIST of"
              + " groups with STRING fields role and content)", "Build it as an array of"
              + " structs with string fields 'role' and 'content'.");
        }
        b.messages = s.messagesColumn();
        keep.add(t);
      }
      if (b.prompt == null && b.messages == null) {
        throw BadInputException.schema(source, s.promptColumn(), "neither a prompt column '"
            + s.promptColumn() + "' nor a messages column '" + s.messagesColumn() + "' exists;"
            + " columns are " + names(file) + ". Rename your text column, or set the"
            + " prompt/messages column option to its name.");
      }
      for (String name : new String[] {PromptSchema.MAX_NEW_TOKENS, PromptSchema.TOP_K,
          PromptSchema.SEED}) {
        if (file.containsField(name)) {
          Type t = file.getType(name);
          if (!isInt(t)) {
            throw wrongType(source, t, "an integer (INT32/INT64)", "Cast it, e.g. col(\""
                + name + "\").cast(\"long\"), or drop the column.");
          }
          b.ints.add(name);
          keep.add(t);
        }
      }
      for (String name : new String[] {PromptSchema.TEMPERATURE, PromptSchema.TOP_P}) {
        if (file.containsField(name)) {
          Type t = file.getType(name);
          if (!isInt(t) && !isFloat(t)) {
            throw wrongType(source, t, "a float, double or integer", "Cast it, e.g. col(\""
                + name + "\").cast(\"double\"), or drop the column.");
          }
          b.floats.add(name);
          keep.add(t);
        }
      }
      if (file.containsField(PromptSchema.STOP)) {
        Type t = file.getType(PromptSchema.STOP);
        Type element = listElement(t);
        if (isString(t)) {
          b.stopIsList = false;
        } else if (element != null && isString(element)) {
          b.stopIsList = true;
        } else {
          throw wrongType(source, t, "a string or a list of strings",
              "Cast it, e.g. to array<string>.");
        }
        b.stop = PromptSchema.STOP;
        keep.add(t);
      }
      b.projection = new MessageType(file.getName(), keep);
      return b;
    }

    String id(Group g) {
      if (g.getFieldRepetitionCount(idName) == 0) {
        return null;
      }
      if (idType == IdType.LONG) {
        return Long.toString(number(g, idName).longValue());
      }
      return string(g, idName);
    }

    String string(Group g, String field) {
      if (field == null || g.getFieldRepetitionCount(field) == 0) {
        return null;
      }
      return RowAssembler.utf8(g.getBinary(field, 0).getBytes(), field);
    }

    List<ChatMessage> messages(Group g) {
      if (messages == null || g.getFieldRepetitionCount(messages) == 0) {
        return null;
      }
      List<Group> elements = groupElements(g.getGroup(messages, 0));
      List<ChatMessage> out = new ArrayList<>(elements.size());
      for (int k = 0; k < elements.size(); k++) {
        Group e = elements.get(k);
        if (e == null) {
          throw new RowProblem(messages, "message " + k + " is null; drop it or give it a role"
              + " and content.");
        }
        String role = string(e, PromptSchema.ROLE);
        String content = string(e, PromptSchema.CONTENT);
        out.add(RowAssembler.chatMessage(messages, k, role, content));
      }
      return out;
    }

    GenerationOverrides overrides(Group g) {
      Long maxNew = ints.contains(PromptSchema.MAX_NEW_TOKENS)
          ? longOrNull(g, PromptSchema.MAX_NEW_TOKENS) : null;
      Long topK = ints.contains(PromptSchema.TOP_K) ? longOrNull(g, PromptSchema.TOP_K) : null;
      Long seed = ints.contains(PromptSchema.SEED) ? longOrNull(g, PromptSchema.SEED) : null;
      return new GenerationOverrides(toInt(maxNew, PromptSchema.MAX_NEW_TOKENS),
          doubleOrNull(g, PromptSchema.TEMPERATURE), doubleOrNull(g, PromptSchema.TOP_P),
          toInt(topK, PromptSchema.TOP_K), seed, stop(g));
    }

    private List<String> stop(Group g) {
      if (stop == null || g.getFieldRepetitionCount(stop) == 0) {
        return null;
      }
      if (!stopIsList) {
        return List.of(string(g, stop));
      }
      Group list = g.getGroup(stop, 0);
      List<String> out = new ArrayList<>();
      Type repeated = list.getType().getType(0);
      for (int j = 0; j < list.getFieldRepetitionCount(0); j++) {
        if (repeated.isPrimitive()) { // legacy two-level list
          out.add(RowAssembler.utf8(list.getBinary(0, j).getBytes(), stop));
        } else {
          Group rep = list.getGroup(0, j);
          out.add(rep.getFieldRepetitionCount(0) == 0 ? null
              : RowAssembler.utf8(rep.getBinary(0, 0).getBytes(), stop));
        }
      }
      return out;
    }

    /** The elements of a LIST group (three- or two-level); null for a null element. */
    private static List<Group> groupElements(Group list) {
      List<Group> out = new ArrayList<>();
      GroupType repeated = list.getType().getType(0).asGroupType();
      boolean threeLevel = isThreeLevel(repeated);
      for (int j = 0; j < list.getFieldRepetitionCount(0); j++) {
        Group rep = list.getGroup(0, j);
        if (threeLevel) {
          out.add(rep.getFieldRepetitionCount(0) == 0 ? null : rep.getGroup(0, 0));
        } else {
          out.add(rep);
        }
      }
      return out;
    }

    private Long longOrNull(Group g, String field) {
      return g.getFieldRepetitionCount(field) == 0 ? null : number(g, field).longValue();
    }

    private Double doubleOrNull(Group g, String field) {
      if (!floats.contains(field) || g.getFieldRepetitionCount(field) == 0) {
        return null;
      }
      return number(g, field).doubleValue();
    }

    private static Number number(Group g, String field) {
      PrimitiveTypeName t = g.getType().getType(field).asPrimitiveType().getPrimitiveTypeName();
      return switch (t) {
        case INT32 -> g.getInteger(field, 0);
        case INT64 -> g.getLong(field, 0);
        case FLOAT -> g.getFloat(field, 0);
        case DOUBLE -> g.getDouble(field, 0);
        default -> throw new IllegalStateException("not a number: " + t);
      };
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

    /** The element type of a LIST-annotated group, or null when {@code t} is not a list. */
    private static Type listElement(Type t) {
      if (t.isPrimitive() || t.isRepetition(Type.Repetition.REPEATED)
          || !(t.getLogicalTypeAnnotation()
              instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation)
          || t.asGroupType().getFieldCount() != 1) {
        return null;
      }
      Type repeated = t.asGroupType().getType(0);
      if (!repeated.isRepetition(Type.Repetition.REPEATED)) {
        return null;
      }
      if (repeated.isPrimitive()) {
        return repeated; // legacy: repeated binary element
      }
      return isThreeLevel(repeated.asGroupType()) ? repeated.asGroupType().getType(0) : repeated;
    }

    /** Standard layout: the repeated group wraps exactly one element field named element/item. */
    private static boolean isThreeLevel(GroupType repeated) {
      return repeated.getFieldCount() == 1
          && !repeated.getName().equals("array") && !repeated.getName().endsWith("_tuple")
          && !(repeated.getType(0).getName().equals(PromptSchema.ROLE));
    }

    private static boolean isInt(Type t) {
      if (!t.isPrimitive() || t.isRepetition(Type.Repetition.REPEATED)) {
        return false;
      }
      PrimitiveTypeName p = t.asPrimitiveType().getPrimitiveTypeName();
      LogicalTypeAnnotation a = t.getLogicalTypeAnnotation();
      return (p == PrimitiveTypeName.INT32 || p == PrimitiveTypeName.INT64)
          && (a == null || a instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation);
    }

    private static boolean isFloat(Type t) {
      return t.isPrimitive() && !t.isRepetition(Type.Repetition.REPEATED)
          && (t.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.FLOAT
          || t.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.DOUBLE);
    }

    private static boolean isString(Type t) {
      return t.isPrimitive() && !t.isRepetition(Type.Repetition.REPEATED)
          && t.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.BINARY
          && t.getLogicalTypeAnnotation()
              instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
    }

    private static BadInputException wrongType(String source, Type t, String expected,
        String fix) {
      return BadInputException.schema(source, t.getName(), "the column has Parquet type ["
          + t.toString().trim() + "] but must be " + expected + ". " + fix);
    }

    private static String names(MessageType file) {
      List<String> n = new ArrayList<>();
      for (Type t : file.getFields()) {
        n.add(t.getName());
      }
      return n.toString();
    }
  }
}
