package io.eventsync.envelope.internal;

import build.buf.validate.FieldPath;
import build.buf.validate.FieldPathElement;

/** Renders protovalidate field paths the way eventsync reports them: {@code payload.items[2].sku}. */
public final class FieldPaths {
    private FieldPaths() {}

    /** {@code payload} followed by the path; message-level rules name {@code payload} itself. */
    public static String payloadField(FieldPath path) {
        StringBuilder out = new StringBuilder("payload");
        for (FieldPathElement e : path.getElementsList()) {
            out.append('.').append(e.hasFieldName() ? e.getFieldName() : "#" + e.getFieldNumber());
            switch (e.getSubscriptCase()) {
                case INDEX -> out.append('[').append(e.getIndex()).append(']');
                case BOOL_KEY -> out.append('[').append(e.getBoolKey()).append(']');
                case INT_KEY -> out.append('[').append(e.getIntKey()).append(']');
                case UINT_KEY -> out.append('[').append(Long.toUnsignedString(e.getUintKey())).append(']');
                case STRING_KEY -> out.append("[\"").append(e.getStringKey()).append("\"]");
                default -> { }
            }
        }
        return out.toString();
    }
}
