package io.eventsync.http.internal;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.eventsync.http.v1.FeedEntry;
import io.eventsync.v1.Envelope;
import java.nio.charset.StandardCharsets;

/**
 * Writes responses as protobuf or as the protobuf JSON mapping, and builds entries for each.
 *
 * <p>Protobuf entries carry the envelope bytes exactly as stored (no re-encoding; unknown fields
 * survive). JSON entries carry the decoded envelope when the payload type is known to the JSON
 * type registry, so a curl user reads fields; otherwise the bytes (base64), because the JSON mapping
 * of an {@code Any} needs its type.
 */
public final class Representation {
    private final JsonFormat.TypeRegistry jsonTypes;
    private final JsonFormat.Printer printer;

    public Representation(Iterable<Descriptor> payloadTypes) {
        JsonFormat.TypeRegistry.Builder types = JsonFormat.TypeRegistry.newBuilder();
        payloadTypes.forEach(types::add);
        this.jsonTypes = types.build();
        this.printer = JsonFormat.printer().usingTypeRegistry(jsonTypes).omittingInsignificantWhitespace();
    }

    public FeedEntry entry(long offset, byte[] envelopeBytes, MediaType media) {
        FeedEntry.Builder entry = FeedEntry.newBuilder().setOffset(offset);
        if (media == MediaType.JSON) {
            Envelope decoded = decodeForJson(envelopeBytes);
            if (decoded != null) {
                return entry.setEvent(decoded).build();
            }
        }
        return entry.setEnvelope(com.google.protobuf.ByteString.copyFrom(envelopeBytes)).build();
    }

    private Envelope decodeForJson(byte[] bytes) {
        try {
            Envelope envelope = Envelope.parseFrom(bytes);
            if (!envelope.hasPayload() || jsonTypes.find(envelope.getType()) != null) {
                return envelope;
            }
            return null;
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    public byte[] write(Message message, MediaType media) {
        if (media == MediaType.PROTOBUF) {
            return message.toByteArray();
        }
        try {
            return printer.print(message).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            // Only an Any of an unregistered type can fail, and entries avoid that (decodeForJson).
            throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName() + " as JSON", e);
        }
    }
}
