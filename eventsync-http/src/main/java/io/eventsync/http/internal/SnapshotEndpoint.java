package io.eventsync.http.internal;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.eventsync.envelope.Events;
import io.eventsync.http.FeedSource;
import io.eventsync.http.SnapshotMapping;
import io.eventsync.http.SnapshotRow;
import io.eventsync.http.v1.KeyValue;
import io.eventsync.http.v1.SnapshotCursor;
import io.eventsync.http.v1.SnapshotPage;
import io.eventsync.v1.Envelope;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /v1/snapshots/{name}?cursor=&limit=}: a mapped table's rows by key, as envelopes.
 *
 * <p>Consistency: the first page reads the topic's log head P <em>before</em> reading any row, and
 * the cursor carries P to every later page. Every event below P committed (in the same
 * database) before the rows were read, so the rows include its effect; events at or after P may or may
 * not be included, and the copy's version guard discards those it replays that are not newer than
 * the row. Applying every page and then following the feed from P therefore ends equal to the
 * source, even while the source keeps writing.
 */
public final class SnapshotEndpoint {
    private static final Set<String> PARAMETERS = Set.of("cursor", "limit");

    private final Map<String, SnapshotMapping> mappings;
    private final FeedSource feed;
    private final String sourceName;
    private final int defaultPageSize;
    private final int maxPageSize;
    private final Representation representation;

    public SnapshotEndpoint(Map<String, SnapshotMapping> mappings, FeedSource feed, String sourceName,
                            int defaultPageSize, int maxPageSize, Representation representation) {
        this.mappings = Map.copyOf(mappings);
        this.feed = feed;
        this.sourceName = sourceName;
        this.defaultPageSize = defaultPageSize;
        this.maxPageSize = maxPageSize;
        this.representation = representation;
    }

    public SnapshotPage page(String name, String rawQuery, MediaType media) throws SQLException {
        SnapshotMapping mapping = mappings.get(name);
        if (mapping == null) {
            throw new HttpProblem(404, "no snapshot named '" + name + "' is served here");
        }
        QueryParameters query = new QueryParameters(rawQuery, PARAMETERS);
        int limit = (int) Math.min(maxPageSize, query.number("limit", defaultPageSize, 1, Integer.MAX_VALUE,
                "limit is the largest number of rows to return, >= 1"));
        String rawCursor = query.text("cursor", "");
        SnapshotCursor cursor = rawCursor.isEmpty()
                ? SnapshotCursor.newBuilder().setPosition(feed.range(mapping.topic()).head()).build()
                : decodeCursor(rawCursor, mapping);

        SnapshotPage.Builder page = SnapshotPage.newBuilder()
                .setName(name).setTopic(mapping.topic()).setPosition(cursor.getPosition());
        List<KeyValue> lastKey = cursor.getLastKeyList();
        long served = cursor.getRowsServed();
        int rows = 0;
        try (Connection connection = mapping.dataSource().getConnection();
             PreparedStatement statement = connection.prepareStatement(sql(mapping, !lastKey.isEmpty()))) {
            int index = 1;
            for (KeyValue key : lastKey) {
                if (key.hasNumber()) {
                    statement.setLong(index++, key.getNumber());
                } else {
                    statement.setString(index++, key.getText());
                }
            }
            statement.setInt(index, limit);
            try (ResultSet resultSet = statement.executeQuery()) {
                while (resultSet.next()) {
                    SnapshotRow row = mapping.mapper().map(resultSet);
                    page.addEntries(representation.entry(served++, envelope(row).toByteArray(), media));
                    lastKey = keyOf(resultSet, mapping);
                    rows++;
                }
            }
        }
        if (rows == limit) {
            page.setNextCursor(encodeCursor(SnapshotCursor.newBuilder().setPosition(cursor.getPosition())
                    .addAllLastKey(lastKey).setRowsServed(served).build()));
        }
        return page.build();
    }

    private Envelope envelope(SnapshotRow row) {
        Instant now = Instant.now();
        return Envelope.newBuilder()
                .setId(Events.newId())
                .setSource(sourceName)
                .setType(row.payload().getDescriptorForType().getFullName())
                .setSubject(row.subject())
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setSpecversion("1.0")
                .setSequence(row.sequence())
                .setPayload(Any.pack(row.payload()))
                .build();
    }

    /** Keyset paging: {@code (k1, k2) > (?, ?)} is a row-value comparison PostgreSQL, MariaDB and H2 all support. */
    private static String sql(SnapshotMapping mapping, boolean afterKey) {
        String keys = String.join(", ", mapping.keyColumns());
        String placeholders = String.join(", ", mapping.keyColumns().stream().map(c -> "?").toList());
        String where = !afterKey ? ""
                : mapping.keyColumns().size() == 1 ? " WHERE " + keys + " > ?"
                : " WHERE (" + keys + ") > (" + placeholders + ")";
        return "SELECT * FROM " + mapping.table() + where + " ORDER BY " + keys + " LIMIT ?";
    }

    /** Integral keys page as numbers, everything else as text (so key columns must be integral or text). */
    private static List<KeyValue> keyOf(ResultSet row, SnapshotMapping mapping) throws SQLException {
        List<KeyValue> key = new ArrayList<>(mapping.keyColumns().size());
        for (String column : mapping.keyColumns()) {
            Object value = row.getObject(column);
            if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
                key.add(KeyValue.newBuilder().setNumber(((Number) value).longValue()).build());
            } else if (value instanceof BigInteger || (value instanceof BigDecimal d && d.scale() == 0)) {
                key.add(KeyValue.newBuilder().setNumber(((Number) value).longValue()).build());
            } else {
                key.add(KeyValue.newBuilder().setText(String.valueOf(value)).build());
            }
        }
        return key;
    }

    private static String encodeCursor(SnapshotCursor cursor) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(cursor.toByteArray());
    }

    private static SnapshotCursor decodeCursor(String raw, SnapshotMapping mapping) {
        try {
            SnapshotCursor cursor = SnapshotCursor.parseFrom(Base64.getUrlDecoder().decode(raw));
            if (cursor.getLastKeyCount() != mapping.keyColumns().size()) {
                throw new HttpProblem(400, "cursor does not belong to snapshot '" + mapping.name()
                        + "': pass the next_cursor of the previous page unchanged, or omit it to start over");
            }
            return cursor;
        } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
            throw new HttpProblem(400, "cursor '" + raw + "' is malformed: pass the next_cursor of the previous page"
                    + " unchanged, or omit it to start over");
        }
    }
}
