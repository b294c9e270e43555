package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Decoding pgoutput messages as PostgreSQL 15 wrote them (captured with
 * {@code pg_logical_slot_peek_binary_changes(..., 'proto_version', '1', 'messages', 'true', 'binary', 'true')}).
 */
class PgOutputTest {

    private static PgOutput.Message decode(String hex) {
        return PgOutput.decode(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
    }

    @Test
    void decodesATransactionWithALogicalMessage() {
        assertThat(decode("420000000001942ef0000304a59ee3eec9000002d6"))
                .isEqualTo(new PgOutput.Begin(0x1942EF0L, 0x304a59ee3eec9L, 726));
        PgOutput.LogicalMessage m = (PgOutput.LogicalMessage)
                decode("4d010000000001942ea86576656e7473796e633a78000000000568656c6c6f");
        assertThat(m.transactional()).isTrue();
        assertThat(m.lsn()).isEqualTo(0x1942EA8L); // what pg_logical_emit_message returned to the writer
        assertThat(m.prefix()).isEqualTo("eventsync:x");
        assertThat(new String(m.content(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(decode("43000000000001942ef00000000001942f20000304a59ee3eec9"))
                .isEqualTo(new PgOutput.Commit(0x1942EF0L, 0x1942F20L, 0x304a59ee3eec9L));
    }

    @Test
    void decodesARelationAndAnInsertInBinaryFormat() {
        PgOutput.Relation r = (PgOutput.Relation) decode("52000040087075626c696300745f6f7574006400040169640000000014ffffffff"
                + "00736f757263650000000413000000cc007061796c6f61640000000011ffffffff007365710000000014ffffffff");
        assertThat(r.id()).isEqualTo(0x4008);
        assertThat(r.namespace()).isEqualTo("public");
        assertThat(r.name()).isEqualTo("t_out");
        assertThat(r.columns()).containsExactly("id", "source", "payload", "seq");
        PgOutput.Insert i = (PgOutput.Insert) decode("49000040084e0004620000000800000000000000016200000001736200000002"
                + "010262000000080000000000000007");
        assertThat(i.relation()).isEqualTo(0x4008);
        assertThat(PgOutput.int8(i, 0)).isEqualTo(1);
        assertThat(PgOutput.text(i, 1)).isEqualTo("s");
        assertThat(PgOutput.bytea(i, 2)).containsExactly(1, 2);
        assertThat(PgOutput.int8(i, 3)).isEqualTo(7);
        // A DELETE is not an event.
        assertThat(decode("44000040084b0004620000000800000000000000016e6e6e")).isEqualTo(new PgOutput.Other('D'));
    }

    @Test
    void readsTextFormatValuesToo() {
        // 'I', relation 1, 'N', 2 columns: text "42", text "\x0aff"
        PgOutput.Insert i = (PgOutput.Insert) decode("49" + "00000001" + "4e" + "0002"
                + "74" + "00000002" + "3432" + "74" + "00000006" + "5c7830616666");
        assertThat(PgOutput.int8(i, 0)).isEqualTo(42);
        assertThat(PgOutput.bytea(i, 1)).containsExactly(0x0a, 0xff);
    }
}
