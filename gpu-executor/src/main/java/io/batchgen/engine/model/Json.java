package io.batchgen.engine.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.batchgen.engine.format.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Typed, validated reads of a JSON config object; every error names the file and key. */
final class Json {
  private final Path file;
  private final JsonObject obj;

  private Json(Path file, JsonObject obj) {
    this.file = file;
    this.obj = obj;
  }

  static Json read(Path file) {
    try {
      JsonElement el = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
      if (!el.isJsonObject()) {
        throw ModelFormatException.of(file, "is not a JSON object");
      }
      return new Json(file, el.getAsJsonObject());
    } catch (NoSuchFileException e) {
      throw ModelFormatException.of(file, "file not found");
    } catch (IOException e) {
      throw ModelFormatException.of(file, "cannot read: " + e.getMessage(), e);
    } catch (JsonParseException | StackOverflowError e) {
      throw ModelFormatException.of(file, "is not valid JSON: " + e.getMessage());
    }
  }

  Path file() {
    return file;
  }

  JsonObject raw() {
    return obj;
  }

  boolean has(String key) {
    return obj.has(key) && !obj.get(key).isJsonNull();
  }

  String string(String key, String dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = obj.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw bad(key, "a string", e);
    }
    return e.getAsString();
  }

  int requiredInt(String key) {
    if (!has(key)) {
      throw ModelFormatException.of(file, "required key [" + key + "] is missing");
    }
    return integer(key, 0);
  }

  int integer(String key, int dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = obj.get(key);
    try {
      if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
        return e.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
      }
    } catch (ArithmeticException ex) {
      // fall through to the error
    }
    throw bad(key, "an integer", e);
  }

  double number(String key, double dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = obj.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw bad(key, "a number", e);
    }
    return e.getAsDouble();
  }

  boolean bool(String key, boolean dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonElement e = obj.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw bad(key, "true or false", e);
    }
    return e.getAsBoolean();
  }

  /** An int or a list of ints (as {@code eos_token_id} may be); empty when absent. */
  int[] intOrList(String key) {
    if (!has(key)) {
      return new int[0];
    }
    JsonElement e = obj.get(key);
    if (e.isJsonArray()) {
      int[] out = new int[e.getAsJsonArray().size()];
      for (int i = 0; i < out.length; i++) {
        JsonElement v = e.getAsJsonArray().get(i);
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
          throw bad(key, "a list of integers", e);
        }
        out[i] = v.getAsInt();
      }
      return out;
    }
    return new int[] {integer(key, 0)};
  }

  /** A nested object, or null when absent. */
  Json object(String key) {
    if (!has(key)) {
      return null;
    }
    JsonElement e = obj.get(key);
    if (!e.isJsonObject()) {
      throw bad(key, "an object", e);
    }
    return new Json(file, e.getAsJsonObject());
  }

  ModelFormatException bad(String key, String expected, JsonElement got) {
    String shown = String.valueOf(got);
    if (shown.length() > 80) {
      shown = shown.substring(0, 80) + "...";
    }
    return ModelFormatException.of(file, "key [" + key + "] must be " + expected + ", got "
        + shown);
  }
}
