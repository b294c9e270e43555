package io.eventsync.kafka.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Record bytes made safe to show in a dead letter's reason or origin: quoted, bounded, with control
 * characters and bytes that are not UTF-8 escaped ({@code \n}, {@code \u0000}, {@code \xff}), so that
 * a hostile header can neither forge a line in a log nor break the text columns it is stored in.
 */
final class RecordText {
    /** Longest quoted value in a defect message; the letter keeps the full record anyway. */
    static final int MAX_QUOTED_CHARS = 200;

    private RecordText() {
    }

    /** {@code 'value'}, escaped, cut after {@link #MAX_QUOTED_CHARS} characters with the full length noted. */
    static String quote(byte[] raw) {
        if (raw == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(raw.length, MAX_QUOTED_CHARS) + 2).append('\'');
        boolean complete = appendEscaped(out, raw, MAX_QUOTED_CHARS);
        out.append('\'');
        if (!complete) {
            out.append(" (cut, ").append(raw.length).append(" bytes)");
        }
        return out.toString();
    }

    static String quote(String text) {
        return quote(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The headers as {@code name='value', ...} in record order, escaped, at most {@code maxChars} long
     * (then {@code ... (N more headers)}).
     */
    static String headers(Headers headers, int maxChars) {
        StringBuilder out = new StringBuilder();
        int shown = 0;
        int total = 0;
        for (Header header : headers) {
            total++;
            if (out.length() >= maxChars) {
                continue;
            }
            StringBuilder one = new StringBuilder();
            appendEscaped(one, header.key().getBytes(StandardCharsets.UTF_8), MAX_QUOTED_CHARS);
            one.append('=').append(header.value() == null ? "null" : quote(header.value()));
            if (out.length() + one.length() + 2 > maxChars) {
                continue;
            }
            if (shown > 0) {
                out.append(", ");
            }
            out.append(one);
            shown++;
        }
        if (shown < total) {
            out.append(shown > 0 ? ", " : "").append("... (").append(total - shown).append(" more headers)");
        }
        return out.toString();
    }

    /** Strict UTF-8, or null when {@code raw} is not valid UTF-8. */
    static String utf8OrNull(byte[] raw) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Appends {@code raw} escaped; false when it was cut at {@code maxChars} code points. */
    private static boolean appendEscaped(StringBuilder out, byte[] raw, int maxChars) {
        int i = 0;
        int written = 0;
        while (i < raw.length) {
            if (written++ >= maxChars) {
                return false;
            }
            int length = sequenceLength(raw, i);
            if (length == 0) {
                out.append(String.format("\\x%02x", raw[i] & 0xff));
                i++;
                continue;
            }
            int codePoint = new String(raw, i, length, StandardCharsets.UTF_8).codePointAt(0);
            if (Character.isBmpCodePoint(codePoint)) {
                appendChar(out, (char) codePoint);
            } else {
                out.appendCodePoint(codePoint);
            }
            i += length;
        }
        return true;
    }

    /** Length of the well-formed UTF-8 sequence at {@code i} (RFC 3629: no overlongs, no surrogates), or 0. */
    private static int sequenceLength(byte[] raw, int i) {
        int b = raw[i] & 0xff;
        int length;
        int min;
        if (b < 0x80) {
            return 1;
        } else if (b >= 0xc2 && b <= 0xdf) {
            length = 2;
            min = 0x80;
        } else if (b >= 0xe0 && b <= 0xef) {
            length = 3;
            min = 0x800;
        } else if (b >= 0xf0 && b <= 0xf4) {
            length = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + length > raw.length) {
            return 0;
        }
        int codePoint = b & (0xff >> (length + 1));
        for (int k = 1; k < length; k++) {
            int next = raw[i + k] & 0xff;
            if ((next & 0xc0) != 0x80) {
                return 0;
            }
            codePoint = (codePoint << 6) | (next & 0x3f);
        }
        if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
            return 0;
        }
        return length;
    }

    private static void appendChar(StringBuilder out, char c) {
        switch (c) {
            case '\'' -> out.append("\\'");
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            default -> {
                if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029'
                        || c == '\ufeff') {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
    }
}
