package io.eventsync.cli.demo;

import io.eventsync.ConfigException;
import java.util.Set;

/**
 * What the demo runs on: the embedded default (H2 files and the embedded log), or real parts.
 *
 * @param broker     null for the embedded log, else kafka, nats or rabbitmq
 * @param servers    Kafka bootstrap servers (null: a local broker), NATS URL or AMQP URI
 * @param db         null for H2 files, else postgres or mariadb
 * @param jdbcUrl    the server database to create the demo's schemas in (postgres, mariadb)
 * @param user       its user
 * @param password   its password (never printed)
 */
public record Infrastructure(String broker, String servers, String db, String jdbcUrl, String user, String password) {
    public static final Infrastructure EMBEDDED = new Infrastructure(null, null, null, null, null, null);

    public Infrastructure {
        if (broker != null && !Set.of("kafka", "nats", "rabbitmq").contains(broker)) {
            throw new ConfigException("--broker must be kafka, nats or rabbitmq, but was: " + broker);
        }
        if (db != null && !Set.of("postgres", "mariadb").contains(db)) {
            throw new ConfigException("--db must be postgres or mariadb, but was: " + db);
        }
    }

    /** The given broker URL, or the local default of the broker (Kafka: null, a broker is started). */
    String serversOrDefault() {
        if (servers != null || broker == null) {
            return servers;
        }
        return switch (broker) {
            case "nats" -> "nats://127.0.0.1:4222";
            case "rabbitmq" -> "amqp://guest:guest@127.0.0.1:5672";
            default -> null;
        };
    }

    String jdbcUrlOrDefault() {
        if (jdbcUrl != null) {
            return jdbcUrl;
        }
        return "postgres".equals(db) ? "jdbc:postgresql://127.0.0.1:5432/test" : "jdbc:mariadb://127.0.0.1:3306/test";
    }

    String userOrDefault() {
        if (user != null) {
            return user;
        }
        return "postgres".equals(db) ? "postgres" : "root";
    }
}
