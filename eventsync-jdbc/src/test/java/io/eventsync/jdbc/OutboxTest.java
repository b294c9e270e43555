package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.Position;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OutboxTest {

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void rolledBackTransactionWritesNothingAndCommittedOneWritesBoth(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            db.execute("CREATE TABLE orders (id VARCHAR(20) PRIMARY KEY, total INT)");
            Outbox outbox = Outbox.of("shop", db.names());
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO orders VALUES ('o1', 10)");
                }
                outbox.append(c, TestEvents.event("shop", "o1", 1));
                c.rollback();

                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO orders VALUES ('o2', 20)");
                }
                Position first = outbox.append(c, TestEvents.event("shop", "o2", 1));
                Position second = outbox.append(c, TestEvents.event("shop", "o2", 2), TestEvents.event("shop", "o2", 3));
                c.commit();
                assertThat(first.source()).isEqualTo("shop");
                assertThat(second.value()).isGreaterThan(first.value());
            }
            assertThat(db.count("outbox")).isEqualTo(3);
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                 var rs = st.executeQuery("SELECT COUNT(*) FROM orders")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void appendToAMissingTableNamesTheTable(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            Outbox outbox = Outbox.of("shop", db.names().withPrefix("missing_"));
            try (Connection c = db.dataSource().getConnection()) {
                assertThatThrownBy(() -> outbox.append(c, TestEvents.event("shop", "o1", 1)))
                        .isInstanceOf(ConfigException.class)
                        .hasMessageContaining(db.names().schema() + ".missing_outbox")
                        .hasMessageContaining("does not exist");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void eventOverTheSizeLimitIsRefusedInTheWritersTransactionNamingSizeAndLimit(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            Outbox outbox = Outbox.of("shop", db.names()).maxEventBytes(1024);
            Envelope big = TestEvents.event("shop", "o1", 1).toBuilder()
                    .setPayload(Any.pack(StringValue.of("x".repeat(2000)))).build();
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                assertThatThrownBy(() -> outbox.append(c, big))
                        .isInstanceOf(PermanentException.class)
                        .hasMessageContaining(big.getId())
                        .hasMessageContaining(big.getSerializedSize() + " bytes")
                        .hasMessageContaining("limit of 1008 bytes");
                outbox.append(c, TestEvents.event("shop", "o2", 1));
                c.commit();
            }
            assertThat(db.count("outbox")).isEqualTo(1);
        }
    }
}
