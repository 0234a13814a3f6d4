package io.batchgen.io.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The object {@code namespace(...)} returns: the one value whose attributes a template may assign
 * ({@code {% set ns.found = true %}}), which is how state leaves a loop body in Jinja2.
 */
final class Namespace {
  final Map<String, Object> attributes = new LinkedHashMap<>();
}
