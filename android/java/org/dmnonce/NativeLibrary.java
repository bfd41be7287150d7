package org.dmnonce;

/**
 * Loads {@code libdmnonce_jni} once per class loader.
 *
 * <p>On a device the library is found on the default path (it is installed
 * next to the app or in the system image). Host tests may point the system
 * property {@code org.dmnonce.jni.library} at an absolute file instead of
 * relying on {@code -Djava.library.path}.
 */
final class NativeLibrary {
    static final String NAME = "dmnonce_jni";
    static final String PATH_PROPERTY = "org.dmnonce.jni.library";

    static {
        String path = System.getProperty(PATH_PROPERTY);
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary(NAME);
        }
    }

    private NativeLibrary() {}

    /** Forces the static initialiser; an {@link UnsatisfiedLinkError} says why loading failed. */
    static void ensureLoaded() {}
}
