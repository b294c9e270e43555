package io.eventsync.kafka.internal;

import io.eventsync.ConfigException;
import io.eventsync.kafka.KafkaGroupProtocol;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.utils.AppInfoParser;

/** Rules for the Kafka client properties a user passes through (TLS, SASL, tuning). */
public final class ClientSettings {
    /**
     * Properties eventsync sets itself because its guarantees depend on them: offsets committed only for
     * done work, per-key order, the record layout, the group protocol (chosen with groupProtocol).
     */
    public static final Set<String> OWNED = Set.of(
            "bootstrap.servers", "group.id", "group.protocol", "enable.auto.commit", "enable.idempotence", "acks",
            "key.serializer", "value.serializer", "key.deserializer", "value.deserializer");

    /** Consumer properties only the classic group protocol accepts; with KIP-848 the broker decides them. */
    public static final Set<String> CLASSIC_ONLY = Set.of(
            "session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy");
    /** Consumer properties only the consumer group protocol (KIP-848) accepts. */
    public static final Set<String> CONSUMER_ONLY = Set.of("group.remote.assignor");

    /** Every property the producer, consumer or admin client knows, with its type and validator. */
    private static final Map<String, ConfigDef.ConfigKey> KNOWN = known();
    /** Settings of config providers ({@code config.providers.<name>.class}, ...) are the providers' own. */
    private static final String CONFIG_PROVIDERS = "config.providers.";

    private ClientSettings() {
    }

    /**
     * Refuses properties the chosen group protocol does not accept. Under AUTO the protocol is known only
     * once the cluster answers, so classic-only properties are refused too rather than silently dropped.
     */
    public static void checkForProtocol(Set<String> names, KafkaGroupProtocol protocol) {
        for (String name : names) {
            if (CLASSIC_ONLY.contains(name) && protocol != KafkaGroupProtocol.CLASSIC) {
                throw new ConfigException("clientProperty " + name + " applies only to the classic group protocol,"
                        + " but groupProtocol is " + protocol + "; set groupProtocol CLASSIC to use it (with the"
                        + " consumer protocol the broker decides it: group.consumer.session.timeout.ms,"
                        + " group.consumer.heartbeat.interval.ms, group.consumer.assignors)");
            }
            if (CONSUMER_ONLY.contains(name) && protocol == KafkaGroupProtocol.CLASSIC) {
                throw new ConfigException("clientProperty " + name + " applies only to the consumer group protocol"
                        + " (KIP-848), but groupProtocol is CLASSIC");
            }
        }
    }

    /**
     * Refuses a property eventsync owns, one no Kafka client knows (naming the closest known one), and a
     * value that does not parse or validate as the property's type. A secret's value never appears in
     * the message.
     */
    public static void check(String name, String value) {
        if (OWNED.contains(name)) {
            throw new ConfigException("clientProperty " + name + " is set by eventsync and cannot be overridden"
                    + " (value " + shown(name, value) + ")");
        }
        if (name.startsWith(CONFIG_PROVIDERS)) {
            return;
        }
        ConfigDef.ConfigKey key = KNOWN.get(name);
        if (key == null) {
            String closest = closest(name);
            throw new ConfigException("clientProperty " + name + " is not a Kafka client property"
                    + (closest == null ? "" : " (did you mean " + closest + "?)") + "; the known ones are the"
                    + " producer, consumer and admin client configs of kafka-clients " + AppInfoParser.getVersion());
        }
        try {
            Object parsed = ConfigDef.parseType(name, value, key.type);
            if (key.validator != null) {
                key.validator.ensureValid(name, parsed);
            }
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException("clientProperty " + name + " has an invalid value " + shown(name, value)
                    + (isSecret(name) ? "" : ": " + e.getMessage()) + " (expected " + key.type.name().toLowerCase(Locale.ROOT)
                    + (key.validator == null ? "" : ", " + key.validator) + ")");
        }
    }

    /**
     * True for a property whose value must never be logged: its name mentions a password, secret, key,
     * JAAS configuration, token or credential.
     */
    public static boolean isSecret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.contains("password") || lower.contains("jaas") || lower.contains("secret")
                || lower.contains("key") || lower.contains("token") || lower.contains("credential")
                || lower.contains("private");
    }

    /** The properties with secret values replaced by {@code [hidden]}, for logs and messages. */
    public static String describe(Map<String, String> properties) {
        Map<String, String> shown = new TreeMap<>();
        properties.forEach((name, value) -> shown.put(name, shown(name, value)));
        return shown.toString();
    }

    private static String shown(String name, String value) {
        return isSecret(name) ? "[hidden]" : value;
    }

    private static Map<String, ConfigDef.ConfigKey> known() {
        Map<String, ConfigDef.ConfigKey> keys = new HashMap<>();
        keys.putAll(AdminClientConfig.configDef().configKeys());
        keys.putAll(ProducerConfig.configDef().configKeys());
        keys.putAll(ConsumerConfig.configDef().configKeys());
        return Map.copyOf(keys);
    }

    /** The known name nearest to a misspelt one (at most a third of its letters off), or null. */
    private static String closest(String name) {
        String best = null;
        int bestDistance = Math.max(2, name.length() / 3) + 1;
        for (String candidate : new java.util.TreeSet<>(KNOWN.keySet())) {
            int distance = editDistance(name, candidate, bestDistance);
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** Levenshtein distance, giving up (returning {@code limit}) once it cannot be below it. */
    private static int editDistance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) >= limit) {
            return limit;
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin >= limit) {
                return limit;
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
