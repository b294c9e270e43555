package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;

/**
 * A place in the binary log: a file ({@code binlog.000042}) and a byte offset in it. The relay keeps
 * positions in its confirm window as one number, {@link #ordinal()}: the file's sequence number in the
 * high 32 bits and the offset in the low 32 (the binlog format caps a file at 4 GiB), so later positions
 * are larger numbers across file rotations.
 */
public record BinlogPosition(String file, long offset) {
    public BinlogPosition {
        if (file == null || file.isBlank()) {
            throw new ConfigException("a binlog position needs a file name, but was: " + file);
        }
        if (offset < 0 || offset > 0xFFFF_FFFFL) {
            throw new ConfigException("a binlog offset is 0..4294967295, but was: " + offset + " in " + file);
        }
        sequence(file); // validates the name
    }

    public long ordinal() {
        return (sequence(file) << 32) | offset;
    }

    /** The sequence number of a binlog file name: the digits after its last dot. */
    public static long sequence(String file) {
        int dot = file.lastIndexOf('.');
        try {
            return Long.parseLong(file.substring(dot + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException("a binlog file name ends in .<number>, but was: " + file);
        }
    }

    @Override
    public String toString() {
        return file + ":" + offset;
    }
}
