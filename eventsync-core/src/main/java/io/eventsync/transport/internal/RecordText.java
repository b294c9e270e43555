package io.eventsync.transport.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Renders what a transport record carries besides its value (header values, properties, keys) for a
 * {@code Delivery}'s origin and defect: quoted, bounded, with control characters (NUL included) and
 * invalid UTF-8 written as escapes, so that the text names the bad value exactly and can never itself
 * break a log line or a database text column.
 *
 * <p>Shared by the transport modules. Machinery, not public API: it may change without notice.
 */
public final class RecordText {
    /** Characters of one rendered value at most; longer values end in "...(N chars)". */
    public static final int MAX_VALUE = 200;
    /** Characters of a whole origin at most. */
    public static final int MAX_ORIGIN = 4_000;

    private RecordText() {
    }

    /** {@code 'value'} with control characters escaped ({@code \u0000}) and cut after {@link #MAX_VALUE}. */
    public static String quoted(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX_VALUE) + 2).append('\'');
        int shown = Math.min(value.length(), MAX_VALUE);
        if (shown < value.length() && Character.isHighSurrogate(value.charAt(shown - 1))) {
            shown--; // never cut a pair in two
        }
        for (int i = 0; i < shown; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogateAt(value, i)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (value.length() > shown) {
            out.append("...(").append(value.length()).append(" chars)");
        }
        return out.append('\'').toString();
    }

    /** The bytes as UTF-8 text, quoted; when they are not valid UTF-8, says so and shows them in hex. */
    public static String quoted(byte[] utf8) {
        if (utf8 == null) {
            return "null";
        }
        String text = utf8OrNull(utf8);
        return text != null ? quoted(text) : "not UTF-8: " + hex(utf8);
    }

    /** The bytes decoded as strict UTF-8, or null when they are not valid UTF-8. */
    public static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Hex of at most {@code MAX_VALUE / 2} bytes, e.g. {@code 0xc328} or {@code 0xffff...(300 bytes)}. */
    public static String hex(byte[] bytes) {
        int shown = Math.min(bytes.length, MAX_VALUE / 2);
        StringBuilder out = new StringBuilder(shown * 2 + 2).append("0x");
        for (int i = 0; i < shown; i++) {
            out.append(Character.forDigit((bytes[i] >> 4) & 0xf, 16)).append(Character.forDigit(bytes[i] & 0xf, 16));
        }
        if (bytes.length > shown) {
            out.append("...(").append(bytes.length).append(" bytes)");
        }
        return out.toString();
    }

    /** {@code origin} cut to {@link #MAX_ORIGIN} characters. */
    public static String bounded(String origin) {
        return origin.length() <= MAX_ORIGIN ? origin
                : origin.substring(0, MAX_ORIGIN) + "...(" + origin.length() + " chars)";
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
