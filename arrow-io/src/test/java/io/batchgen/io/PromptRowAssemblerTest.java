package io.batchgen.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptRowAssemblerTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void buildsRequestsFromRawValuesLikeTheColumnarReaders() {
    PromptRowAssembler rows =
        new PromptRowAssembler("spark-partition-4", PromptSchema.DEFAULT, BadRowPolicy.FAIL);
    GenerationOverrides o = new GenerationOverrides(8, 0.2, null, null, 3L, List.of("。"));

    rows.addRow(0, 41L, utf8("日本語のプロンプト"), null, o);
    rows.addRow(1, utf8("k-2"), null,
        List.<byte[][]>of(new byte[][] {utf8("user"), utf8("")}), null);

    assertThat(rows.drain().requests()).containsExactly(
        new PromptRequest("41", "日本語のプロンプト", null, o),
        PromptRequest.ofChat("k-2", List.of(ChatMessage.user(""))));
  }

  @Test
  void badRowsFailOrBecomeErrorsWithTheSameMessages() {
    PromptRowAssembler failing =
        new PromptRowAssembler("p", PromptSchema.DEFAULT, BadRowPolicy.FAIL);
    assertThatThrownBy(() -> failing.addRow(5, 1L, null,
        List.<byte[][]>of(new byte[][] {utf8("user"), {(byte) 0xE2, (byte) 0x82}}), null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("Bad prompt row in [p] at row 5 (id 1), column 'messages.content':"
            + " the value is not valid UTF-8");

    PromptRowAssembler lenient =
        new PromptRowAssembler("p", PromptSchema.DEFAULT, BadRowPolicy.ERROR_RECORD);
    lenient.addRow(0, null, utf8("x"), null, null);
    lenient.addRow(1, 7L, utf8("x"), null, new GenerationOverrides(0, null, null, null, null,
        null));
    lenient.addRow(2, 7L, utf8("fine"), null, null);
    lenient.addRow(3, 7L, utf8("dup"), null, null);

    PromptBatch batch = lenient.drain();
    assertThat(batch.requests()).extracting(PromptRequest::prompt).containsExactly("fine");
    assertThat(batch.errors()).extracting(RowError::rowNumber, RowError::column).containsExactly(
        org.assertj.core.groups.Tuple.tuple(0L, "id"),
        org.assertj.core.groups.Tuple.tuple(1L, "max_new_tokens"),
        org.assertj.core.groups.Tuple.tuple(3L, "id"));
    assertThat(batch.errors().get(1).message())
        .startsWith("max_new_tokens is 0 but must be at least 1");
  }

  @Test
  void emptyOrWhitespaceOnlyPromptsAreRowErrorsAndBatchesReplayInRowOrder() {
    PromptRowAssembler rows =
        new PromptRowAssembler("p", PromptSchema.DEFAULT, BadRowPolicy.ERROR_RECORD);
    rows.addRow(0, 1L, utf8("ok"), null, null);
    rows.addRow(1, 2L, utf8(""), null, null);
    rows.addRow(2, 3L, utf8(" \t\n"), null, null);
    rows.addRow(3, 4L, utf8("also ok"), null, null);

    PromptBatch batch = rows.drain();
    assertThat(batch.errors()).extracting(RowError::id, RowError::column).containsExactly(
        org.assertj.core.groups.Tuple.tuple("2", "prompt"),
        org.assertj.core.groups.Tuple.tuple("3", "prompt"));
    assertThat(batch.errors().get(0).describe()).isEqualTo("Bad prompt row in [p] at row 1"
        + " (id 2), column 'prompt': the prompt is empty, so there is nothing to complete. Give"
        + " the row prompt text, or filter such rows out upstream.");
    assertThat(batch.errors().get(1).message())
        .startsWith("the prompt is only whitespace (3 characters)");
    assertThat(batch.requestRows()).containsExactly(0L, 3L);

    List<String> order = new java.util.ArrayList<>();
    batch.forEachRow(new PromptBatch.RowVisitor() {
      @Override
      public void request(long rowNumber, PromptRequest request) {
        order.add(rowNumber + ":" + request.id());
      }

      @Override
      public void error(RowError error) {
        order.add(error.rowNumber() + ":!" + error.id());
      }
    });
    assertThat(order).containsExactly("0:1", "1:!2", "2:!3", "3:4");
  }
}
