package io.eventsync.kafka.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Rules for the Kafka client properties a user passes through (TLS, SASL, tuning). */
public final class ClientSettings {
    /**
     * Properties eventsync sets itself because its guarantees depend on them: offsets committed only for
     * done work, per-key order, the record layout.
     */
    public static final Set<String> OWNED = Set.of(
            "bootstrap.servers", "group.id", "enable.auto.commit", "enable.idempotence", "acks",
            "key.serializer", "value.serializer", "key.deserializer", "value.deserializer");

    private ClientSettings() {
    }

    /** True for a property whose value must never be logged: passwords, keys, JAAS configurations, tokens. */
    public static boolean isSecret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.contains("password") || lower.contains("jaas") || lower.contains("secret")
                || lower.contains("token") || lower.contains("credential")
                || lower.endsWith(".key") || lower.contains("keystore.key") || lower.contains("private");
    }

    /** The properties with secret values replaced by {@code [hidden]}, for logs and messages. */
    public static String describe(Map<String, String> properties) {
        Map<String, String> shown = new TreeMap<>();
        properties.forEach((name, value) -> shown.put(name, isSecret(name) ? "[hidden]" : value));
        return shown.toString();
    }
}
