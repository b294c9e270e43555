package io.eventsync.envelope.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.io.IOException;
import com.google.protobuf.WireFormat;

/**
 * Finds which field of a message's wire bytes is malformed, so a decode error can say
 * "field 4 (subject): invalid UTF-8" instead of protobuf's field-less "invalid UTF-8". It runs only
 * after the real parser has failed, so it favours a precise message over speed. It never throws.
 */
public final class WireDiagnosis {
    private WireDiagnosis() {}

    /** The first problem found reading {@code bytes} as {@code type}, or {@code null} if none is found. */
    public static String firstProblem(ByteString bytes, Descriptor type, int maxDepth) {
        try {
            return walk(bytes, type, "", 0, maxDepth);
        } catch (RuntimeException | StackOverflowError e) {
            return null; // the caller falls back to the parser's own message
        }
    }

    /** Words for a protobuf parse failure: "truncated message", "malformed varint", ... */
    public static String describe(IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("ended unexpectedly") || m.contains("truncated")) {
            return "truncated message";
        }
        if (m.contains("invalid UTF-8")) {
            return "invalid UTF-8";
        }
        if (m.contains("malformed varint")) {
            return "malformed varint";
        }
        if (m.contains("invalid tag") || m.contains("invalid wire type")) {
            return "invalid tag or wire type";
        }
        if (m.contains("recursion") || m.contains("nesting")) {
            return "nesting deeper than the recursion limit";
        }
        if (m.contains("negative size")) {
            return "negative length";
        }
        if (m.contains("too large") || m.contains("size limit")) {
            return "over the size limit";
        }
        return m;
    }

    private static String walk(ByteString bytes, Descriptor type, String path, int depth, int maxDepth) {
        if (depth > maxDepth) {
            return path + "nesting deeper than the " + maxDepth + "-level recursion limit";
        }
        CodedInputStream in = bytes.newCodedInput();
        in.enableAliasing(true); // nested messages are read as slices, not copied once per level
        in.setRecursionLimit(Math.max(0, maxDepth - depth));
        int lastField = 0;
        while (true) {
            int tag;
            try {
                tag = in.readTag();
            } catch (IOException e) {
                return path + describe(e) + " at byte " + in.getTotalBytesRead() + afterField(type, lastField);
            }
            if (tag == 0) {
                return null;
            }
            int number = WireFormat.getTagFieldNumber(tag);
            FieldDescriptor field = type == null ? null : type.findFieldByNumber(number);
            String label = path + label(number, field);
            String problem;
            try {
                problem = field(in, tag, field, label, depth, maxDepth);
            } catch (IOException e) {
                return label + ": " + describe(e);
            }
            if (problem != null) {
                return problem;
            }
            lastField = number;
        }
    }

    private static String field(CodedInputStream in, int tag, FieldDescriptor field, String label, int depth,
            int maxDepth) throws IOException {
        boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
        if (field == null || !delimited) {
            in.skipField(tag);
            return null;
        }
        if (field.getType() == FieldDescriptor.Type.STRING) {
            ByteString value = in.readBytes();
            return field.needsUtf8Check() && !value.isValidUtf8() ? label + ": invalid UTF-8" : null;
        }
        if (field.getType() == FieldDescriptor.Type.MESSAGE) {
            return walk(in.readBytes(), field.getMessageType(), label + " > ", depth + 1, maxDepth);
        }
        in.skipField(tag);
        return null;
    }

    private static String label(int number, FieldDescriptor field) {
        return field == null ? "field " + number : "field " + number + " (" + field.getName() + ")";
    }

    private static String afterField(Descriptor type, int lastField) {
        if (lastField == 0) {
            return "";
        }
        return ", after " + label(lastField, type == null ? null : type.findFieldByNumber(lastField));
    }
}
