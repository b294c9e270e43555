package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.HostileCorpus;
import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.RawRecord;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * The hostile-input contract on the embedded log: entries written with plain SQL ({@link RawLogWriter})
 * into a log on {@link #kind()}, consumed into a copy on PostgreSQL. The log's own malformed entries: an
 * undecodable payload with an empty key column, and a valid event under a key column that is not its key.
 */
abstract class EmbeddedLogHostileInputContract extends HostileInputContract {
    private TestDatabase logDb;
    private RawLogWriter writer;

    abstract TestDatabase.Kind kind();

    @Override
    protected Transport newTransport() {
        logDb = TestDatabase.create(kind());
        return EmbeddedLog.builder().dataSource(logDb.dataSource()).names(logDb.names())
                .leaseDuration(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(1), Duration.ofMillis(50)).build();
    }

    @Override
    protected CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) {
        return PostgresCopy.create(subscription, codec);
    }

    @Override
    protected RawWriter rawWriter(String topic) {
        writer = new RawLogWriter(logDb, topic);
        return writer;
    }

    @Override
    protected void addOwnMalformedRecords(HostileCorpus corpus) {
        byte[] garbage = new byte[40];
        corpus.random().nextBytes(garbage);
        corpus.add(new RawRecord("log-garbage-without-key", garbage, null, Map.of(RawLogWriter.EVENT_KEY, ""),
                RawRecord.Expect.deadLetter(".")));
        String key = corpus.hostileKey("log-other-key");
        corpus.add(new RawRecord("log-key-column-is-not-the-event-key",
                corpus.envelope(key, 1, "other key column").toByteArray(), key,
                Map.of(RawLogWriter.EVENT_KEY, corpus.hostileKey("log-key-column")), RawRecord.Expect.either()));
    }

    @Override
    protected void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception {
        assertThat(Offsets.in(logDb.dataSource(), logDb.names()).load(spec.group(), spec.topic(), "0"))
                .as("stored offset of group %s", spec.group()).isEqualTo(writer.head());
    }

    @AfterEach
    void dropLog() {
        if (logDb != null) {
            logDb.close();
        }
    }
}
