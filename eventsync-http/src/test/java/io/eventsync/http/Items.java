package io.eventsync.http;

import static io.eventsync.http.Fixtures.CODEC;

import io.eventsync.DecodeException;
import io.eventsync.envelope.Events;
import io.eventsync.http.test.ItemChanged;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.sql.DataSource;

/**
 * The test domain's two sides. {@link Writer} changes the source's {@code items} table and appends
 * each change's event to the log after the business commit, the way the relay does (a single writer,
 * so per-subject order in the log is version order). {@link Applier} applies events to a copy's
 * {@code items} table with a version guard — a stand-in for eventsync-jdbc's CopyTable, which is
 * being built in parallel.
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
        private final TestDb db;
        private final String topic;
        private final Random random;
        private final int subjects;
        private final Map<String, Long> versions = new HashMap<>();
        private final Map<String, Boolean> exists = new HashMap<>();
        long writes;

        Writer(TestDb db, String topic, int subjects, long seed) {
            this.db = db;
            this.topic = topic;
            this.subjects = subjects;
            this.random = new Random(seed);
        }

        /** One business transaction: insert, update or delete a random item; then its event goes to the log. */
        void writeOne() throws SQLException {
            String id = "item-" + String.format("%04d", random.nextInt(subjects));
            long version = versions.getOrDefault(id, 0L) + 1;
            boolean present = exists.getOrDefault(id, false);
            Envelope event;
            try (Connection c = db.dataSource().getConnection()) {
                if (present && random.nextInt(8) == 0) {
                    exec(c, "DELETE FROM items WHERE id = ?", id);
                    event = Events.tombstone("inventory", id, version, ItemChanged.newBuilder().setId(id).build());
                    exists.put(id, false);
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
                    exists.put(id, true);
                }
            }
            versions.put(id, version);
            db.append(topic, id, event.getId(), CODEC.encode(event));
            writes++;
        }
    }

    static final class Applier implements DeliveryHandler {
        private final DataSource copy;
        volatile long applied;
        volatile long skipped;

        Applier(DataSource copy) {
            this.copy = copy;
        }

        @Override
        public void onDelivery(Delivery delivery) {
            try {
                apply(CODEC.decode(delivery.bytes()));
                delivery.ack();
            } catch (DecodeException | SQLException e) {
                throw new IllegalStateException("applying offset " + delivery.offset(), e);
            }
        }

        private void apply(Envelope event) throws SQLException, DecodeException {
            try (Connection c = copy.getConnection()) {
                String id = event.getSubject();
                long version = event.getSequence();
                if (event.getTombstone()) {
                    exec(c, "DELETE FROM items WHERE id = ? AND version < ?", id, version);
                    applied++;
                    return;
                }
                ItemChanged item;
                try {
                    item = event.getPayload().unpack(ItemChanged.class);
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    throw new DecodeException("payload of " + event.getId() + ": " + e.getMessage());
                }
                int updated = exec(c, "UPDATE items SET name = ?, quantity = ?, version = ? WHERE id = ? AND version < ?",
                        item.getName(), item.getQuantity(), version, id, version);
                if (updated == 0 && exec(c, "SELECT 1 FROM items WHERE id = ?", id) == 0) {
                    exec(c, "INSERT INTO items (id, name, quantity, version) VALUES (?, ?, ?, ?)",
                            id, item.getName(), item.getQuantity(), version);
                    updated = 1;
                }
                if (updated == 1) {
                    applied++;
                } else {
                    skipped++; // version guard: the copy already has this version or a newer one
                }
            }
        }
    }

    /** Runs a statement; returns the update count, or for a query the number of rows. */
    private static int exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                st.setObject(i + 1, args[i]);
            }
            if (sql.startsWith("SELECT")) {
                int n = 0;
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        n++;
                    }
                }
                return n;
            }
            return st.executeUpdate();
        }
    }
}
