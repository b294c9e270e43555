package io.eventsync.envelope.internal;

import build.buf.validate.ValidateProto;
import com.google.protobuf.AnyProto;
import com.google.protobuf.ApiProto;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DurationProto;
import com.google.protobuf.EmptyProto;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.FieldMaskProto;
import com.google.protobuf.SourceContextProto;
import com.google.protobuf.StructProto;
import com.google.protobuf.TimestampProto;
import com.google.protobuf.TypeProto;
import com.google.protobuf.WrappersProto;
import io.eventsync.ConfigException;
import io.eventsync.v1.EnvelopeProto;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds file descriptors from a descriptor set, resolving imports. Files this JVM already has as
 * generated code (well-known types, buf/validate/validate.proto, the envelope) are always taken from
 * the classpath, so their options and extensions are the real ones and there is one copy of each type.
 */
public final class DescriptorSets {
    private static final Map<String, FileDescriptor> BUILT_IN = Stream.of(
                    AnyProto.getDescriptor(), ApiProto.getDescriptor(), DescriptorProtos.getDescriptor(),
                    DurationProto.getDescriptor(), EmptyProto.getDescriptor(), FieldMaskProto.getDescriptor(),
                    SourceContextProto.getDescriptor(), StructProto.getDescriptor(), TimestampProto.getDescriptor(),
                    TypeProto.getDescriptor(), WrappersProto.getDescriptor(), ValidateProto.getDescriptor(),
                    EnvelopeProto.getDescriptor())
            .collect(Collectors.toUnmodifiableMap(FileDescriptor::getName, Function.identity()));

    private static final ExtensionRegistry EXTENSIONS = newExtensions();

    private DescriptorSets() {}

    /** Extensions used in descriptor options (the buf.validate rules), so they parse as known fields. */
    public static ExtensionRegistry extensions() {
        return EXTENSIONS;
    }

    /** Builds the file {@code name} and, first, its imports; {@code built} caches results across calls. */
    public static FileDescriptor build(String name, Map<String, FileDescriptorProto> files,
            Map<String, FileDescriptor> built) throws DescriptorValidationException {
        return build(name, files, built, new HashSet<>());
    }

    private static FileDescriptor build(String name, Map<String, FileDescriptorProto> files,
            Map<String, FileDescriptor> built, Set<String> inProgress) throws DescriptorValidationException {
        FileDescriptor known = BUILT_IN.get(name);
        if (known == null) {
            known = built.get(name);
        }
        if (known != null) {
            return known;
        }
        FileDescriptorProto proto = files.get(name);
        if (proto == null) {
            throw new ConfigException("descriptor set: file '" + name + "' is imported but not in the set:"
                    + " build the set with its imports (protoc --include_imports, buf build)");
        }
        if (!inProgress.add(name)) {
            throw new ConfigException("descriptor set: file '" + name + "' imports itself (import cycle)");
        }
        List<String> imports = proto.getDependencyList();
        FileDescriptor[] deps = new FileDescriptor[imports.size()];
        for (int i = 0; i < deps.length; i++) {
            deps[i] = build(imports.get(i), files, built, inProgress);
        }
        FileDescriptor file = FileDescriptor.buildFrom(proto, deps);
        inProgress.remove(name);
        built.put(name, file);
        return file;
    }

    private static ExtensionRegistry newExtensions() {
        ExtensionRegistry registry = ExtensionRegistry.newInstance();
        ValidateProto.registerAllExtensions(registry);
        return registry.getUnmodifiable();
    }
}
