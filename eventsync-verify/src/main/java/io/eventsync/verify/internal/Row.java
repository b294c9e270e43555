package io.eventsync.verify.internal;

import java.util.List;

/**
 * One row read into the JVM.
 *
 * @param rawKey    the key as the driver returns it (to bind it again)
 * @param keyText   the normalized key: the same text on both sides for the same key
 * @param values    the normalized compared values (what is reported)
 * @param hash      the row's hash, computed in the database
 * @param version   the version column's value, or null
 * @param raw       the compared values as the driver returns them (what a repair writes)
 */
record Row(Object rawKey, String keyText, List<String> values, long hash, Long version, List<Object> raw) {}
