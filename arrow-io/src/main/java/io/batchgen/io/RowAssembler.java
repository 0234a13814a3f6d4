package io.batchgen.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The one place where a row's raw values become a {@link PromptRequest}: null/blank checks,
 * range checks, duplicate ids, and the bad-row policy. Every reader (Arrow, Parquet, JSONL)
 * extracts raw values with its own accessors and hands them here, so all inputs fail alike.
 *
 * <p>Not thread-safe: one per reader.
 */
final class RowAssembler {

  /** What a reader extracted from one row; strings already decoded, nulls kept as null. */
  record RawRow(
      String id, String prompt, List<ChatMessage> messages, GenerationOverrides overrides) {}

  /** A problem with one row's value in one column; caught by the reader and passed to reject. */
  static final class RowProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String column;

    RowProblem(String column, String message) {
      super(message, null, false, false);
      this.column = column;
    }
  }

  /**
   * Message {@code k} of a chat column, checked the same way for every input format.
   *
   * @throws RowProblem naming {@code column} when the role is missing or the content is null
   */
  static ChatMessage chatMessage(String column, int k, String role, String content) {
    if (role == null || role.isBlank()) {
      throw new RowProblem(column, "message " + k + " has no role; set role to system, user or"
          + " assistant.");
    }
    if (content == null) {
      throw new RowProblem(column, "message " + k + " (" + role + ") has null content; use an"
          + " empty string for an empty turn.");
    }
    return new ChatMessage(role, content);
  }

  private String source;
  private final PromptSchema schema;
  private final BadRowPolicy policy;
  private final Set<String> seenIds;
  /** Whether rows are lines of a JSON Lines input (errors then name lines and fields). */
  private final boolean lines;
  private List<PromptRequest> requests = new ArrayList<>();
  private long[] requestRows = new long[16];
  private List<RowError> errors = new ArrayList<>();

  RowAssembler(String source, PromptSchema schema, BadRowPolicy policy) {
    this(source, schema, policy, false);
  }

  /** @param lines whether rows are lines of a JSON Lines input (see {@link RowError#line()}) */
  RowAssembler(String source, PromptSchema schema, BadRowPolicy policy, boolean lines) {
    this.source = source;
    this.schema = schema;
    this.policy = policy;
    this.seenIds = schema.checkDuplicateIds() ? new HashSet<>() : null;
    this.lines = lines;
  }

  String source() {
    return source;
  }

  /** Names the next rows' source (a reader moving to its next file keeps its duplicate set). */
  void source(String name) {
    this.source = name;
  }

  PromptSchema schema() {
    return schema;
  }

  /** Validates one row and adds it (or its error) to the current batch. */
  void accept(long rowNumber, RawRow raw) {
    String id = raw.id();
    if (id == null) {
      reject(rowNumber, null, new RowProblem(schema.idColumn(), "the id is null. Every row needs"
          + " a unique, non-null id because results are matched to prompts by id; fill the id"
          + " column or filter such rows out upstream."));
      return;
    }
    if (id.isEmpty()) {
      reject(rowNumber, null, new RowProblem(schema.idColumn(), "the id is an empty string."
          + " Every row needs a unique, non-empty id."));
      return;
    }
    if (raw.prompt() == null && raw.messages() == null) {
      reject(rowNumber, id, new RowProblem(schema.promptColumn(), "the row has neither prompt"
          + " text ('" + schema.promptColumn() + "') nor chat messages ('"
          + schema.messagesColumn() + "'). Set exactly one of them."));
      return;
    }
    if (raw.prompt() != null && raw.prompt().isBlank()) {
      reject(rowNumber, id, new RowProblem(schema.promptColumn(), "the prompt is "
          + (raw.prompt().isEmpty() ? "empty" : "only whitespace (" + raw.prompt().length()
          + " characters)") + ", so there is nothing to complete. Give the row prompt text, or"
          + " filter such rows out upstream."));
      return;
    }
    if (raw.prompt() != null && raw.messages() != null) {
      reject(rowNumber, id, new RowProblem(schema.messagesColumn(), "the row has both prompt"
          + " text ('" + schema.promptColumn() + "') and chat messages ('"
          + schema.messagesColumn() + "'). Set exactly one of them; the other must be null."));
      return;
    }
    if (raw.messages() != null && raw.messages().isEmpty()) {
      reject(rowNumber, id, new RowProblem(schema.messagesColumn(),
          "the chat message list is empty. Give at least one message, or null it and use '"
              + schema.promptColumn() + "'."));
      return;
    }
    String[] bad = raw.overrides().validate();
    if (bad != null) {
      reject(rowNumber, id, new RowProblem(bad[0], bad[1]
          + ". Fix the value, or set it null to use the job option."));
      return;
    }
    if (seenIds != null && !seenIds.add(id)) {
      reject(rowNumber, id, new RowProblem(schema.idColumn(), "the id [" + id + "] appeared"
          + " before in this input. Ids must be unique because results are matched to prompts by"
          + " id; de-duplicate the input (e.g. dropDuplicates on the id column)."));
      return;
    }
    if (requests.size() == requestRows.length) {
      requestRows = Arrays.copyOf(requestRows, requestRows.length * 2);
    }
    requestRows[requests.size()] = rowNumber;
    requests.add(new PromptRequest(id, raw.prompt(), raw.messages(), raw.overrides()));
  }

  /** Records a bad row, or throws under {@link BadRowPolicy#FAIL}. */
  void reject(long rowNumber, String id, RowProblem problem) {
    RowError error = new RowError(source, rowNumber, id, problem.column, problem.getMessage(),
        lines);
    if (policy == BadRowPolicy.FAIL) {
      throw BadInputException.row(error);
    }
    errors.add(error);
  }

  /** The rows accepted or rejected since the last drain, in order; starts a new batch. */
  PromptBatch drain() {
    PromptBatch batch = new PromptBatch(requests, errors,
        Arrays.copyOf(requestRows, requests.size()));
    requests = new ArrayList<>();
    errors = new ArrayList<>();
    return batch;
  }

  /**
   * Decodes strict UTF-8, reporting the offset of the first bad byte. Java's {@code new String}
   * would silently replace bad bytes with U+FFFD, changing the prompt.
   */
  static String utf8(byte[] bytes, String column) {
    if (bytes == null) {
      return null;
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isError()) {
      int at = in.position();
      throw new RowProblem(column, "the value is not valid UTF-8 (bad byte 0x"
          + String.format("%02X", bytes[at] & 0xFF) + " at byte offset " + at + " of "
          + bytes.length + "). Re-encode the column as UTF-8 text upstream.");
    }
    decoder.flush(out);
    out.flip();
    return out.toString();
  }
}
