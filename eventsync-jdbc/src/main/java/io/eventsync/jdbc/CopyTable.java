package io.eventsync.jdbc;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.internal.CopyColumn;
import io.eventsync.jdbc.internal.CopySql;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.Identifiers;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Purge;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * A copy of another service's data, kept in a table of this service's database: a mapping from a
 * payload type to a table, with key columns (from payload fields or the event's subject), a version
 * column, and only the declared payload fields (field-mask style: nothing else is stored).
 *
 * <p>Its {@link #handler()} runs inside a {@link JdbcApplyScope} transaction and
 * <ul>
 *   <li>upserts the row when the event's {@code sequence} is greater than the stored version, and
 *       otherwise returns {@code Skipped("stale: version X <= Y")};</li>
 *   <li>deletes the row on a tombstone event, remembering the deleted version (in
 *       {@code eventsync_copy_tombstones}) so an older event cannot bring the row back.</li>
 * </ul>
 *
 * <p>A deletion is remembered for the {@linkplain Builder#tombstoneWindow tombstone window} (default 7
 * days); {@link #purgeTombstones} forgets older ones (a {@link Retention} runs it). An event older than
 * the deletion that arrives after the window (a very late redelivery) finds neither row nor tombstone
 * and brings the row back, so keep the window at least as long as the inbox's dedup window.
 *
 * <pre>{@code
 * CopyTable orders = CopyTable.builder(OrderChanged.getDescriptor(), "orders_copy")
 *         .key("order_id", "order_id")          // column <- payload field
 *         .column("customer_id", "customer.id") // nested field path
 *         .column("amount_cents")               // column named like the field
 *         .versionColumn("version")
 *         .build();
 * orders.createTable(dataSource);               // optional, idempotent
 * handlers.on(OrderChanged.getDescriptor(), orders.handler(), options);
 * }</pre>
 */
public final class CopyTable {
    /** The default tombstone window. */
    public static final Duration DEFAULT_TOMBSTONE_WINDOW = Duration.ofDays(7);

    private final Descriptor payloadType;
    private final String schema;
    private final String table;
    private final String versionColumn;
    private final List<CopyColumn> keys;
    private final List<CopyColumn> values;
    private final Duration tombstoneWindow;
    /** Built on first use per dialect, when the schema (if not configured) is known from a connection. */
    private final Map<String, CopySql> sql = new ConcurrentHashMap<>();

    private CopyTable(Builder b) {
        this.payloadType = b.payloadType;
        this.schema = b.schema;
        this.table = b.table;
        this.versionColumn = b.versionColumn;
        this.keys = List.copyOf(b.keys);
        this.values = List.copyOf(b.values);
        this.tombstoneWindow = b.tombstoneWindow;
    }

    public static Builder builder(Descriptor payloadType, String table) {
        return new Builder(payloadType, table);
    }

    public String table() {
        return table;
    }

    public Descriptor payloadType() {
        return payloadType;
    }

    /** The handler that applies events of {@link #payloadType()} to this table. */
    public Handler<Message> handler() {
        return this::apply;
    }

    /** Registers {@link #handler()} for {@link #payloadType()} on {@code handlers}. */
    public HandlerRegistry.Builder registerOn(HandlerRegistry.Builder handlers, HandlerOptions options) {
        return handlers.on(payloadType, handler(), options);
    }

    /** How long a deletion is remembered; {@link #purgeTombstones} forgets older ones. */
    public Duration tombstoneWindow() {
        return tombstoneWindow;
    }

    /** Creates the copy table and the tombstones table if they do not exist. */
    public void createTable(DataSource dataSource) {
        try (Connection c = Jdbc.connect(dataSource, "creating copy table " + table);
             Statement st = c.createStatement()) {
            CopySql q = sql(c);
            for (String ddl : q.createTables) {
                st.execute(ddl);
            }
            for (String ddl : EventsyncSchema.statementsOf(q.tables, "copy_tombstones")) {
                st.execute(ddl);
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        } catch (SQLException e) {
            throw new EventsyncException("cannot create copy table " + table + ": " + e.getMessage(), e);
        }
    }

    /**
     * Forgets this table's deletions older than the tombstone window, at most 1,000 per statement, each
     * statement its own short transaction; deletions inside the window are never touched. Safe while
     * events are applied: a tombstone written meanwhile is newer than the cutoff.
     *
     * @param dataSource the copy's database (where this table is)
     */
    public Purged purgeTombstones(DataSource dataSource) {
        return purgeTombstones(dataSource, () -> true);
    }

    /** {@link #purgeTombstones(DataSource)}, stopping between two statements once {@code goOn} says no. */
    Purged purgeTombstones(DataSource dataSource, BooleanSupplier goOn) {
        Timestamp cutoff = Timestamp.from(Instant.now().minus(tombstoneWindow)); // the clock tombstone() stamps with
        try (Connection c = Jdbc.connect(dataSource, "purging the tombstones of copy table " + table)) {
            CopySql q = sql(c);
            return Purge.olderThan(c, q.tables.dialect(), q.tables.name("copy_tombstones") + "[" + table + "]",
                    q.purgeTombstones, table, cutoff, goOn);
        } catch (SQLException e) {
            throw new EventsyncException("purging the tombstones of copy table " + table + " older than "
                    + tombstoneWindow + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private Outcome apply(Message payload, EventContext context) throws SQLException {
        // In a batched apply on PostgreSQL the batch's own connection: the view bound as Connection would send
        // the held updates first, and this handler's update is held behind them anyway.
        CopyWrites batch = context.resource(CopyWrites.class).orElse(null);
        Connection c = batch != null ? batch.connection() : context.resource(Connection.class).orElseThrow(() ->
                new PermanentException("CopyTable " + table
                        + " needs the apply transaction's Connection; run its handler with a JdbcApplyScope"));
        String type = payload.getDescriptorForType().getFullName();
        if (!type.equals(payloadType.getFullName())) {
            throw new PermanentException("CopyTable " + table + " copies " + payloadType.getFullName()
                    + " but received " + type);
        }
        Envelope event = context.envelope();
        CopySql q = sql(c);
        List<Object> keyValues = keyValues(payload, event);
        if (!event.getTombstone()) {
            if (batch != null) {
                // The guarded update goes out with the batch's others, in order (the outcome may still become
                // skipped, see CopyWrites).
                batch.defer(this, q, payload, event, keyValues);
                return Outcome.applied();
            }
            if (update(c, q, payload, event, keyValues)) {
                // An existing row with a lower version, updated under the version guard: the same effect as
                // the read + upsert below takes for that case (a key with a row is never behind a tombstone).
                return Outcome.applied();
            }
        } else if (batch != null) {
            batch.flush(); // a deletion reads the row: the updates held before it go first
        }
        return applyWithoutUpdate(c, q, payload, event, keyValues);
    }

    /** The event's full path when no row with a lower version was there to update (or it is a tombstone). */
    Outcome applyWithoutUpdate(Connection c, CopySql q, Message payload, Envelope event, List<Object> keyValues)
            throws SQLException {
        long sequence = event.getSequence();
        Long stored = selectLong(c, q.selectVersion, keyValues);
        if (stored != null && sequence <= stored) {
            return Outcome.skipped("stale: version " + sequence + " <= " + stored + " stored in " + table);
        }
        String rowKey = rowKey(keyValues);
        // Only a key without a row can have been deleted; the common update path skips this read.
        Long deletedAt = stored == null ? selectTombstone(c, q, rowKey) : null;
        if (deletedAt != null && sequence <= deletedAt) {
            return Outcome.skipped("stale: version " + sequence + " <= " + deletedAt + " deleted from " + table);
        }
        if (event.getTombstone()) {
            if (stored != null) {
                delete(c, q, keyValues, sequence);
            }
            tombstone(c, q.upsertTombstone, rowKey, sequence);
        } else {
            upsert(c, q, payload, event, keyValues, sequence);
            if (deletedAt != null) {
                tombstone(c, q.deleteTombstone, rowKey, null);
            }
        }
        return Outcome.applied();
    }

    private List<Object> keyValues(Message payload, Envelope event) {
        List<Object> keyValues = new ArrayList<>(keys.size());
        for (CopyColumn k : keys) {
            Object v = k.value(payload, event.getSubject());
            if (v == null || (v instanceof String s && s.isEmpty())) {
                throw new PermanentException("event " + event.getId() + " subject " + event.getSubject()
                        + " has no value for key column " + k.column() + " of copy table " + table);
            }
            keyValues.add(v);
        }
        return keyValues;
    }

    /** Deletes the row if its stored version is still lower (the guard re-checked under the row lock). */
    private void delete(Connection c, CopySql q, List<Object> keyValues, long sequence) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.delete)) {
            for (int k = 0; k < keys.size(); k++) {
                keys.get(k).bind(ps, k + 1, keyValues.get(k));
            }
            ps.setLong(keys.size() + 1, sequence);
            ps.executeUpdate();
        }
    }

    /** Records the deletion version and time ({@code version} given) or forgets it ({@code null}). */
    private void tombstone(Connection c, String statement, String rowKey, Long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(statement)) {
            ps.setString(1, table);
            ps.setString(2, rowKey);
            if (version != null) {
                ps.setLong(3, version);
                ps.setTimestamp(4, Timestamp.from(Instant.now()));
            }
            ps.executeUpdate();
        }
    }

    private void upsert(Connection c, CopySql q, Message payload, Envelope event, List<Object> keyValues, long sequence)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.upsert)) {
            int i = 1;
            for (int k = 0; k < keys.size(); k++) {
                keys.get(k).bind(ps, i++, keyValues.get(k));
            }
            for (CopyColumn col : values) {
                col.bind(ps, i++, col.value(payload, event.getSubject()));
            }
            ps.setLong(i, sequence);
            ps.executeUpdate();
        }
    }

    /** The guarded update of an existing row; false when no row of the key has a lower version. */
    private boolean update(Connection c, CopySql q, Message payload, Envelope event, List<Object> keyValues)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.update)) {
            bindUpdate(ps, payload, event, keyValues);
            return ps.executeUpdate() > 0;
        }
    }

    /** Binds the guarded update's parameters: the values, the version, the key, the version again. */
    void bindUpdate(PreparedStatement ps, Message payload, Envelope event, List<Object> keyValues) throws SQLException {
        long sequence = event.getSequence();
        int i = 1;
        for (CopyColumn col : values) {
            col.bind(ps, i++, col.value(payload, event.getSubject()));
        }
        ps.setLong(i++, sequence);
        for (int k = 0; k < keys.size(); k++) {
            keys.get(k).bind(ps, i++, keyValues.get(k));
        }
        ps.setLong(i, sequence);
    }

    private Long selectLong(Connection c, String query, List<Object> keyValues) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(query)) {
            for (int k = 0; k < keys.size(); k++) {
                keys.get(k).bind(ps, k + 1, keyValues.get(k));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private Long selectTombstone(Connection c, CopySql q, String rowKey) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.selectTombstone)) {
            ps.setString(1, table);
            ps.setString(2, rowKey);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /** A key's text form for the tombstones table: each part length-prefixed, so no separator can collide. */
    static String rowKey(List<Object> keyValues) {
        StringBuilder sb = new StringBuilder();
        for (Object v : keyValues) {
            String s = v instanceof byte[] b ? Base64.getEncoder().encodeToString(b) : String.valueOf(v);
            sb.append(s.length()).append(':').append(s);
        }
        return sb.toString();
    }

    private CopySql sql(Connection c) throws SQLException {
        Dialect dialect = Dialect.of(c);
        CopySql q = sql.get(dialect.name());
        if (q == null) {
            Tables tables = Tables.resolve(c, schema == null ? SchemaNames.defaults() : SchemaNames.of(schema));
            q = new CopySql(tables, table, keys, versionColumn, values);
            sql.putIfAbsent(dialect.name(), q);
        }
        return q;
    }

    public static final class Builder {
        private final Descriptor payloadType;
        private final String table;
        private String schema;
        private String versionColumn = "version";
        private Duration tombstoneWindow = DEFAULT_TOMBSTONE_WINDOW;
        private final List<CopyColumn> keys = new ArrayList<>();
        private final List<CopyColumn> values = new ArrayList<>();

        private Builder(Descriptor payloadType, String table) {
            this.payloadType = Objects.requireNonNull(payloadType, "payloadType");
            this.table = table;
        }

        /** The schema (database on MariaDB) of the copy table; default: the connection's. */
        public Builder schema(String schema) {
            this.schema = schema;
            return this;
        }

        /** A key column filled from a payload field path. */
        public Builder key(String column, String fieldPath) {
            keys.add(CopyColumn.field(column, fieldPath, payloadType));
            return this;
        }

        /** A key column filled from the event's subject (the aggregate key). */
        public Builder keyFromSubject(String column) {
            keys.add(CopyColumn.subject(column));
            return this;
        }

        /** A column filled from a payload field path ({@code a.b.c} for nested fields). */
        public Builder column(String column, String fieldPath) {
            values.add(CopyColumn.field(column, fieldPath, payloadType));
            return this;
        }

        /** A column named like the payload field it is filled from. */
        public Builder column(String field) {
            return column(field, field);
        }

        /** The column holding the event sequence of the row, default {@code version}. */
        public Builder versionColumn(String versionColumn) {
            this.versionColumn = versionColumn;
            return this;
        }

        /**
         * How long a deletion is remembered, so that an older event arriving later cannot bring the row
         * back; {@link CopyTable#purgeTombstones} forgets older ones. Default 7 days; must be positive;
         * keep it at least as long as the inbox's dedup window.
         */
        public Builder tombstoneWindow(Duration tombstoneWindow) {
            this.tombstoneWindow = tombstoneWindow;
            return this;
        }

        public CopyTable build() {
            Identifiers.require("table", table);
            if (tombstoneWindow == null || tombstoneWindow.isNegative() || tombstoneWindow.isZero()) {
                throw new ConfigException("tombstoneWindow of copy table " + table + " must be positive (how long"
                        + " deletions are remembered, e.g. 7 days), but was: " + tombstoneWindow);
            }
            if (schema != null) {
                Identifiers.require("schema", schema);
            }
            Identifiers.require("versionColumn", versionColumn);
            if (keys.isEmpty()) {
                throw new ConfigException("copy table " + table + " needs at least one key column; declare"
                        + " key(column, fieldPath) or keyFromSubject(column)");
            }
            Set<String> seen = new HashSet<>();
            seen.add(versionColumn.toLowerCase());
            for (CopyColumn c : keys) {
                requireUnique(seen, c.column());
            }
            for (CopyColumn c : values) {
                requireUnique(seen, c.column());
            }
            return new CopyTable(this);
        }

        private void requireUnique(Set<String> seen, String column) {
            if (!seen.add(column.toLowerCase())) {
                throw new ConfigException("copy table " + table + " declares column " + column
                        + " twice (or it clashes with versionColumn " + versionColumn + ")");
            }
        }
    }
}
