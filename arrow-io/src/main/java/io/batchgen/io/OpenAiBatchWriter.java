package io.batchgen.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * Writes results in the OpenAI batch-API output layout (JSON Lines), one line per result, as
 * OpenAI's Batch API and vLLM's {@code run-batch} produce it:
 * <pre>
 * {"id": "batch_req_r1", "custom_id": "r1",
 *  "response": {"status_code": 200, "request_id": "r1", "body": {"id": "chatcmpl-r1",
 *    "object": "chat.completion", "created": 1700000000, "model": "m",
 *    "choices": [{"index": 0, "message": {"role": "assistant", "content": "…"},
 *                 "finish_reason": "stop"}],
 *    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}}},
 *  "error": null}
 * </pre>
 * A failed row has {@code "response": null} and
 * {@code "error": {"code": "batchgen_error", "message": …}}. Each line goes to the stream as it
 * is written; nothing is buffered beyond the stream's own buffer.
 *
 * <p>Not thread-safe. {@link #close} closes the stream.
 */
public final class OpenAiBatchWriter implements AutoCloseable {

  /** The two request kinds, by URL. */
  public enum Endpoint {
    CHAT("/v1/chat/completions", "chat.completion", "chatcmpl-"),
    COMPLETIONS("/v1/completions", "text_completion", "cmpl-");

    private final String url;
    private final String object;
    private final String idPrefix;

    Endpoint(String url, String object, String idPrefix) {
      this.url = url;
      this.object = object;
      this.idPrefix = idPrefix;
    }

    public String url() {
      return url;
    }

    /** The endpoint a request came from: chat when it has messages. */
    public static Endpoint of(PromptRequest request) {
      return request.isChat() ? CHAT : COMPLETIONS;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OutputStream out;
  private final long createdEpochSeconds;
  private long written;

  /**
   * @param createdEpochSeconds the {@code created} field of every response (one job time, so the
   *                            output is reproducible)
   */
  public OpenAiBatchWriter(OutputStream out, long createdEpochSeconds) {
    this.out = out;
    this.createdEpochSeconds = createdEpochSeconds;
  }

  /** Writes one output line for {@code result}, answering a request to {@code endpoint}. */
  public void write(GenerationResult result, Endpoint endpoint) {
    try {
      JsonGenerator g = JSON.getFactory().createGenerator(out);
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      String id = result.id();
      g.writeStartObject();
      g.writeStringField("id", "batch_req_" + (id == null ? "row" + written : id));
      g.writeStringField("custom_id", id);
      if (result.error() != null) {
        g.writeNullField("response");
        g.writeObjectFieldStart("error");
        g.writeStringField("code", "batchgen_error");
        g.writeStringField("message", result.error());
        g.writeEndObject();
      } else {
        g.writeObjectFieldStart("response");
        g.writeNumberField("status_code", 200);
        g.writeStringField("request_id", id);
        g.writeObjectFieldStart("body");
        g.writeStringField("id", endpoint.idPrefix + id);
        g.writeStringField("object", endpoint.object);
        g.writeNumberField("created", createdEpochSeconds);
        g.writeStringField("model", result.provenance().modelId());
        g.writeArrayFieldStart("choices");
        g.writeStartObject();
        g.writeNumberField("index", 0);
        if (endpoint == Endpoint.CHAT) {
          g.writeObjectFieldStart("message");
          g.writeStringField("role", "assistant");
          g.writeStringField("content", result.completion());
          g.writeEndObject();
        } else {
          g.writeStringField("text", result.completion());
          g.writeNullField("logprobs");
        }
        g.writeStringField("finish_reason", result.finishReason().wireName());
        g.writeEndObject();
        g.writeEndArray();
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", result.promptTokens());
        g.writeNumberField("completion_tokens", result.completionTokens());
        g.writeNumberField("total_tokens", result.promptTokens() + result.completionTokens());
        g.writeEndObject();
        g.writeEndObject(); // body
        g.writeEndObject(); // response
        g.writeNullField("error");
      }
      g.writeEndObject();
      g.close();
      out.write('\n');
      written++;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write batch output line for [" + result.id() + "]: "
          + e.getMessage(), e);
    }
  }

  /**
   * The batch-API input line for {@code request} (the inverse of {@link OpenAiBatchReader}), for
   * turning a prompt table into a batch file.
   */
  public static String requestLine(PromptRequest request, String model) {
    var root = JSON.createObjectNode();
    root.put("custom_id", request.id());
    root.put("method", "POST");
    root.put("url", Endpoint.of(request).url());
    var body = root.putObject("body");
    body.put("model", model);
    if (request.isChat()) {
      var messages = body.putArray("messages");
      for (ChatMessage m : request.messages()) {
        messages.addObject().put("role", m.role()).put("content", m.content());
      }
    } else {
      body.put("prompt", request.prompt());
    }
    GenerationOverrides o = request.overrides();
    if (o.maxNewTokens() != null) {
      body.put("max_tokens", o.maxNewTokens());
    }
    if (o.temperature() != null) {
      body.put("temperature", o.temperature());
    }
    if (o.topP() != null) {
      body.put("top_p", o.topP());
    }
    if (o.topK() != null) {
      body.put("top_k", o.topK());
    }
    if (o.seed() != null) {
      body.put("seed", o.seed());
    }
    if (o.stop() != null) {
      var stop = body.putArray("stop");
      o.stop().forEach(stop::add);
    }
    try {
      return JSON.writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lines written. */
  public long linesWritten() {
    return written;
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot close batch output", e);
    }
  }
}
