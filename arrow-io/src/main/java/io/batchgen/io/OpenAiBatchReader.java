package io.batchgen.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchgen.io.RowAssembler.RawRow;
import io.batchgen.io.RowAssembler.RowProblem;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the OpenAI batch-API input layout (JSON Lines, one request per line), as accepted by
 * OpenAI's Batch API and vLLM's {@code run-batch}:
 * <pre>
 * {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
 *  "body": {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64}}
 * </pre>
 * {@code custom_id} becomes the id; {@code body.messages} (chat) or {@code body.prompt}
 * ({@code /v1/completions}) the prompt; {@code max_completion_tokens} (or {@code max_tokens}),
 * {@code temperature}, {@code top_p}, {@code top_k}, {@code seed} and {@code stop} the per-row
 * overrides. {@code body.model} is ignored (the job's model answers). Message content may be a
 * string or a list of {@code {"type": "text", "text": …}} parts, joined with newlines.
 * Unsupported requests ({@code n} other than 1, {@code stream: true}, non-text content, prompt
 * arrays) are bad rows, never silently changed.
 *
 * <p>Row numbers in errors are 0-based line indexes ({@link RowError#line()} is set, so messages
 * say the 1-based line). Blank lines are skipped. A reader can start in the middle of a file
 * ({@code firstLine}: the index of the stream's first line), and lines held elsewhere, such as a
 * DataFrame column of request lines, are read with {@link #forLines}. Not thread-safe; the
 * caller closes the stream.
 */
public final class OpenAiBatchReader {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The id field; JSONL has no column options. */
  public static final String CUSTOM_ID = "custom_id";

  private final InputStream in;
  private final RowAssembler assembler;
  private long line;
  private boolean eof;

  /**
   * A reader of a whole file whose ids must be unique within it.
   *
   * @param source a name for error messages (the file's path)
   */
  public OpenAiBatchReader(InputStream in, String source, BadRowPolicy policy) {
    this(in, source, policy, 0, true);
  }

  /**
   * @param in                the lines, from line {@code firstLine} of the file on
   * @param source            a name for error messages (the file's path)
   * @param firstLine         0-based index of the stream's first line in the file
   * @param checkDuplicateIds whether a repeated custom_id is a bad line (one hash-set entry a
   *                          line; a caller that checks the whole dataset turns it off)
   */
  public OpenAiBatchReader(InputStream in, String source, BadRowPolicy policy, long firstLine,
      boolean checkDuplicateIds) {
    this.in = in == null ? null : new BufferedInputStream(in, 1 << 16);
    this.assembler = new RowAssembler(source, new PromptSchema(CUSTOM_ID, "body.prompt",
        "body.messages", checkDuplicateIds), policy, true);
    this.line = firstLine;
  }

  /**
   * A reader for request lines the caller holds: {@link #add} each line with its index, then
   * {@link #drain} the batch.
   */
  public static OpenAiBatchReader forLines(String source, BadRowPolicy policy,
      boolean checkDuplicateIds) {
    return new OpenAiBatchReader(null, source, policy, 0, checkDuplicateIds);
  }

  /**
   * Reads one request line (UTF-8 bytes, without its line break) into the current batch: a
   * request, or a bad line (thrown under {@link BadRowPolicy#FAIL}); a blank line is a bad line
   * here (a stream reader skips blank lines before they get here).
   *
   * @param lineIndex the line's 0-based index in its file, for messages
   */
  public void add(long lineIndex, byte[] utf8) {
    String id = null;
    try {
      String text = RowAssembler.utf8(utf8, "line");
      JsonNode request = parse(text, lineIndex);
      id = customId(request);
      assembler.accept(lineIndex, toRow(id, request));
    } catch (RowProblem p) {
      assembler.reject(lineIndex, id, p);
    }
  }

  /** The lines read since the last drain, as one batch; starts a new one. */
  public PromptBatch drain() {
    return assembler.drain();
  }

  /** The next batch of up to {@code maxRows} non-blank lines, or null at the end. */
  public PromptBatch next(int maxRows) {
    return next(maxRows, Long.MAX_VALUE);
  }

  /**
   * The next batch of up to {@code maxRows} non-blank lines before line {@code endLine}
   * (exclusive), or null when no such line is left: for reading one slice of a file.
   */
  public PromptBatch next(int maxRows, long endLine) {
    if (in == null) {
      throw new IllegalStateException("A reader made by forLines has no stream; use add/drain");
    }
    int rows = 0;
    while (rows < maxRows && !eof && line < endLine) {
      byte[] bytes = readLine();
      if (bytes == null) {
        break;
      }
      long rowNumber = line++;
      if (!isBlank(bytes)) {
        rows++;
        add(rowNumber, bytes);
      }
    }
    return rows == 0 ? null : assembler.drain();
  }

  /** Index of the next line to read. */
  public long nextLine() {
    return line;
  }

  /** Reads every remaining line into one batch (for small files and tests). */
  public PromptBatch readAll() {
    List<PromptRequest> requests = new ArrayList<>();
    List<RowError> errors = new ArrayList<>();
    for (PromptBatch b = next(4096); b != null; b = next(4096)) {
      requests.addAll(b.requests());
      errors.addAll(b.errors());
    }
    return new PromptBatch(requests, errors);
  }

  private byte[] readLine() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    try {
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        buf.write(b);
      }
      if (b == -1) {
        eof = true;
        if (buf.size() == 0) {
          return null;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read batch input [" + assembler.source() + "]: "
          + e.getMessage(), e);
    }
    byte[] bytes = buf.toByteArray();
    int n = bytes.length;
    return n > 0 && bytes[n - 1] == '\r' ? java.util.Arrays.copyOf(bytes, n - 1) : bytes;
  }

  private static boolean isBlank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  private static JsonNode parse(String text, long rowNumber) {
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || !node.isObject()) {
        throw new RowProblem("line", "the line is not a JSON object."
            + " Each line must be one request object.");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new RowProblem("line", "the line is not valid JSON ("
          + e.getOriginalMessage() + "). Each line must be one complete JSON object.");
    }
  }

  private static String customId(JsonNode request) {
    JsonNode id = request.get(CUSTOM_ID);
    if (id == null || id.isNull()) {
      return null; // the assembler reports the null id
    }
    if (!id.isTextual()) {
      throw new RowProblem("custom_id", "custom_id must be a string, got " + id.getNodeType()
          + ". Quote it.");
    }
    return id.asText();
  }

  private static RawRow toRow(String id, JsonNode request) {
    JsonNode method = request.get("method");
    if (method != null && !"POST".equals(method.asText())) {
      throw new RowProblem("method", "method is " + method + "; only POST is supported.");
    }
    JsonNode body = request.get("body");
    if (body == null || !body.isObject()) {
      throw new RowProblem("body", "the request has no 'body' object. Put the completion"
          + " request (messages or prompt, max_tokens, …) under 'body'.");
    }
    String url = request.path("url").asText(null);
    if (url != null && !url.equals(OpenAiBatchWriter.Endpoint.CHAT.url())
        && !url.equals(OpenAiBatchWriter.Endpoint.COMPLETIONS.url())) {
      throw new RowProblem("url", "url is [" + url + "]; supported are "
          + OpenAiBatchWriter.Endpoint.CHAT.url() + " and "
          + OpenAiBatchWriter.Endpoint.COMPLETIONS.url() + ".");
    }
    JsonNode n = body.get("n");
    if (n != null && !n.isNull() && n.asInt(-1) != 1) {
      throw new RowProblem("body.n", "n is " + n + "; BatchGen makes one completion per"
          + " request. Repeat the request with distinct custom_ids instead.");
    }
    if (body.path("stream").asBoolean(false)) {
      throw new RowProblem("body.stream", "stream is true; batch requests cannot stream. Remove"
          + " it.");
    }
    List<ChatMessage> messages = messages(body.get("messages"));
    String prompt = prompt(body.get("prompt"));
    if (url != null && url.equals(OpenAiBatchWriter.Endpoint.CHAT.url()) && prompt != null) {
      throw new RowProblem("body.prompt", "a chat request (" + url + ") has 'prompt'; use"
          + " 'messages', or the url " + OpenAiBatchWriter.Endpoint.COMPLETIONS.url() + ".");
    }
    if (url != null && url.equals(OpenAiBatchWriter.Endpoint.COMPLETIONS.url())
        && messages != null) {
      throw new RowProblem("body.messages", "a completions request (" + url + ") has"
          + " 'messages'; use 'prompt', or the url " + OpenAiBatchWriter.Endpoint.CHAT.url()
          + ".");
    }
    JsonNode maxTokens = body.hasNonNull("max_completion_tokens")
        ? body.get("max_completion_tokens") : body.get("max_tokens");
    GenerationOverrides overrides = new GenerationOverrides(
        intOrNull(maxTokens, "body.max_tokens"),
        numberOrNull(body.get("temperature"), "body.temperature"),
        numberOrNull(body.get("top_p"), "body.top_p"),
        intOrNull(body.get("top_k"), "body.top_k"),
        longOrNull(body.get("seed"), "body.seed"),
        stop(body.get("stop")));
    return new RawRow(id, prompt, messages, overrides);
  }

  private static List<ChatMessage> messages(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isArray()) {
      throw new RowProblem("body.messages", "messages must be an array of {role, content},"
          + " got " + node.getNodeType() + ".");
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int k = 0; k < node.size(); k++) {
      JsonNode m = node.get(k);
      String role = m.path("role").asText("");
      if (!m.path("role").isTextual() || role.isBlank()) {
        throw new RowProblem("body.messages", "message " + k + " has no role; set role to"
            + " system, user or assistant.");
      }
      out.add(new ChatMessage(role, content(m.get("content"), k)));
    }
    return out;
  }

  private static String content(JsonNode c, int k) {
    if (c == null || c.isNull()) {
      throw new RowProblem("body.messages", "message " + k + " has no content; use an empty"
          + " string for an empty turn.");
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      List<String> parts = new ArrayList<>();
      for (JsonNode part : c) {
        if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw new RowProblem("body.messages", "message " + k + " has a content part of type ["
              + part.path("type").asText() + "]; only text parts are supported.");
        }
        parts.add(part.get("text").asText());
      }
      return String.join("\n", parts);
    }
    throw new RowProblem("body.messages", "message " + k + " content must be a string or a list"
        + " of text parts, got " + c.getNodeType() + ".");
  }

  private static String prompt(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw new RowProblem("body.prompt", "prompt must be one string, got " + node.getNodeType()
          + ". Put each prompt on its own line with its own custom_id.");
    }
    return node.asText();
  }

  private static Integer intOrNull(JsonNode node, String field) {
    Long v = longOrNull(node, field);
    if (v == null) {
      return null;
    }
    if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
      throw new RowProblem(field, field + " is " + v + ", outside the int range.");
    }
    return v.intValue();
  }

  private static Long longOrNull(JsonNode node, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw new RowProblem(field, field + " must be an integer, got " + node + ".");
    }
    return node.asLong();
  }

  private static Double numberOrNull(JsonNode node, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isNumber()) {
      throw new RowProblem(field, field + " must be a number, got " + node + ".");
    }
    return node.asDouble();
  }

  private static List<String> stop(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return List.of(node.asText());
    }
    if (node.isArray()) {
      List<String> out = new ArrayList<>();
      for (JsonNode s : node) {
        if (!s.isTextual()) {
          throw new RowProblem("body.stop", "stop must be a string or a list of strings, got "
              + node + ".");
        }
        out.add(s.asText());
      }
      return out;
    }
    throw new RowProblem("body.stop", "stop must be a string or a list of strings, got " + node
        + ".");
  }
}
