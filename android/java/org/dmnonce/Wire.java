package org.dmnonce;

/** Maps the control protocol's wire names (docs/protocol.md) to Java enums. */
final class Wire {
    private Wire() {}

    /** A value of an enum that carries its wire name. */
    interface Named {
        String wireName();
    }

    /**
     * The constant whose wire name is {@code name}. The native layer only
     * passes names it got from a parsed protocol message, so a miss is a
     * version skew between the Java classes and the library: a bug.
     */
    static <E extends Enum<E> & Named> E fromWire(Class<E> type, String name) {
        for (E e : type.getEnumConstants()) {
            if (e.wireName().equals(name)) {
                return e;
            }
        }
        throw new IllegalStateException(
                "dmnonce: " + type.getSimpleName() + " has no value named \"" + name
                        + "\"; libdmnonce_jni and the Java classes are from different versions");
    }

    static <E extends Enum<E> & Named> E fromWireOrNull(Class<E> type, String name) {
        return name == null ? null : fromWire(type, name);
    }
}
