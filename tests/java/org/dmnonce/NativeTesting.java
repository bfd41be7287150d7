package org.dmnonce;

/**
 * Test-only entry points of libdmnonce_jni, present only when it is built
 * with {@code --features testing} (rust/jni/src/testing.rs). They run through
 * the same panic boundary and conversions as the real methods.
 */
final class NativeTesting {
    static {
        NativeLibrary.ensureLoaded();
    }

    private NativeTesting() {}

    /** Panics inside the boundary; must throw {@link AssertionError}. */
    static native int panic();

    /** Throws what the bridge throws for an error of this wire name. */
    static native void throwFor(String code, String message) throws DmNonceException;

    /** Throws a class that does not exist; must fall back to {@link AssertionError}. */
    static native void throwMissingClass();

    /** {@code count} AccountInfos built by the code behind {@code status()}. */
    static native AccountInfo[] accountInfos(int count);
}
