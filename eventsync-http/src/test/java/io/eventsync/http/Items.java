package io.eventsync.http;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.http.test.ItemChanged;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Outbox;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.sql.DataSource;

/**
 * The test domain's two sides, wired the way services wire eventsync. {@link Writer} changes the
 * source's {@code items} table and appends the event to the outbox in the same transaction (the relay
 * moves it to the log). {@link Copy} applies events to a copy's {@code items} table through the
 * Dispatcher, JdbcApplyScope (inbox) and CopyTable (version guard, tombstones).
 */
final class Items {
    private Items() {}

    static SnapshotMapping mapping(String name, String topic, DataSource source) {
        return SnapshotMapping.builder(name).topic(topic).table("items").keyColumns("id").dataSource(source)
                .rows(row -> new SnapshotRow(row.getString("id"), row.getLong("version"), ItemChanged.newBuilder()
                        .setId(row.getString("id")).setName(row.getString("name")).setQuantity(row.getLong("quantity")).build()))
                .build();
    }

    /** All rows of {@code items}, ordered by id, as "id|name|quantity|version". */
    static List<String> rows(DataSource db) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.getConnection();
             PreparedStatement st = c.prepareStatement("SELECT id, name, quantity, version FROM items ORDER BY id");
             ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getLong(3) + "|" + rs.getLong(4));
            }
        }
        return rows;
    }

    static final class Writer {
        private final DataSource db;
        private final Outbox outbox = Outbox.of("inventory");
        private final Random random;
        private final int subjects;
        private final Map<String, Long> versions = new HashMap<>();
        private final Map<String, Boolean> exists = new HashMap<>();
        volatile long writes;
        /** False: only inserts and updates (a snapshot cannot carry a delete, see GonePolicy.REBOOTSTRAP). */
        volatile boolean deletes = true;

        Writer(DataSource db, int subjects, long seed) {
            this.db = db;
            this.subjects = subjects;
            this.random = new Random(seed);
        }

        /** One business transaction: insert, update or delete a random item, with its event in the outbox. */
        void writeOne() throws SQLException {
            String id = "item-" + String.format("%04d", random.nextInt(subjects));
            long version = versions.getOrDefault(id, 0L) + 1;
            boolean present = exists.getOrDefault(id, false);
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false);
                Envelope event;
                if (present && random.nextInt(8) == 0 && deletes) {
                    exec(c, "DELETE FROM items WHERE id = ?", id);
                    event = Events.tombstone("inventory", id, version, ItemChanged.newBuilder().setId(id).build());
                } else {
                    ItemChanged item = ItemChanged.newBuilder().setId(id).setName("n" + random.nextInt(1000))
                            .setQuantity(random.nextInt(100)).build();
                    if (present) {
                        exec(c, "UPDATE items SET name = ?, quantity = ?, version = ? WHERE id = ?",
                                item.getName(), item.getQuantity(), version, id);
                    } else {
                        exec(c, "INSERT INTO items (id, name, quantity, version) VALUES (?, ?, ?, ?)",
                                id, item.getName(), item.getQuantity(), version);
                    }
                    event = Events.create("inventory", id, version, item);
                }
                outbox.append(c, event);
                c.commit();
                exists.put(id, !event.getTombstone());
            }
            versions.put(id, version);
            writes++;
        }
    }

    /** A copy service's apply path for items: dispatcher (4 lanes) -> inbox -> CopyTable into {@code items}. */
    static final class Copy implements AutoCloseable {
        final Dispatcher dispatcher;
        private final JdbcApplyScope scope;

        Copy(DataSource copyDb, String group) {
            CopyTable table = CopyTable.builder(ItemChanged.getDescriptor(), "items")
                    .keyFromSubject("id").column("name").column("quantity").versionColumn("version").build();
            table.createTable(copyDb);
            this.scope = JdbcApplyScope.builder(Inbox.builder(copyDb).build()).build();
            this.dispatcher = Dispatcher.builder(group)
                    .handlers(table.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                    .types(TypeRegistry.builder().add(ItemChanged.getDefaultInstance()).build())
                    .codec(EnvelopeCodec.defaults())
                    .validator(EnvelopeValidator.defaults())
                    .applyScope(scope)
                    .deadLetters(JdbcDeadLetters.create(copyDb))
                    .lanes(4)
                    .shutdownTimeout(Duration.ofSeconds(10))
                    .build();
        }

        @Override
        public void close() {
            dispatcher.close();
            scope.close();
        }
    }

    private static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                st.setObject(i + 1, args[i]);
            }
            st.executeUpdate();
        }
    }
}
