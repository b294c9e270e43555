package io.eventsync.jdbc.internal;

/**
 * Text that every database accepts in a text column: PostgreSQL refuses U+0000, MariaDB and
 * PostgreSQL refuse a lone surrogate (it has no UTF-8 form), and a column has a size. Used for the
 * columns that quote what a stranger wrote (reasons that name a bad value); the bytes themselves are
 * kept apart, unchanged.
 */
public final class DbText {
    private static final char REPLACEMENT = '\uFFFD';
    private static final String CUT = "...";

    private DbText() {}

    /**
     * {@code text} with U+0000 and lone surrogates replaced by U+FFFD, cut to at most {@code maxChars}
     * characters (ending in {@code ...} when cut, never between the two halves of a pair).
     */
    public static String sanitize(String text, int maxChars) {
        if (maxChars <= CUT.length()) {
            throw new IllegalArgumentException("maxChars must be greater than " + CUT.length() + ", but was: " + maxChars);
        }
        if (text == null) {
            return "";
        }
        boolean cut = text.length() > maxChars;
        int limit = cut ? maxChars - CUT.length() : text.length();
        StringBuilder out = new StringBuilder(Math.min(text.length(), maxChars));
        int i = 0;
        while (i < text.length() && out.length() < limit) {
            char c = text.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (pair) {
                if (out.length() + 2 > limit) {
                    break;
                }
                out.append(c).append(text.charAt(i + 1));
                i += 2;
            } else {
                out.append(c == 0 || Character.isSurrogate(c) ? REPLACEMENT : c);
                i++;
            }
        }
        return cut ? out.append(CUT).toString() : out.toString();
    }
}
