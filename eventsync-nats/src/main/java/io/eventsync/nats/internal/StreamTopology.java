package io.eventsync.nats.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.nats.NatsTransport;
import io.eventsync.transport.SubscriptionSpec;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.IOException;

/**
 * Names and declares the JetStream resources of topics and groups. Declaration is idempotent: the
 * server accepts the same configuration again, and an existing stream is checked to belong to the
 * same topic (two topics differing only in '.' vs '_' would otherwise share a stream).
 */
public final class StreamTopology {
    /** Carries the topic in the stream (metadata needs server 2.10; the description works on 2.9). */
    private static final String DESCRIPTION = "eventsync topic ";

    private final Connection connection;
    private final NatsTransport.Settings settings;

    public StreamTopology(Connection connection, NatsTransport.Settings settings) {
        this.connection = connection;
        this.settings = settings;
    }

    public String streamName(String topic) {
        return settings.streamPrefix() + token(topic);
    }

    public String subject(String topic) {
        return settings.subjectPrefix() + "." + token(topic);
    }

    /** Stream, consumer and subject tokens may not contain '.'. */
    static String token(String name) {
        return name.replace('.', '_');
    }

    /** Creates the topic's stream unless it exists; returns its name. */
    public String ensureStream(String topic) {
        String name = streamName(topic);
        StreamConfiguration config = StreamConfiguration.builder()
                .name(name)
                .description(DESCRIPTION + topic)
                .subjects(subject(topic))
                .storageType(StorageType.File)
                .replicas(settings.replicas())
                .retentionPolicy(settings.retention())
                .maxAge(settings.maxAge())
                .duplicateWindow(settings.duplicateWindow())
                .build();
        JetStreamManagement jsm = management();
        try {
            StreamInfo existing = find(jsm, name);
            if (existing == null) {
                jsm.addStream(config);
            } else {
                requireSameTopic(existing, topic);
            }
            return name;
        } catch (JetStreamApiException e) {
            // A concurrent creator may have won; accept its stream if it is this topic's.
            StreamInfo existing = findOrThrow(jsm, name, e);
            requireSameTopic(existing, topic);
            return name;
        } catch (IOException e) {
            throw new EventsyncException("Cannot declare NATS stream " + name + ": " + e.getMessage(), e);
        }
    }

    /** Creates or updates the group's durable pull consumer; returns its name. */
    public String ensureConsumer(String stream, SubscriptionSpec spec) {
        String durable = token(spec.group());
        ConsumerConfiguration config = ConsumerConfiguration.builder()
                .durable(durable)
                .description("eventsync group " + spec.group() + " (" + spec.mode() + ")")
                .deliverPolicy(DeliverPolicy.All)
                .ackPolicy(AckPolicy.Explicit)
                .ackWait(settings.ackWait())
                .maxDeliver(settings.maxDeliver())
                .maxAckPending(settings.maxAckPending())
                .build();
        try {
            management().addOrUpdateConsumer(stream, config);
            return durable;
        } catch (JetStreamApiException e) {
            throw new ConfigException("Cannot declare NATS consumer " + durable + " on stream " + stream
                    + " for group " + spec.group() + ": " + e.getMessage()
                    + (e.getApiErrorCode() == 10100 || e.getApiErrorCode() == 10099
                    ? " (a work-queue stream allows one group per topic)" : ""), e);
        } catch (IOException e) {
            throw new EventsyncException("Cannot declare NATS consumer " + durable + " on stream " + stream
                    + ": " + e.getMessage(), e);
        }
    }

    private JetStreamManagement management() {
        try {
            return connection.jetStreamManagement();
        } catch (IOException e) {
            throw new EventsyncException("JetStream is not available on the NATS server: " + e.getMessage(), e);
        }
    }

    private static StreamInfo find(JetStreamManagement jsm, String name) throws IOException, JetStreamApiException {
        try {
            return jsm.getStreamInfo(name);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == 10059) { // stream not found
                return null;
            }
            throw e;
        }
    }

    private static StreamInfo findOrThrow(JetStreamManagement jsm, String name, JetStreamApiException cause) {
        try {
            StreamInfo info = find(jsm, name);
            if (info != null) {
                return info;
            }
        } catch (IOException | JetStreamApiException e) {
            cause.addSuppressed(e);
        }
        throw new ConfigException("Cannot create NATS stream " + name + ": " + cause.getMessage(), cause);
    }

    private static void requireSameTopic(StreamInfo existing, String topic) {
        String description = existing.getConfiguration().getDescription();
        String owner = description != null && description.startsWith(DESCRIPTION)
                ? description.substring(DESCRIPTION.length()) : null;
        if (owner != null && !owner.equals(topic)) {
            throw new ConfigException("NATS stream " + existing.getConfiguration().getName() + " belongs to topic "
                    + owner + ", not to topic " + topic + "; rename one of the topics");
        }
    }
}
