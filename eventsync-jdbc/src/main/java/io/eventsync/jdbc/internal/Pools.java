package io.eventsync.jdbc.internal;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * What eventsync can learn from, or ask of, a connection pool it did not create. HikariCP is an
 * optional dependency: the application brings its own pool (or none), so every use of HikariCP's types
 * sits in {@link Hikari}, a class the JVM loads only after this one found HikariCP on the class path.
 * Without it, the answers are empty and the callers take their generic path.
 */
public final class Pools {
    private static final boolean HIKARI = present("com.zaxxer.hikari.HikariDataSource");

    private Pools() {}

    /** The JDBC URL the pool connects to, when the pool says (HikariCP with a {@code jdbcUrl}). */
    public static Optional<String> jdbcUrl(DataSource dataSource) {
        return HIKARI ? Hikari.jdbcUrl(dataSource) : Optional.empty();
    }

    /**
     * The pool's URL with its user, password and data-source properties, for a second, non-pooled
     * connection to the same database (a replication connection); empty when the pool cannot say.
     */
    public static Optional<Target> target(DataSource dataSource) {
        return HIKARI ? Hikari.target(dataSource) : Optional.empty();
    }

    /**
     * Evicts {@code c} from its pool (closed now, never handed out again) when the pool supports it;
     * false when the caller must close the physical connection itself.
     */
    public static boolean evict(DataSource dataSource, Connection c) {
        return HIKARI && Hikari.evict(dataSource, c);
    }

    /** A URL with the properties (user and password included) to connect to it. */
    public record Target(String url, Properties properties) {}

    private static boolean present(String className) {
        try {
            Class.forName(className, false, Pools.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Loaded only when HikariCP is present. */
    private static final class Hikari {
        static Optional<String> jdbcUrl(DataSource dataSource) {
            return dataSource instanceof HikariDataSource h ? Optional.ofNullable(h.getJdbcUrl()) : Optional.empty();
        }

        static Optional<Target> target(DataSource dataSource) {
            if (!(dataSource instanceof HikariDataSource h) || h.getJdbcUrl() == null) {
                return Optional.empty();
            }
            Properties properties = new Properties();
            properties.putAll(h.getDataSourceProperties());
            if (h.getUsername() != null) {
                properties.setProperty("user", h.getUsername());
            }
            if (h.getPassword() != null) {
                properties.setProperty("password", h.getPassword());
            }
            return Optional.of(new Target(h.getJdbcUrl(), properties));
        }

        static boolean evict(DataSource dataSource, Connection c) {
            if (dataSource instanceof HikariDataSource h) {
                h.evictConnection(c); // a proxy already returned is only marked, never closed under its next user
                return true;
            }
            return false;
        }
    }
}
