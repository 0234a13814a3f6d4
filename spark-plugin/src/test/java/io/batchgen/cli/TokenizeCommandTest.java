package io.batchgen.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/batchgen tokenize} on real tokenizer-only directories. */
class TokenizeCommandTest {
  @TempDir
  Path tmp;

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

  static String dir(String family) {
    return Path.of(System.getProperty("batchgen.tokenizers.dir", "target/tokenizers"), family)
        .toString();
  }

  private int run(String... args) {
    return TokenizeCommand.run(args, new PrintStream(outBytes, true, StandardCharsets.UTF_8),
        new PrintStream(errBytes, true, StandardCharsets.UTF_8));
  }

  private List<String> lines() {
    return outBytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void textAndMessagesPrintTheTextAndIdsTheModelSees() {
    assertThat(run("--model", dir("llama3_1"), "--text", "Hello world")).isZero();
    assertThat(run("--model", dir("llama3_1"), "--messages",
        "[{\"role\": \"user\", \"content\": \"What is {{ 7*7 }}?\"}]")).isZero();
    assertThat(run("--model", dir("llama3_1"), "--no-generation-prompt", "--messages",
        "[{\"role\": \"user\", \"content\": \"hi\"}]")).isZero();

    assertThat(lines()).containsExactly(
        "{\"text\":\"Hello world\",\"ids\":[128000,9906,1917]}",
        "{\"text\":\"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nWhat is"
            + " {{ 7*7 }}?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\\n\\n\","
            + "\"ids\":[128000,128006,882,128007,271,3923,374,5991,220,22,9,22,3954,30,128009,"
            + "128006,78191,128007,271]}",
        "{\"text\":\"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nhi"
            + "<|eot_id|>\",\"ids\":[128000,128006,882,128007,271,6151,128009]}");
  }

  @Test
  void inputFileGivesOneLineEachInOrderWithErrorsInPlace() throws Exception {
    Path input = tmp.resolve("in.jsonl");
    Files.writeString(input, String.join("\n",
        "{\"text\": \"Hello world\"}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\","
            + " \"content\": \"b\"}]}",
        "not json",
        "",
        "{\"text\": \"x\", \"messages\": []}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}") + "\n");

    assertThat(run("--model", dir("gemma3"), "--input", input.toString())).isZero();

    List<String> lines = lines();
    assertThat(lines).hasSize(5);
    assertThat(lines.get(0)).isEqualTo("{\"text\":\"Hello world\",\"ids\":[2,9259,1902]}");
    assertThat(lines.get(1)).startsWith("{\"error\":").contains("roles must alternate");
    assertThat(lines.get(2)).startsWith("{\"error\":\"line 3 is not JSON");
    assertThat(lines.get(3)).isEqualTo("{\"error\":\"line 5 must be an object with exactly one of"
        + " \\\"text\\\" and \\\"messages\\\"\"}");
    assertThat(lines.get(4)).isEqualTo("{\"text\":\"<bos><start_of_turn>user\\nHi<end_of_turn>\\n"
        + "<start_of_turn>model\\n\",\"ids\":[2,105,2364,107,10979,106,107,105,4368,107]}");
  }

  @Test
  void chatTemplateKwargsReachTheTemplateAndUsageErrorsExitTwo() {
    assertThat(run("--model", dir("qwen3"), "--chatTemplateKwargs",
        "{\"enable_thinking\": false}", "--messages",
        "[{\"role\": \"user\", \"content\": \"q\"}]")).isZero();
    assertThat(lines().get(0)).contains("<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n");

    assertThat(run("--model", dir("qwen3"))).isEqualTo(2);
    assertThat(run("--model", dir("qwen3"), "--text", "a", "--messages", "[]")).isEqualTo(2);
    assertThat(errBytes.toString(StandardCharsets.UTF_8))
        .contains("Give exactly one of --text, --messages, --input");
    assertThat(run("--model", tmp.toString(), "--text", "a")).isEqualTo(1);
  }
}
