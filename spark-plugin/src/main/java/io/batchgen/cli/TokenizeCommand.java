package io.batchgen.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchgen.engine.model.LoadedTokenizer;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.engine.tools.CommandArgs;
import io.batchgen.io.ChatMessage;
import io.batchgen.spark.runtime.PromptEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code batchgen tokenize}: shows a prompt exactly as the model will see it, the rendered text
 * and its token ids, through the same {@link PromptEncoder} the Spark job uses. Prints one JSON
 * object per input: {@code {"text": ..., "ids": [...]}} or {@code {"error": "..."}}.
 */
public final class TokenizeCommand {
  static final String USAGE = """
      Usage: batchgen tokenize --model DIR (--text T | --messages JSON | --input FILE.jsonl)
                 [--no-generation-prompt] [--chatTemplateName NAME] [--chatTemplateKwargs JSON]

      Prints, one JSON object per input line, {"text": <rendered or given text>, "ids": [...]}
      or {"error": "..."}. --text is a plain prompt (BOS/EOS as the tokenizer adds them);
      --messages is a chat, a JSON array of {"role", "content"}, rendered with the model's chat
      template (with the assistant's generation prompt unless --no-generation-prompt) and
      tokenized without added special tokens. In --input mode each line of FILE is {"text": ...}
      or {"messages": [...]}; output lines follow input order (blank lines are skipped).
      DIR needs only the tokenizer files (tokenizer.json, tokenizer_config.json, a chat template);
      a full model directory or a .gguf file works too.
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizeCommand() {
  }

  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs the command; returns the exit code (0 ok, even with per-input errors; 2 usage; 1 fail). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    boolean generationPrompt = !Arrays.asList(args).contains("--no-generation-prompt");
    String[] rest = Arrays.stream(args).filter(a -> !a.equals("--no-generation-prompt"))
        .toArray(String[]::new);
    CommandArgs a;
    try {
      a = CommandArgs.parse(rest, Set.of("model", "text", "messages", "input",
          "chatTemplateName", "chatTemplateKwargs"), Set.of("tokenize"));
      if (a.help()) {
        out.print(USAGE);
        return 0;
      }
      String model = a.required("model");
      long given = Set.of("text", "messages", "input").stream()
          .filter(k -> a.get(k, null) != null).count();
      if (given != 1) {
        throw new CommandArgs.UsageException("Give exactly one of --text, --messages, --input");
      }
      try (LoadedTokenizer t = ModelLoader.loadTokenizer(Path.of(model))) {
        PromptEncoder encoder = PromptEncoder.of(t.tokenizer(), t.source(),
            t.embeddedChatTemplates(), a.get("chatTemplateName", null),
            a.get("chatTemplateKwargs", ""));
        if (a.get("text", null) != null) {
          out.println(encode(encoder, a.get("text", null), null, generationPrompt));
        } else if (a.get("messages", null) != null) {
          out.println(encode(encoder, null, a.get("messages", null), generationPrompt));
        } else {
          try (BufferedReader r = Files.newBufferedReader(Path.of(a.get("input", null)),
              StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
              n++;
              if (!line.isBlank()) {
                out.println(encodeLine(encoder, line, n, generationPrompt));
              }
            }
          }
        }
      }
      return 0;
    } catch (CommandArgs.UsageException e) {
      err.println("tokenize: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (IOException | RuntimeException e) {
      err.println("tokenize: failed: " + e.getMessage());
      return 1;
    }
  }

  private static String encodeLine(PromptEncoder encoder, String line, int n,
      boolean generationPrompt) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (IOException e) {
      return error("line " + n + " is not JSON: " + e.getMessage().split("\n")[0]);
    }
    boolean hasText = node.has("text");
    boolean hasMessages = node.has("messages");
    if (!node.isObject() || hasText == hasMessages) {
      return error("line " + n + " must be an object with exactly one of \"text\" and"
          + " \"messages\"");
    }
    if (hasText && !node.get("text").isTextual()) {
      return error("line " + n + ": \"text\" must be a string");
    }
    return encode(encoder, hasText ? node.get("text").asText() : null,
        hasMessages ? node.get("messages").toString() : null, generationPrompt);
  }

  private static String encode(PromptEncoder encoder, String text, String messagesJson,
      boolean generationPrompt) {
    try {
      PromptEncoder.Encoded e = text != null ? encoder.encodeText(text)
          : encoder.encodeChat(messages(messagesJson), generationPrompt);
      ObjectNode o = JSON.createObjectNode();
      o.put("text", e.text());
      var ids = o.putArray("ids");
      for (int id : e.ids()) {
        ids.add(id);
      }
      return o.toString();
    } catch (IllegalArgumentException e) {
      return error(e.getMessage());
    }
  }

  /** A JSON array of {"role", "content"} as chat messages. */
  static List<ChatMessage> messages(String json) {
    JsonNode node;
    try {
      node = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("messages are not JSON: "
          + e.getMessage().split("\n")[0], e);
    }
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw new IllegalArgumentException("messages must be a non-empty JSON array of"
          + " {\"role\": ..., \"content\": ...}");
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode m = node.get(i);
      if (!m.isObject() || !m.path("role").isTextual() || !m.path("content").isTextual()) {
        throw new IllegalArgumentException("message " + i + " must be an object with string"
            + " \"role\" and \"content\"");
      }
      out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
    }
    return out;
  }

  private static String error(String message) {
    ObjectNode o = JSON.createObjectNode();
    o.put("error", message);
    return o.toString();
  }
}
