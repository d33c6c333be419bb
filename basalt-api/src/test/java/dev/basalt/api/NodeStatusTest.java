package dev.basalt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/** The status JSON against its published schema (checked by a small validator for the keywords the schema uses). */
class NodeStatusTest {
  static final String DIGEST = "sha256:" + "ab".repeat(32);
  static final String HASH = "cd".repeat(32);

  static JsonNode schema() throws Exception {
    try (InputStream in = NodeStatus.class.getResourceAsStream(NodeStatus.SCHEMA_RESOURCE)) {
      assertThat(in).as("schema on the class path").isNotNull();
      return ApiJson.mapper().readTree(in);
    }
  }

  static NodeStatus full() {
    Deployment booted = new Deployment("docker://r.example/os:1", DIGEST, HASH, "a", 1,
        Instant.parse("2026-01-02T03:04:05Z"), Health.HEALTHY);
    Deployment staged = new Deployment("oci:/srv/layout:2", "sha256:" + "01".repeat(32), "ef".repeat(32), "b", 2,
        Instant.parse("2026-01-03T00:00:00Z"), Health.PENDING);
    return new NodeStatus(booted, staged, null, List.of("sha256:" + "99".repeat(32)), UpdatePhase.STAGED, null);
  }

  @Test
  void jsonMatchesTheSchemaAndRoundTrips() throws Exception {
    NodeStatus s = full();
    String json = ApiJson.write(s);
    JsonNode tree = ApiJson.mapper().readTree(json);
    List<String> errors = new ArrayList<>();
    validate(schema(), schema(), tree, "$", errors);
    assertThat(errors).isEmpty();
    assertThat(tree.get("booted").get("deployedAt").asString()).isEqualTo("2026-01-02T03:04:05Z");
    assertThat(tree.get("updatePhase").asString()).isEqualTo("staged");
    assertThat(tree.get("staged").get("health").asString()).isEqualTo("pending");
    assertThat(tree.has("rollback")).as("nulls are written out").isTrue();
    assertThat(ApiJson.read(json, NodeStatus.class, "status")).isEqualTo(s);
  }

  @Test
  void theValidatorCatchesWhatTheSchemaForbids() throws Exception {
    JsonNode tree = ApiJson.mapper().readTree(ApiJson.write(full()));
    ((tools.jackson.databind.node.ObjectNode) tree.get("booted")).put("slot", "c");
    ((tools.jackson.databind.node.ObjectNode) tree).put("extra", 1);
    List<String> errors = new ArrayList<>();
    validate(schema(), schema(), tree, "$", errors);
    assertThat(errors).anyMatch(e -> e.startsWith("$.booted")).anyMatch(e -> e.contains("extra"));
  }

  @ParameterizedTest
  @EnumSource(UpdatePhase.class)
  void everyPhaseIsInTheSchema(UpdatePhase p) throws Exception {
    JsonNode values = schema().get("properties").get("updatePhase").get("enum");
    assertThat(values.toString()).contains("\"" + ApiJson.mapper().valueToTree(p).asString() + "\"");
  }

  @ParameterizedTest
  @EnumSource(Health.class)
  void everyHealthIsInTheSchema(Health h) throws Exception {
    JsonNode values = schema().get("$defs").get("deployment").get("properties").get("health").get("enum");
    assertThat(values.toString()).contains("\"" + ApiJson.mapper().valueToTree(h).asString() + "\"");
  }

  @Test
  void recordComponentsAreExactlyTheSchemaProperties() throws Exception {
    assertThat(names(schema().get("properties"))).containsExactlyInAnyOrderElementsOf(
        Arrays.stream(NodeStatus.class.getRecordComponents()).map(c -> c.getName()).toList());
    assertThat(names(schema().get("$defs").get("deployment").get("properties"))).containsExactlyInAnyOrderElementsOf(
        Arrays.stream(Deployment.class.getRecordComponents()).map(c -> c.getName()).toList());
  }

  @Test
  void badValuesAreRefusedWithTheirName() {
    assertThatThrownBy(() -> new Deployment(null, "sha256:xyz", null, "a", 1, null, Health.UNKNOWN))
        .hasMessageContaining("manifestDigest").hasMessageContaining("sha256:xyz");
    assertThatThrownBy(() -> new Deployment(null, null, null, "c", 1, null, Health.UNKNOWN)).hasMessageContaining("slot");
    assertThatThrownBy(() -> new Deployment(null, null, null, "a", 0, null, Health.UNKNOWN)).hasMessageContaining("serial");
    assertThatThrownBy(() -> new Deployment(null, null, "ABC", "a", 1, null, Health.UNKNOWN)).hasMessageContaining("verityRootHash");
    assertThatThrownBy(() -> ApiJson.read("{\"updatePhase\":\"nope\"}", NodeStatus.class, "state.json"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("state.json");
  }

  private static List<String> names(JsonNode obj) {
    List<String> out = new ArrayList<>();
    obj.propertyNames().forEach(out::add);
    return out;
  }

  /** type, enum, required, additionalProperties=false, properties, items, uniqueItems, pattern, minimum/maximum, $ref, oneOf. */
  static void validate(JsonNode root, JsonNode schema, JsonNode value, String at, List<String> errors) {
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asString();
      JsonNode target = root;
      for (String part : ref.substring(2).split("/")) target = target.get(part);
      validate(root, target, value, at, errors);
    }
    if (schema.has("oneOf")) {
      int ok = 0;
      for (JsonNode alt : schema.get("oneOf")) {
        List<String> e = new ArrayList<>();
        validate(root, alt, value, at, e);
        if (e.isEmpty()) ok++;
      }
      if (ok != 1) errors.add(at + ": matches " + ok + " alternatives of oneOf");
    }
    if (schema.has("type")) {
      List<String> types = new ArrayList<>();
      if (schema.get("type").isArray()) schema.get("type").forEach(t -> types.add(t.asString()));
      else types.add(schema.get("type").asString());
      String actual = value.isNull() ? "null" : value.isObject() ? "object" : value.isArray() ? "array"
          : value.isIntegralNumber() ? "integer" : value.isString() ? "string" : value.isBoolean() ? "boolean" : "number";
      if (!types.contains(actual)) errors.add(at + ": type " + actual + " not in " + types);
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode v : schema.get("enum")) found |= v.equals(value);
      if (!found) errors.add(at + ": " + value + " not in " + schema.get("enum"));
    }
    if (value.isString() && schema.has("pattern") && !Pattern.compile(schema.get("pattern").asString()).matcher(value.asString()).find()) {
      errors.add(at + ": '" + value.asString() + "' does not match " + schema.get("pattern").asString());
    }
    if (value.isNumber() && schema.has("minimum") && value.asLong() < schema.get("minimum").asLong()) errors.add(at + ": below minimum");
    if (value.isNumber() && schema.has("maximum") && value.asLong() > schema.get("maximum").asLong()) errors.add(at + ": above maximum");
    if (value.isObject()) {
      if (schema.has("required")) {
        for (JsonNode r : schema.get("required")) if (!value.has(r.asString())) errors.add(at + ": missing " + r.asString());
      }
      JsonNode props = schema.get("properties");
      for (Map.Entry<String, JsonNode> e : value.properties()) {
        if (props != null && props.has(e.getKey())) {
          validate(root, props.get(e.getKey()), e.getValue(), at + "." + e.getKey(), errors);
        } else if (schema.has("additionalProperties") && !schema.get("additionalProperties").asBoolean()) {
          errors.add(at + ": unexpected property " + e.getKey());
        }
      }
    }
    if (value.isArray() && schema.has("items")) {
      for (int i = 0; i < value.size(); i++) validate(root, schema.get("items"), value.get(i), at + "[" + i + "]", errors);
    }
  }
}
