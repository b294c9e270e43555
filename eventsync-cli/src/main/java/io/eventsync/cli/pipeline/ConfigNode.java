package io.eventsync.cli.pipeline;

import io.eventsync.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A node of a YAML configuration file that knows where it is: the file, its line and its field path
 * ({@code consume.mappings[0].table}), so every error can name all three. Scalars get {@code ${NAME}}
 * replaced by the environment variable NAME; a missing variable is an error naming the field.
 */
final class ConfigNode {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final Path file;
    private final String path;
    private final Node node;
    private final Function<String, String> env;

    ConfigNode(Path file, String path, Node node, Function<String, String> env) {
        this.file = file;
        this.path = path;
        this.node = node;
        this.env = env;
    }

    /** The pipeline file this node was read from. */
    Path file() {
        return file;
    }

    String path() {
        return path;
    }

    int line() {
        return node.getStartMark().getLine() + 1;
    }

    /** An error at this node: {@code file:line: path: message}. */
    ConfigException error(String message) {
        return new ConfigException(file + ":" + line() + ": " + (path.isEmpty() ? "" : path + ": ") + message);
    }

    boolean isMapping() {
        return node instanceof MappingNode;
    }

    /** The entries of a mapping, in file order; fails naming the field when this is not a mapping. */
    Map<String, ConfigNode> entries() {
        if (!(node instanceof MappingNode mapping)) {
            throw error("must be a mapping (key: value lines)");
        }
        Map<String, ConfigNode> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                throw new ConfigNode(file, path, tuple.getKeyNode(), env).error("keys must be plain names");
            }
            String name = key.getValue();
            ConfigNode child = new ConfigNode(file, path.isEmpty() ? name : path + "." + name, tuple.getValueNode(), env);
            if (entries.put(name, child) != null) {
                throw child.error("is declared twice");
            }
        }
        return entries;
    }

    /** Fails on the first key that is not one of {@code allowed} (a typo must not be silently ignored). */
    void allowOnly(Set<String> allowed) {
        for (ConfigNode child : entries().values()) {
            String name = child.path.substring(child.path.lastIndexOf('.') + 1);
            if (!allowed.contains(name)) {
                throw child.error("unknown field; expected one of " + new java.util.TreeSet<>(allowed));
            }
        }
    }

    List<ConfigNode> items() {
        if (!(node instanceof SequenceNode sequence)) {
            throw error("must be a list (lines starting with '- ')");
        }
        List<ConfigNode> items = new ArrayList<>();
        int i = 0;
        for (Node item : sequence.getValue()) {
            items.add(new ConfigNode(file, path + "[" + i++ + "]", item, env));
        }
        return items;
    }

    /** The scalar text, with {@code ${ENV}} substituted. */
    String text() {
        if (!(node instanceof ScalarNode scalar)) {
            throw error("must be a single value");
        }
        String raw = scalar.getValue();
        Matcher m = ENV.matcher(raw);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null) {
                throw error("environment variable " + m.group(1) + " is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    String nonBlank() {
        String text = text();
        if (text.isBlank()) {
            throw error("must not be empty");
        }
        return text;
    }

    int integer(int min, int max) {
        String text = text().trim();
        try {
            int value = Integer.parseInt(text);
            if (value < min || value > max) {
                throw error("must be between " + min + " and " + max + ", but was " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw error("must be a whole number, but was '" + text + "'");
        }
    }

    boolean bool() {
        String text = text().trim();
        return switch (text) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw error("must be true or false, but was '" + text + "'");
        };
    }

    Duration duration() {
        String text = text().trim();
        try {
            return io.eventsync.cli.internal.DurationConverter.parse(text);
        } catch (RuntimeException e) {
            throw error("must be a duration like 500ms, 30s, 2m or 7d, but was '" + text + "'");
        }
    }

    String oneOf(Set<String> choices) {
        String text = text().trim();
        if (!choices.contains(text)) {
            throw error("must be one of " + new java.util.TreeSet<>(choices) + ", but was '" + text + "'");
        }
        return text;
    }
}
