package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Where the binlog relay's client connects, and the replica server id it registers with. The id must be
 * unique among the server's replicas and the same for every relay of one source: a dump registered with
 * an id makes the server end an older dump with that id, which cuts off a deposed relay.
 */
public record BinlogReplica(String host, int port, String user, String password, long serverId) {
    private static final Pattern URL = Pattern.compile("jdbc:(?:mariadb|mysql)://([^/:?,]+)(?::(\\d+))?.*");

    public BinlogReplica {
        if (host == null || host.isBlank()) {
            throw new ConfigException("replication host is required, but was: " + host);
        }
        if (port < 1 || port > 65_535) {
            throw new ConfigException("replication port must be 1..65535, but was: " + port);
        }
        if (user == null || user.isBlank()) {
            throw new ConfigException("replication user is required, but was: " + user);
        }
        if (serverId < 1 || serverId > 4_294_967_295L) {
            throw new ConfigException("serverId must be 1..4294967295, but was: " + serverId);
        }
    }

    /** Derived from the source name, in 1,000,000..2,147,483,646: away from the small ids servers usually get. */
    public static long defaultServerId(String source) {
        return 1_000_000L + Math.floorMod(source.hashCode(), 2_147_483_647 - 1_000_000);
    }

    /** Host, port, user and password of a HikariDataSource's {@code jdbc:mariadb:} or {@code jdbc:mysql:} URL. */
    public static BinlogReplica of(DataSource dataSource, long serverId) {
        Pools.Target target = Pools.target(dataSource).orElseThrow(() -> new ConfigException(
                "replication(host, port, user, password) is required unless dataSource is a HikariDataSource with a jdbcUrl"));
        Matcher m = URL.matcher(target.url());
        if (!m.matches()) {
            throw new ConfigException("the binlog relay needs a jdbc:mariadb: or jdbc:mysql: URL, but was: "
                    + Jdbc.redact(target.url()) + "; use the query relay (Relay) on other databases");
        }
        String user = target.properties().getProperty("user", parameter(target.url(), "user"));
        String password = target.properties().getProperty("password", parameter(target.url(), "password"));
        return new BinlogReplica(m.group(1), m.group(2) == null ? 3306 : Integer.parseInt(m.group(2)),
                user == null ? "root" : user, password, serverId);
    }

    private static String parameter(String url, String name) {
        Matcher m = Pattern.compile("[?&]" + name + "=([^&]*)").matcher(url);
        return m.find() ? m.group(1) : null;
    }

    @Override
    public String toString() { // never the password
        return user + "@" + host + ":" + port + " (server id " + serverId + ")";
    }
}
