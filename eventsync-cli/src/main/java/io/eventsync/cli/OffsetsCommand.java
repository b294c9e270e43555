package io.eventsync.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.cli.internal.EventsyncTables;
import io.eventsync.cli.pipeline.Pipeline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "offsets", mixinStandardHelpOptions = true,
        header = "Consumer offsets: show, reset.",
        description = "Consumer offsets kept in the consumer's own database (embedded log transport): the next"
                + " offset each group reads, per topic and partition.",
        subcommands = {OffsetsCommand.Show.class, OffsetsCommand.Reset.class})
final class OffsetsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows the stored offsets of every group (or --group).")
    static final class Show implements Callable<Integer> {
        @Mixin
        DatabaseOptions db;

        @Override
        public Integer call() throws Exception {
            try (HikariDataSource ds = Pipeline.openPool("offsets", db.database()); Connection c = ds.getConnection()) {
                EventsyncTables t = EventsyncTables.of(c, db.database().schema());
                String sql = "SELECT consumer_group, topic, log_partition, next_offset, updated_at FROM " + t.table("offsets")
                        + (db.group != null ? " WHERE consumer_group = ?" : "") + " ORDER BY consumer_group, topic, log_partition";
                try (PreparedStatement st = c.prepareStatement(sql)) {
                    if (db.group != null) {
                        st.setString(1, db.group);
                    }
                    try (ResultSet rs = st.executeQuery()) {
                        System.out.printf("%-24s %-24s %-12s %12s  %s%n", "group", "topic", "partition", "next offset", "updated");
                        int rows = 0;
                        while (rs.next()) {
                            rows++;
                            System.out.printf("%-24s %-24s %-12s %,12d  %s%n", rs.getString(1), rs.getString(2),
                                    rs.getString(3), rs.getLong(4), rs.getTimestamp(5));
                        }
                        System.out.println(rows + " offset(s)");
                    }
                }
            }
            return Main.OK;
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = "Sets a group's next offset on a topic (all partitions, or --partition). Stop the group's"
                    + " consumers first. Moving back re-delivers events; the inbox skips those already applied.")
    static final class Reset implements Callable<Integer> {
        @Mixin
        DatabaseOptions db;

        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
        String topic;

        @Option(names = "--partition", paramLabel = "P", description = "Only this partition.")
        String partition;

        @Option(names = "--to", required = true, paramLabel = "OFFSET", description = "The next offset to read (0 = from the start).")
        long to;

        @Override
        public Integer call() throws Exception {
            if (to < 0) {
                throw new ConfigException("--to must be >= 0, but was " + to);
            }
            String group = db.group();
            try (HikariDataSource ds = Pipeline.openPool("offsets", db.database()); Connection c = ds.getConnection()) {
                EventsyncTables t = EventsyncTables.of(c, db.database().schema());
                String sql = "UPDATE " + t.table("offsets") + " SET next_offset = ? WHERE consumer_group = ? AND topic = ?"
                        + (partition != null ? " AND log_partition = ?" : "");
                try (PreparedStatement st = c.prepareStatement(sql)) {
                    st.setLong(1, to);
                    st.setString(2, group);
                    st.setString(3, topic);
                    if (partition != null) {
                        st.setString(4, partition);
                    }
                    int rows = st.executeUpdate();
                    if (!c.getAutoCommit()) {
                        c.commit();
                    }
                    if (rows == 0) {
                        throw new ConfigException("group " + group + " has no stored offset on topic " + topic
                                + (partition != null ? " partition " + partition : ""));
                    }
                    System.out.printf("group %s on %s: next offset set to %d (%d partition(s))%n", group, topic, to, rows);
                }
            }
            return Main.OK;
        }
    }
}
