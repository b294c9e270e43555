package io.eventsync.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.internal.EventsyncTables;
import io.eventsync.cli.internal.Json;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.cli.pipeline.PipelineConfig;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.jdbc.FreshnessTable;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.OutboxDeadLetters;
import io.eventsync.jdbc.WalSlot;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Outbox backlog or slot lag, consumer lag, freshness, dead letters of a pipeline.",
        description = "Where a pipeline stands: the relay's outbox backlog and relay dead letters (each parks its key;"
                + " relay.mode wal: also its replication slot, whether it is read, the confirmed position and the WAL"
                + " kept behind it in bytes), and for the consumer group its lag"
                + " behind the topic (embedded log: head minus next offset; brokers: as the consumers last recorded it"
                + " per partition), its freshness per source (from the relay's heartbeats: the"
                + " worst over its partitions, as the consumers last recorded them in eventsync_freshness_partition, and"
                + " each partition), dead letters and parked keys. Needs --config.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    DatabaseOptions db;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PipelineConfig config = db.pipeline();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pipeline", config.name());
        out.put("transport", config.transport().kind());
        if (config.relay().isPresent()) {
            PipelineConfig.RelayConfig relay = config.relay().get();
            try (HikariDataSource ds = Pipeline.openPool("status-relay", relay.database())) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("source", relay.source());
                r.put("topic", relay.topic());
                r.put("mode", relay.wal().isPresent() ? "wal" : relay.binlog().isPresent() ? "binlog" : "query");
                try (Connection c = ds.getConnection()) {
                    EventsyncTables t = EventsyncTables.of(c, relay.database().schema());
                    r.put("outbox_backlog", count(c, "SELECT COUNT(*) FROM " + t.table("outbox") + " WHERE source = ?",
                            relay.source()));
                }
                // Each relay dead letter parks its key: the key's later events are in the backlog, waiting.
                r.put("outbox_dead_letters", OutboxDeadLetters.create(ds, Pipeline.names(relay.database()))
                        .count(relay.source()));
                relay.wal().ifPresent(wal -> r.put("slot", slot(ds, wal.slot())));
                out.put("relay", r);
            }
        }
        if (config.consume().isPresent()) {
            PipelineConfig.ConsumeConfig consume = config.consume().get();
            String group = db.group();
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("group", group);
            g.put("topic", consume.topic());
            try (HikariDataSource ds = Pipeline.openPool("status-consume", consume.database())) {
                long next = Offsets.in(ds, Pipeline.names(consume.database())).load(group, consume.topic(), "0");
                if (config.transport().kind().equals("log")) {
                    PipelineConfig.Database logDb = config.transport().database();
                    try (HikariDataSource log = Pipeline.openPool("status-log", logDb); Connection c = log.getConnection()) {
                        EventsyncTables t = EventsyncTables.of(c, logDb.schema());
                        long head = count(c, "SELECT COALESCE(MAX(next_offset), 0) FROM " + t.table("log_head")
                                + " WHERE topic = ?", consume.topic());
                        g.put("next_offset", next);
                        g.put("log_head", head);
                        g.put("lag", Math.max(0, head - next));
                    }
                } else if (config.transport().kind().equals("http")) {
                    // The feed's head is on the source's server; the puller's gauge eventsync.http.pull.lag has it.
                    g.put("next_offset", next);
                    g.put("lag", "see the gauge eventsync_http_pull_lag of the running pipeline (the feed's head is on "
                            + config.transport().servers() + ")");
                } else {
                    g.put("lag", recordedLag(ds, consume, group, config.transport().kind()));
                }
                List<DeadLetter> letters = JdbcDeadLetters.create(ds, Pipeline.names(consume.database())).list(group);
                g.put("dead_letters", letters.stream().filter(l -> l.kind() == DeadLetter.Kind.FAILED).count());
                g.put("held", letters.stream().filter(l -> l.kind() == DeadLetter.Kind.HELD).count());
                g.put("parked_keys", letters.stream().map(DeadLetter::key).distinct().count());
                g.put("freshness", freshness(ds, consume, group));
            }
            out.put("consume", g);
        }
        if (json) {
            System.out.println(Json.write(out));
        } else {
            print(out, "");
        }
        return Main.OK;
    }

    /**
     * Per source, as the consumer last recorded it from the relay's heartbeats: freshness (now minus the
     * source time of the latest heartbeat applied, in seconds), that source time, and when it was applied.
     */
    private static Object freshness(HikariDataSource ds, PipelineConfig.ConsumeConfig consume, String group) {
        List<FreshnessTable.Row> rows = FreshnessTable.in(ds, Pipeline.names(consume.database())).read(group);
        if (rows.isEmpty()) {
            return "unknown (no heartbeat applied yet: is the relay running, with heartbeats on?)";
        }
        Instant now = Instant.now();
        Map<String, Object> out = new LinkedHashMap<>();
        for (FreshnessTable.Row row : rows) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("seconds", seconds(row.sourceTime(), now));
            f.put("source_time", row.sourceTime().toString());
            f.put("applied_at", row.appliedAt() == null ? "none yet" : row.appliedAt().toString());
            if (!row.partitions().isEmpty()) {
                Map<String, Object> partitions = new LinkedHashMap<>();
                for (FreshnessTable.PartitionRow p : row.partitions()) {
                    Map<String, Object> pf = new LinkedHashMap<>();
                    pf.put("seconds", seconds(p.sourceTime(), now));
                    pf.put(p.appliedAt() == null ? "first_seen" : "source_time", p.sourceTime().toString());
                    pf.put("applied_at", p.appliedAt() == null ? "none yet (no heartbeat applied)" : p.appliedAt().toString());
                    pf.put("lag", p.lag() == null ? "unknown" : p.lag());
                    pf.put("recorded_at", p.recordedAt().toString());
                    partitions.put(p.partition(), pf);
                }
                f.put("partitions", partitions);
            }
            out.put(row.source(), f);
        }
        return out;
    }

    /**
     * A broker transport's lag as the consumers last recorded it beside their freshness (events not yet
     * applied per partition, the transport's own figure): the sum over partitions, a partition counted once
     * even when several sources' rows carry it.
     */
    private static Object recordedLag(HikariDataSource ds, PipelineConfig.ConsumeConfig consume, String group,
                                      String transport) {
        Map<String, Long> byPartition = new java.util.TreeMap<>();
        List<FreshnessTable.PartitionRow> rows;
        try {
            rows = FreshnessTable.in(ds, Pipeline.names(consume.database())).readPartitions(group);
        } catch (io.eventsync.ConfigException e) {
            rows = List.of(); // a schema from before V2: its consumers recorded no lag
        }
        for (FreshnessTable.PartitionRow p : rows) {
            if (p.lag() != null) {
                byPartition.merge(p.partition(), p.lag(), Math::max);
            }
        }
        if (byPartition.isEmpty()) {
            return "unknown (no consumer of the group recorded one yet; it is recorded with the freshness, so the"
                    + " relay must send heartbeats) - see the broker's own tools for " + transport + " consumer lag";
        }
        return byPartition.values().stream().mapToLong(Long::longValue).sum();
    }

    private static double seconds(Instant sourceTime, Instant now) {
        return Math.max(0, Duration.between(sourceTime, now).toMillis()) / 1000.0;
    }

    /** WAL mode: where the slot stands and how much WAL the server keeps for it. */
    private static Map<String, Object> slot(HikariDataSource ds, String slot) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", slot);
        Optional<WalSlot.Status> status = WalSlot.status(ds, slot);
        if (status.isEmpty()) {
            s.put("state", "missing (create it with relay.create_slot: true on a first run; if it existed, it was"
                    + " dropped and the copies need a new bootstrap)");
            return s;
        }
        WalSlot.Status st = status.get();
        s.put("active", st.active());
        s.put("confirmed_lsn", WalSlot.lsnText(st.confirmedLsn()));
        s.put("lag_bytes", st.lagBytes());
        s.put("wal_status", st.walStatus());
        return s;
    }

    @SuppressWarnings("unchecked")
    private static void print(Map<String, Object> map, String indent) {
        map.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m) {
                System.out.println(indent + k + ":");
                print((Map<String, Object>) m, indent + "  ");
            } else {
                System.out.println(indent + k + ": " + v);
            }
        });
    }

    private static long count(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            st.setString(1, arg);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }
}
