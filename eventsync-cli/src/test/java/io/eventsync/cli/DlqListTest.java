package io.eventsync.cli;

import static io.eventsync.cli.InProcessCli.eventsync;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.internal.Logging;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.JdbcDeadLetters;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dlq list} cuts reasons to one line unless {@code --wide}; {@code dlq show} and JSON give the origin. */
class DlqListTest {
    private static final String REASON = "malformed: the record is not an eventsync envelope: " + "protobuf said: "
            + "a message had an invalid wire type ".repeat(6) + "(the end of a long reason)";
    private static final String ORIGIN = "kafka topic shop.orders partition 3 offset 1234; headers {ce_id=<none>}";

    @TempDir
    Path work;

    @BeforeAll
    static void logLikeTheCommand() {
        Logging.configureDefault();
    }

    @Test
    void wideListsWholeReasonsWrappedAndShowGivesTheOrigin() throws Exception {
        String url = "jdbc:h2:file:" + work.resolve("billing") + ";DB_CLOSE_ON_EXIT=FALSE";
        String id;
        try (HikariDataSource ds = new HikariDataSource()) {
            ds.setJdbcUrl(url);
            ds.setUsername("sa");
            EventsyncSchema.install(ds);
            Instant now = Instant.now();
            id = JdbcDeadLetters.create(ds).add(new DeadLetter("letter-1", "billing", DeadLetter.Kind.FAILED,
                    "event-1", "order-7", "shop.OrderPlaced", new byte[] {1, 2, 3}, REASON, List.of(REASON), 1, now,
                    now, ORIGIN, true)).id();
        }
        String[] db = {"--jdbc-url", url, "--user", "sa", "--group", "billing"};

        InProcessCli.Run cut = eventsync(concat(new String[] {"dlq", "list"}, db));
        assertThat(cut.exitCode()).as(cut.stderr()).isZero();
        assertThat(cut.stdout()).contains("...").doesNotContain("(the end of a long reason)");

        InProcessCli.Run wide = eventsync(concat(new String[] {"dlq", "list", "--wide"}, db));
        assertThat(wide.exitCode()).as(wide.stderr()).isZero();
        List<String> lines = wide.stdout().lines().toList();
        int column = lines.get(0).indexOf("reason");
        List<String> reasonLines = lines.subList(1, lines.size() - 1); // between the header and the count
        assertThat(reasonLines).hasSizeGreaterThan(1);
        assertThat(reasonLines.get(0)).startsWith(id);
        assertThat(reasonLines.subList(1, reasonLines.size())).allSatisfy(line -> {
            assertThat(line.substring(0, column)).isBlank();
            assertThat(line.length() - column).isLessThanOrEqualTo(DlqCommand.REASON_WIDTH);
        });
        String joined = String.join(" ", reasonLines.stream().map(l -> l.substring(column).strip()).toList());
        assertThat(joined).isEqualTo(REASON.replaceAll(" +", " ").strip());

        InProcessCli.Run json = eventsync(concat(new String[] {"dlq", "list", "--json"}, db));
        assertThat(json.json().getFieldsOrThrow("list").getListValue().getValues(0).getStructValue()
                .getFieldsOrThrow("origin").getStringValue()).isEqualTo(ORIGIN);
        InProcessCli.Run show = eventsync(concat(new String[] {"dlq", "show", id}, db));
        assertThat(show.exitCode()).as(show.stderr()).isZero();
        assertThat(show.json().getFieldsOrThrow("origin").getStringValue()).isEqualTo(ORIGIN);
        assertThat(show.json().getFieldsOrThrow("reason").getStringValue()).isEqualTo(REASON);
    }

    @Test
    void wrapBreaksAtSpacesAndInsideWordsLongerThanALine() {
        assertThat(DlqCommand.wrap("short", 10)).containsExactly("short");
        assertThat(DlqCommand.wrap("aaa bbb ccc ddd", 7)).containsExactly("aaa bbb", "ccc ddd");
        assertThat(DlqCommand.wrap("abcdefghij", 4)).containsExactly("abcd", "efgh", "ij");
        assertThat(DlqCommand.wrap("one\ntwo", 10)).containsExactly("one", "two");
        assertThat(DlqCommand.wrap("", 10)).containsExactly("");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
