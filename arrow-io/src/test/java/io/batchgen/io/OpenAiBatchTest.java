package io.batchgen.io;

import io.batchgen.core.runtime.FinishReason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OpenAiBatchTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static PromptBatch read(String jsonl, BadRowPolicy policy) {
    return read(jsonl.getBytes(StandardCharsets.UTF_8), policy);
  }

  private static PromptBatch read(byte[] jsonl, BadRowPolicy policy) {
    return new OpenAiBatchReader(new ByteArrayInputStream(jsonl), "batch.jsonl", policy)
        .readAll();
  }

  @Test
  void requestLinesRoundTripEveryEdgeCase() {
    // The fixture's ids are decimal strings; custom_id keeps them as strings.
    String jsonl = Fixtures.edgeCases().stream()
        .map(r -> OpenAiBatchWriter.requestLine(r, "tiny")).collect(Collectors.joining("\n"));

    PromptBatch back = read(jsonl + "\n", BadRowPolicy.FAIL);

    assertThat(back.errors()).isEmpty();
    assertThat(back.requests()).containsExactlyElementsOf(Fixtures.edgeCases());
  }

  @Test
  void readsVllmStyleRequestsWithTextPartsAndMaxCompletionTokens() {
    String jsonl = """
        {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "x", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Line one"}, {"type": "text", "text": "Line two"}]}], "max_completion_tokens": 32, "max_tokens": 99, "temperature": 0, "stop": "###", "n": 1}}

        {"custom_id": "b", "url": "/v1/completions", "body": {"prompt": "Once upon", "max_tokens": 5, "top_k": 3, "seed": 11}}\r
        """;

    PromptBatch batch = read(jsonl, BadRowPolicy.FAIL);

    assertThat(batch.requests()).containsExactly(
        new PromptRequest("a", null, List.of(ChatMessage.system("Be brief."),
            ChatMessage.user("Line one\nLine two")),
            new GenerationOverrides(32, 0.0, null, null, null, List.of("###"))),
        new PromptRequest("b", "Once upon", null,
            new GenerationOverrides(5, null, null, 3, 11L, null)));
  }

  @Test
  void badLinesNameTheLineFieldAndFix() {
    String jsonl = String.join("\n",
        "{\"custom_id\": \"ok\", \"body\": {\"prompt\": \"fine\"}}",
        "{\"custom_id\": \"broken\", \"body\": {\"prompt\": ",
        "{\"body\": {\"prompt\": \"no id\"}}",
        "{\"custom_id\": \"hot\", \"body\": {\"prompt\": \"x\", \"temperature\": \"hot\"}}",
        "{\"custom_id\": \"many\", \"body\": {\"prompt\": \"x\", \"n\": 3}}",
        "{\"custom_id\": \"img\", \"body\": {\"messages\": [{\"role\": \"user\", \"content\":"
            + " [{\"type\": \"image_url\", \"image_url\": {\"url\": \"u\"}}]}]}}",
        "{\"custom_id\": \"ok\", \"body\": {\"prompt\": \"again\"}}",
        "{\"custom_id\": \"emb\", \"url\": \"/v1/embeddings\", \"body\": {\"input\": \"x\"}}");

    assertThatThrownBy(() -> read(jsonl, BadRowPolicy.FAIL))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("Bad request in [batch.jsonl] at line 2, field 'line': the line"
            + " is not valid JSON");

    PromptBatch batch = read(jsonl, BadRowPolicy.ERROR_RECORD);
    assertThat(batch.requests()).extracting(PromptRequest::id).containsExactly("ok");
    assertThat(batch.errors()).extracting(RowError::rowNumber, RowError::id, RowError::column)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1L, null, "line"),
            org.assertj.core.groups.Tuple.tuple(2L, null, "custom_id"),
            org.assertj.core.groups.Tuple.tuple(3L, "hot", "body.temperature"),
            org.assertj.core.groups.Tuple.tuple(4L, "many", "body.n"),
            org.assertj.core.groups.Tuple.tuple(5L, "img", "body.messages"),
            org.assertj.core.groups.Tuple.tuple(6L, "ok", "custom_id"),
            org.assertj.core.groups.Tuple.tuple(7L, "emb", "url"));
    assertThat(batch.errors().get(2).message())
        .isEqualTo("body.temperature must be a number, got \"hot\".");
    assertThat(batch.errors().get(2).describe()).isEqualTo("Bad request in [batch.jsonl] at line 4"
        + " (custom_id hot), field 'body.temperature': body.temperature must be a number, got"
        + " \"hot\".");
    assertThat(batch.errors().get(3).message()).contains("one completion per request");
    assertThat(batch.errors().get(4).message()).contains("only text parts are supported");
    assertThat(batch.errors().get(6).message())
        .contains("url is [/v1/embeddings]; supported are /v1/chat/completions and"
            + " /v1/completions");
  }

  @Test
  void aSliceOfAFileAndHeldLinesReadAsTheWholeFileDoes() {
    List<String> lines = List.of(
        "{\"custom_id\": \"a\", \"body\": {\"prompt\": \"one\"}}",
        "",
        "{\"custom_id\": \"b\", \"body\": {\"prompt\": 7}}",
        "{\"custom_id\": \"c\", \"body\": {\"messages\": [{\"role\": \"user\","
            + " \"content\": \"hi\"}]}}",
        "{\"custom_id\": \"d\", \"body\": {\"prompt\": \"four\"}}");
    PromptBatch whole = read(String.join("\n", lines), BadRowPolicy.ERROR_RECORD);

    // lines 2..3 (0-based) of the file, read from a stream that starts at line 2
    String tail = String.join("\n", lines.subList(2, lines.size()));
    OpenAiBatchReader slice = new OpenAiBatchReader(new ByteArrayInputStream(
        tail.getBytes(StandardCharsets.UTF_8)), "batch.jsonl", BadRowPolicy.ERROR_RECORD, 2, false);
    PromptBatch part = slice.next(100, 4);
    assertThat(slice.next(100, 4)).isNull();
    assertThat(part.requests()).containsExactly(whole.requests().get(1));
    assertThat(part.errors()).containsExactlyElementsOf(whole.errors());
    assertThat(part.requestRows()).containsExactly(3);

    OpenAiBatchReader held = OpenAiBatchReader.forLines("batch.jsonl", BadRowPolicy.ERROR_RECORD,
        true);
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).isBlank()) { // as a file's reader skips them
        held.add(i, lines.get(i).getBytes(StandardCharsets.UTF_8));
      }
    }
    PromptBatch all = held.drain();
    assertThat(all.requests()).containsExactlyElementsOf(whole.requests());
    assertThat(all.errors()).containsExactlyElementsOf(whole.errors());
    assertThat(all.errors()).singleElement().satisfies(e -> assertThat(e.describe())
        .startsWith("Bad request in [batch.jsonl] at line 3 (custom_id b), field 'body.prompt'"));
    // a blank line handed over is a bad line: every row given gets its result
    held.add(7, new byte[0]);
    assertThat(held.drain().errors()).singleElement().satisfies(e -> assertThat(e.describe())
        .isEqualTo("Bad request in [batch.jsonl] at line 8, field 'line': the line is not a"
            + " JSON object. Each line must be one request object."));
  }

  @Test
  void invalidUtf8IsABadRowNotAReplacementCharacter() {
    byte[] good = "{\"custom_id\": \"1\", \"body\": {\"prompt\": \"a\"}}\n"
        .getBytes(StandardCharsets.UTF_8);
    byte[] bad = "{\"custom_id\": \"2\", \"body\": {\"prompt\": \"\u00ff\"}}"
        .getBytes(StandardCharsets.ISO_8859_1); // a lone 0xFF byte
    byte[] all = new byte[good.length + bad.length];
    System.arraycopy(good, 0, all, 0, good.length);
    System.arraycopy(bad, 0, all, good.length, bad.length);

    PromptBatch batch = read(all, BadRowPolicy.ERROR_RECORD);

    assertThat(batch.requests()).extracting(PromptRequest::id).containsExactly("1");
    assertThat(batch.errors()).singleElement().satisfies(e -> {
      assertThat(e.rowNumber()).isEqualTo(1);
      assertThat(e.message())
          .contains("not valid UTF-8 (bad byte 0xFF at byte offset 39 of 43)");
    });
  }

  @Test
  void outputLinesMatchTheBatchApiLayout() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OpenAiBatchWriter w = new OpenAiBatchWriter(bytes, 1_700_000_000L)) {
      w.write(GenerationResult.completed("r1", "Grüße 🦊", new int[] {1, 2}, 9,
          FinishReason.STOP, 5L, Fixtures.PROVENANCE), OpenAiBatchWriter.Endpoint.CHAT);
      w.write(GenerationResult.completed("r2", "", new int[0], 3, FinishReason.LENGTH, null,
          Fixtures.PROVENANCE), OpenAiBatchWriter.Endpoint.COMPLETIONS);
      w.write(GenerationResult.failed("r3", "Prompt too long", Fixtures.PROVENANCE),
          OpenAiBatchWriter.Endpoint.CHAT);
      assertThat(w.linesWritten()).isEqualTo(3);
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(3);

    JsonNode chat = JSON.readTree(lines[0]);
    assertThat(chat.get("custom_id").asText()).isEqualTo("r1");
    assertThat(chat.get("error").isNull()).isTrue();
    JsonNode body = chat.at("/response/body");
    assertThat(chat.at("/response/status_code").asInt()).isEqualTo(200);
    assertThat(body.get("object").asText()).isEqualTo("chat.completion");
    assertThat(body.get("model").asText()).isEqualTo("/models/qwen3-moe-tiny");
    assertThat(body.get("created").asLong()).isEqualTo(1_700_000_000L);
    assertThat(body.at("/choices/0/message/content").asText()).isEqualTo("Grüße 🦊");
    assertThat(body.at("/choices/0/message/role").asText()).isEqualTo("assistant");
    assertThat(body.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
    assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(11);

    JsonNode text = JSON.readTree(lines[1]).at("/response/body");
    assertThat(text.get("object").asText()).isEqualTo("text_completion");
    assertThat(text.at("/choices/0/text").asText()).isEmpty();
    assertThat(text.at("/choices/0/finish_reason").asText()).isEqualTo("length");

    JsonNode failed = JSON.readTree(lines[2]);
    assertThat(failed.get("response").isNull()).isTrue();
    assertThat(failed.at("/error/message").asText()).isEqualTo("Prompt too long");
  }
}
