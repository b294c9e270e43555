package io.eventsync.http;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Configuration mistakes are refused at build() with the field and the value named. */
class FeedServerConfigTest {
    private final FeedSource source = new FeedSource() {
        @Override public List<LogRecord> read(String topic, long from, int limit) { return List.of(); }
        @Override public LogRange range(String topic) { return LogRange.EMPTY; }
        @Override public boolean await(String topic, long from, Duration timeout) { return false; }
    };

    @Test
    void aServerWithoutClientsOrWithAShortTokenIsRefused() {
        assertThatThrownBy(() -> FeedServer.builder().source(source).feed("t").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("client");
        assertThatThrownBy(() -> FeedServer.builder().source(source).feed("t").client("copy", "short").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("token of 'copy'").hasMessageContaining("16");
    }

    @Test
    void outOfRangeLimitsNameTheFieldAndValue() {
        assertThatThrownBy(() -> FeedServer.builder().source(source).feed("t").client("copy", Fixtures.TOKEN)
                .maxWait(Duration.ofMinutes(10)).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("maxWait").hasMessageContaining("PT10M");
        assertThatThrownBy(() -> FeedServer.builder().source(source).feed("t").client("copy", Fixtures.TOKEN)
                .rateLimit(0, 1).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("rateLimit.perSecond");
    }

    @Test
    void snapshotMappingRefusesIdentifiersThatAreNotPlainNames() {
        assertThatThrownBy(() -> SnapshotMapping.builder("items").topic("t").table("items; DROP TABLE x").keyColumns("id")
                .build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("table").hasMessageContaining("DROP TABLE");
    }

    @Test
    void pullerNeedsALongPollOfAtLeastASecond() {
        FeedClient client = FeedClient.builder(java.net.URI.create("http://127.0.0.1:1")).token(Fixtures.TOKEN).build();
        assertThatThrownBy(() -> HttpFeedTransport.builder(client).pollWait(Duration.ofMillis(10)).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("pollWait").hasMessageContaining("PT0.01S");
    }
}
