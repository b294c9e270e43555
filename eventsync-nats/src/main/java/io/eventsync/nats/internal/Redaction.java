package io.eventsync.nats.internal;

import java.util.regex.Pattern;

/** Removes the user:password part of URLs from text that may be logged or thrown. */
public final class Redaction {
    private static final Pattern USER_INFO = Pattern.compile("//[^/@\\s\\]]*@");

    private Redaction() {
    }

    public static String redact(String text) {
        return text == null ? null : USER_INFO.matcher(text).replaceAll("//***@");
    }

    /** A copy of {@code e} whose message is redacted, with its stack but without its (unredacted) causes. */
    public static Exception redacted(Exception e) {
        Exception copy = new Exception(e.getClass().getName() + ": " + redact(e.getMessage()));
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }
}
