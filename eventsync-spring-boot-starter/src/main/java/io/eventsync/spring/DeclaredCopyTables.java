package io.eventsync.spring;

import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.SchemaNames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The copy tables of {@code eventsync.subscriptions.<name>.copy-tables}, built and checked once at
 * startup. Every error names the property that holds the bad value (as {@code eventsync run} names the
 * line of its pipeline file), so the application fails to start instead of copying wrongly.
 */
public final class DeclaredCopyTables {

    /** One declared copy table: the property prefix it came from, its payload's default instance, the table. */
    public record Declared(String property, Message payloadType, CopyTable table) {}

    private final Map<String, List<Declared>> bySubscription;

    private DeclaredCopyTables(Map<String, List<Declared>> bySubscription) {
        this.bySubscription = bySubscription;
    }

    /** Builds every subscription's copy tables from {@code properties}, loading payload classes with {@code classLoader}. */
    public static DeclaredCopyTables from(EventsyncProperties properties, ClassLoader classLoader) {
        Map<String, List<Declared>> all = new LinkedHashMap<>();
        properties.getSubscriptions().forEach((name, subscription) -> {
            List<Declared> tables = new ArrayList<>();
            Map<String, String> typeProperty = new HashMap<>();
            List<EventsyncProperties.CopyTable> declared = subscription.getCopyTables();
            for (int i = 0; i < declared.size(); i++) {
                String property = "eventsync.subscriptions." + name + ".copy-tables[" + i + "]";
                Declared d = build(property, declared.get(i), classLoader);
                String typeName = d.payloadType().getDescriptorForType().getFullName();
                String earlier = typeProperty.putIfAbsent(typeName, property);
                if (earlier != null) {
                    throw new ConfigException(property + ".type: payload type " + typeName + " is already copied by "
                            + earlier + "; a subscription copies each type to one table");
                }
                tables.add(d);
            }
            all.put(name, List.copyOf(tables));
        });
        return new DeclaredCopyTables(Map.copyOf(all));
    }

    /** The copy tables of one subscription, in declaration order; empty when it declares none. */
    public List<Declared> of(String subscription) {
        return bySubscription.getOrDefault(subscription, List.of());
    }

    /** Creates the copy tables of every subscription with {@code create-tables=true} (idempotent). */
    void createTables(EventsyncProperties properties, DataSource dataSource) {
        properties.getSubscriptions().forEach((name, subscription) -> {
            if (subscription.isCreateTables()) {
                of(name).forEach(d -> d.table().createTable(dataSource));
            }
        });
    }

    private static Declared build(String property, EventsyncProperties.CopyTable p, ClassLoader classLoader) {
        Message payload = payloadType(property + ".type", p.getType(), classLoader);
        String table = identifier(property + ".table", p.getTable());
        CopyTable.Builder builder = CopyTable.builder(payload.getDescriptorForType(), table);
        if (p.getSchema() != null && !p.getSchema().isBlank()) {
            builder.schema(identifier(property + ".schema", p.getSchema()));
        }
        key(property + ".key", p.getKey(), builder);
        builder.versionColumn(identifier(property + ".version-column", p.getVersionColumn()));
        List<String> columns = p.getColumns();
        for (int i = 0; i < columns.size(); i++) {
            column(property + ".columns[" + i + "]", columns.get(i), builder);
        }
        try {
            return new Declared(property, payload, builder.build());
        } catch (ConfigException e) {
            throw new ConfigException(property + ": " + e.getMessage(), e);
        }
    }

    private static void key(String property, EventsyncProperties.Key key, CopyTable.Builder builder) {
        String column = identifier(property + ".column", key.getColumn());
        boolean hasField = key.getField() != null && !key.getField().isBlank();
        if (hasField == key.isFromSubject()) {
            throw new ConfigException(property + ": set either " + property + ".field (the payload field path the key"
                    + " column is filled from) or " + property + ".from-subject=true (the event's subject), not "
                    + (hasField ? "both" : "neither"));
        }
        try {
            if (hasField) {
                builder.key(column, key.getField().trim());
            } else {
                builder.keyFromSubject(column);
            }
        } catch (ConfigException e) {
            throw new ConfigException(property + ".field: " + e.getMessage(), e);
        }
    }

    /** {@code column=field.path}, or {@code field} for a column named like the field. */
    private static void column(String property, String value, CopyTable.Builder builder) {
        String entry = required(property, value);
        int eq = entry.indexOf('=');
        String column = (eq < 0 ? entry : entry.substring(0, eq)).trim();
        String field = (eq < 0 ? entry : entry.substring(eq + 1)).trim();
        if (column.isEmpty() || field.isEmpty()) {
            throw new ConfigException(property + ": must be column=field.path or field, but was '" + value + "'");
        }
        if (!SchemaNames.IDENTIFIER.matcher(column).matches()) {
            throw new ConfigException(property + ": the column name '" + column + "' must be a plain SQL identifier"
                    + " matching " + SchemaNames.IDENTIFIER.pattern() + " (write column=field.path to name it)");
        }
        try {
            builder.column(column, field);
        } catch (ConfigException e) {
            throw new ConfigException(property + ": " + e.getMessage(), e);
        }
    }

    private static Message payloadType(String property, String className, ClassLoader classLoader) {
        String name = required(property, className);
        Class<?> type;
        try {
            type = Class.forName(name, false, classLoader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new ConfigException(property + ": no class " + name + " on the classpath; give the payload's"
                    + " generated protobuf Java class (its java_package and message name), not the protobuf type name", e);
        }
        if (!Message.class.isAssignableFrom(type)) {
            throw new ConfigException(property + ": " + name + " is not a generated protobuf message class");
        }
        try {
            return (Message) type.getMethod("getDefaultInstance").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new ConfigException(property + ": " + name + " is not a generated protobuf message class"
                    + " (no static getDefaultInstance())", e);
        }
    }

    /** A table, schema or column name: checked here so that the error names its property. */
    private static String identifier(String property, String value) {
        String name = required(property, value);
        if (!SchemaNames.IDENTIFIER.matcher(name).matches()) {
            throw new ConfigException(property + " must be a plain SQL identifier matching "
                    + SchemaNames.IDENTIFIER.pattern() + ", but was '" + name + "'");
        }
        return name;
    }

    private static String required(String property, String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException(property + " is required");
        }
        return value.trim();
    }
}
