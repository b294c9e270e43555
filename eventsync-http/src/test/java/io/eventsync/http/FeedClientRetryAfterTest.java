package io.eventsync.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Whatever a server puts in {@code Retry-After}, the puller waits a bounded, non-negative time. */
class FeedClientRetryAfterTest {
    @Test
    void secondsAreHonouredUpToTheCap() {
        assertThat(FeedClient.seconds("3")).contains(Duration.ofSeconds(3));
        assertThat(FeedClient.seconds(" 30 ")).contains(Duration.ofSeconds(30));
        assertThat(FeedClient.seconds("300")).contains(FeedClient.MAX_RETRY_AFTER);
        assertThat(FeedClient.seconds("301")).contains(FeedClient.MAX_RETRY_AFTER);
    }

    @Test
    void aHostileHeaderCannotParkThePuller() {
        assertThat(FeedClient.seconds(Long.toString(Long.MAX_VALUE))).contains(FeedClient.MAX_RETRY_AFTER);
        assertThat(FeedClient.seconds("-5")).isEmpty();
        assertThat(FeedClient.seconds("99999999999999999999999")).isEmpty();
        assertThat(FeedClient.seconds("Wed, 21 Oct 2015 07:28:00 GMT")).isEmpty();
        assertThat(FeedClient.seconds("")).isEmpty();
    }
}
